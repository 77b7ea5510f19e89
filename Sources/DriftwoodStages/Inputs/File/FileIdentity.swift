#if canImport(Glibc)
import Glibc
#endif
import DriftwoodCore

/// Which file this is, whatever its name: device and inode, plus a fingerprint of its first
/// bytes, so a new file that reuses a deleted file's inode is not taken for it (docs/delivery.md).
struct FileKey: Hashable, Sendable {
    let device: UInt64
    let inode: UInt64
}

/// A hash of a file's first `length` bytes. A file shorter than the fingerprint length is
/// fingerprinted over what it has, and the fingerprint grows with the file.
struct Fingerprint: Hashable, Sendable {
    var length: Int
    var hash: UInt64

    static let empty = Fingerprint(length: 0, hash: 0)

    /// The fingerprint of the first `min(limit, size)` bytes of the open file; nil on a read error.
    static func of(fd: Int32, limit: Int) -> Fingerprint? {
        var buffer = [UInt8](repeating: 0, count: limit)
        guard let got = try? buffer.withUnsafeMutableBytes({ try FileReader.preadFully(fd, $0, at: 0) }) else { return nil }
        return buffer.withUnsafeBufferPointer {
            Fingerprint(length: got, hash: Hash64.hash(UnsafeBufferPointer(rebasing: $0[0..<got]), seed: 0x6669_6c65))
        }
    }

    /// True when the open file still starts with the bytes this fingerprint was taken over.
    func matches(fd: Int32) -> Bool {
        guard length > 0 else { return true }
        guard let now = Fingerprint.of(fd: fd, limit: length) else { return false }
        return now == self
    }
}
