#if canImport(Glibc)
import Glibc
#endif
import DriftwoodCore

/// Copy-truncate rotation without reading anything twice.
///
/// `logrotate`'s `copytruncate` copies `x.log` to `x.log.1` and truncates `x.log`; with
/// `delaycompress`, `x.log.1` is later compressed to `x.log.2.gz`. Each copy is a new file (a new
/// inode) holding bytes already read. So when a file's content goes (truncated, or the file
/// released for good), what was read of it is remembered as a `Mark`: a fingerprint of its first
/// bytes, how far it was read, and a hash of the bytes just before that point. A new file whose
/// first bytes (decompressed, for gzip) match a mark, and whose bytes before the mark's offset
/// match too (plain files), is a copy: it is read only from where the original had got to, with
/// the original's event ids. A new file that matches a file still being read is held (not read)
/// until that file is truncated or released, or for `wait` seconds.
final class CopyTracker {
    /// What was read of one content.
    struct Mark {
        var fingerprint: Fingerprint
        /// Read and sent up to here (the first byte not yet in a batch).
        var offset: UInt64
        /// Hash of the `tailBytes` (fewer at the start) bytes before `offset`; nil if unknown.
        var tail: UInt64?
        /// The original's event-id basis: a copy's events get the ids the original's would have.
        var source: UInt64
        var time: Double
    }

    /// Bytes hashed before a read position (a line or so: enough to tell a copy from a file that
    /// merely starts alike).
    static let tailBytes = 64
    /// Fewer first bytes than this prove nothing.
    static let minimumFingerprint = 64
    /// Marks kept, and for how long.
    static let capacity = 1024
    static let lifetime = 600.0

    private(set) var marks: [Mark] = []
    /// New files held as copies of a file still being read, since when.
    var waiting: [FileKey: Double] = [:]
    /// How long a new file that looks like a copy of a live file is held.
    let wait: Double

    init(wait: Double) { self.wait = wait }

    func remember(_ mark: Mark) {
        guard mark.fingerprint.length >= Self.minimumFingerprint, mark.offset > 0 else { return }
        marks.append(mark)
        if marks.count > Self.capacity { marks.removeFirst(marks.count - Self.capacity) }
    }

    func expire(now: Double) {
        if let first = marks.first, now - first.time > Self.lifetime { marks.removeAll { now - $0.time > Self.lifetime } }
    }

    /// What to do with a new file.
    enum Verdict: Equatable {
        /// Not a copy: read it as a new file.
        case new
        /// A copy: read from `offset`, with ids based on `source`.
        case copy(offset: UInt64, source: UInt64)
        /// Looks like a copy of a file still being read: look again at the next scan.
        case hold
    }

    /// A new file, as far as telling whether it is a copy needs.
    struct Candidate {
        let key: FileKey
        /// Size of the file (plain) or nil (gzip: its content's size is not known).
        let plainSize: UInt64?
        /// Its first bytes' fingerprint over `length` bytes (nil when it has fewer).
        let fingerprint: (Int) -> Fingerprint?
        /// Hash of its bytes before an offset (plain files; nil when unknown).
        let tail: (UInt64) -> UInt64?
    }

    /// Decides about a new file; `copiesLive`: its bytes are those of a file still being read
    /// (so far as they go: a copy may still be being made). Against `only` alone when given.
    func verdict(for c: Candidate, copiesLive: Bool, now: Double, only: Mark? = nil) -> Verdict {
        let since = waiting[c.key] ?? now
        if copiesLive && now - since < wait {
            waiting[c.key] = since
            return .hold
        }
        waiting[c.key] = nil
        var best: (offset: UInt64, source: UInt64)?
        var byLength: [Int: Fingerprint?] = [:]
        for mark in only.map({ [$0] }) ?? marks {
            let length = mark.fingerprint.length
            if byLength[length] == nil { byLength[length] = .some(c.fingerprint(length)) }
            guard byLength[length]! == mark.fingerprint else { continue }
            var offset = mark.offset
            if let size = c.plainSize {
                if size >= mark.offset {
                    if let tail = mark.tail, c.tail(mark.offset) != tail { continue }
                } else {
                    offset = size  // copied before the original was read this far: all read
                }
            }
            if best == nil || offset > best!.offset { best = (offset, mark.source) }
        }
        if let best { return .copy(offset: best.offset, source: best.source) }
        return .new
    }

    /// Hash of the bytes before `offset` in an open plain file (nil on a read error).
    static func tail(of fd: Int32, before offset: UInt64) -> UInt64? {
        let n = Int(min(UInt64(tailBytes), offset))
        var buffer = [UInt8](repeating: 0, count: n)
        guard let got = try? buffer.withUnsafeMutableBytes({ try FileReader.preadFully(fd, $0, at: offset - UInt64(n)) }),
            got == n
        else { return nil }
        return buffer.withUnsafeBufferPointer { Hash64.hash($0, seed: 0x7461_696C) }
    }

    /// The first `limit` bytes of a file's content: read with `pread` (plain), or decompressed
    /// through a reader of its own (gzip).
    static func head(of reader: FileReader, path: String, gzip: Bool, limit: Int) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: limit)
        if !gzip {
            let got = (try? buffer.withUnsafeMutableBytes { try FileReader.preadFully(reader.fd, $0, at: 0) }) ?? 0
            return Array(buffer[0..<got])
        }
        guard let other = try? FileReader(path: path) else { return [] }
        var st1 = stat()
        var st2 = stat()
        guard fstat(other.fd, &st1) == 0, fstat(reader.fd, &st2) == 0, st1.st_ino == st2.st_ino else { return [] }
        var got = 0
        while got < limit {
            let n = (try? buffer.withUnsafeMutableBufferPointer { b in
                try other.read(into: UnsafeMutableBufferPointer(rebasing: b[got...]))
            }) ?? 0
            if n == 0 { break }
            got += n
        }
        return Array(buffer[0..<got])
    }
}

extension Fingerprint {
    /// The fingerprint of these bytes (as `of(fd:limit:)` takes over a file's first bytes).
    static func of(bytes: ArraySlice<UInt8>) -> Fingerprint {
        bytes.withUnsafeBufferPointer { Fingerprint(length: bytes.count, hash: Hash64.hash($0, seed: 0x6669_6c65)) }
    }
}
