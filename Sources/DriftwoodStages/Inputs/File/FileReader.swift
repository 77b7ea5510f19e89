#if canImport(Glibc)
import Glibc
#endif
import CZlib
import Synchronization

/// Reads one open file's bytes in order, from a given position: plain, or gzip told apart by
/// its magic bytes (not its name), every member of a multi-member file included. Positions are
/// in decompressed bytes, so a replay interrupted mid-archive resumes at the right line.
final class FileReader {
    let fd: Int32
    /// Bytes of the file itself consumed (compressed bytes for gzip): replay progress.
    private(set) var rawOffset: UInt64 = 0
    /// Position of the next byte `read` returns, in the file's (decompressed) content.
    private(set) var position: UInt64 = 0
    /// nil until the first bytes tell.
    private(set) var isGzip: Bool?
    /// The gzip data is damaged: nothing more is read from this file.
    private(set) var damaged: String?

    private var stream: UnsafeMutablePointer<z_stream>?
    private var compressed: [UInt8] = []
    private var compressedStart = 0
    private var compressedEnd = 0
    private var memberEnded = false

    /// Linux's O_NOATIME (only defined for _GNU_SOURCE, which Swift's Glibc module leaves out).
    static let noAccessTime: Int32 = 0o1000000

    /// Files open for reading in this process (every file input), against the descriptor limit.
    static let openCount = Atomic<Int>(0)

    /// Opens `path` for reading. Throws the errno on failure, `NotRegular` when what is at the
    /// path now is not a regular file.
    ///
    /// The scan saw a regular file, but the path can be swapped since (for a FIFO, whose open
    /// would block until a writer comes, forever if it is then unlinked; or a device). So the
    /// open never blocks (O_NONBLOCK), what was opened is checked with fstat, and only then is
    /// the descriptor made blocking again. Without `followSymlinks`, a symbolic link at the path
    /// is refused (O_NOFOLLOW) however the path changed since the scan.
    init(path: String, followSymlinks: Bool = true) throws {
        // O_NOATIME: reading a log must not write its inode (allowed for the file's owner only).
        let flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | (followSymlinks ? 0 : O_NOFOLLOW)
        var opened = open(path, flags | Self.noAccessTime)
        if opened < 0 && errno == EPERM { opened = open(path, flags) }
        guard opened >= 0 else { throw ReadFailure(errno: errno) }
        var st = stat()
        guard fstat(opened, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            let mode = st.st_mode & S_IFMT
            close(opened)
            throw NotRegular(kind: Self.kind(mode))
        }
        _ = fcntl(opened, F_SETFL, fcntl(opened, F_GETFL) & ~O_NONBLOCK)
        fd = opened
        Self.openCount.add(1, ordering: .relaxed)
    }

    /// What was at the path was not a regular file.
    struct NotRegular: Error, CustomStringConvertible {
        let kind: String
        var description: String { "not a regular file (\(kind))" }
    }

    static func kind(_ mode: mode_t) -> String {
        switch mode {
        case S_IFIFO: "a FIFO"
        case S_IFCHR: "a character device"
        case S_IFBLK: "a block device"
        case S_IFSOCK: "a socket"
        case S_IFDIR: "a directory"
        case S_IFLNK: "a symbolic link"
        default: "mode \(String(mode, radix: 8))"
        }
    }

    deinit {
        Self.openCount.subtract(1, ordering: .relaxed)
        if let stream {
            inflateEnd(stream)
            stream.deallocate()
        }
        close(fd)
    }

    struct ReadFailure: Error, CustomStringConvertible {
        let errno: Int32
        var description: String { String(cString: strerror(errno)) }
    }

    /// Starts a plain file at `offset` (a checkpoint). Gzip files always start at 0: the caller
    /// skips decompressed bytes up to its offset.
    func seekPlain(to offset: UInt64) {
        rawOffset = offset
        position = offset
    }

    /// Size of the file now (0 if it cannot be told).
    var size: UInt64 {
        var st = stat()
        return fstat(fd, &st) == 0 ? UInt64(st.st_size) : 0
    }

    /// True when the file starts with gzip's magic bytes (looked at once there are two bytes).
    func peekGzip() -> Bool {
        if isGzip == nil { _ = try? detect() }
        return isGzip == true
    }

    /// Fills `buffer` with the next bytes; returns how many (0: nothing more for now).
    func read(into buffer: UnsafeMutableBufferPointer<UInt8>) throws -> Int {
        if isGzip == nil {
            guard try detect() else { return 0 }
        }
        return isGzip == true ? try inflateSome(into: buffer) : try readPlain(into: buffer)
    }

    /// Looks at the first two bytes: `1f 8b` is gzip. False while the file has fewer than two
    /// bytes that could still be gzip.
    private func detect() throws -> Bool {
        var magic: (UInt8, UInt8) = (0, 0)
        let n = try withUnsafeMutableBytes(of: &magic) { (b) throws in try preadFully(b, at: 0) }
        if n >= 2 {
            isGzip = magic.0 == 0x1F && magic.1 == 0x8B
        } else if n == 1 && magic.0 != 0x1F {
            isGzip = false
        } else {
            return false
        }
        if isGzip == true {
            rawOffset = 0
            position = 0
            compressed = [UInt8](repeating: 0, count: 1 << 16)
            let s = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
            s.initialize(to: z_stream())
            guard CZlib_inflateInitAuto(s) == Z_OK else {
                s.deallocate()
                damaged = "cannot start zlib"
                return false
            }
            stream = s
        }
        return true
    }

    private func readPlain(into buffer: UnsafeMutableBufferPointer<UInt8>) throws -> Int {
        // One pread: on a regular file, fewer bytes than asked means the end for now.
        var n: Int
        repeat {
            n = pread(fd, buffer.baseAddress!, buffer.count, off_t(rawOffset))
        } while n < 0 && errno == EINTR
        if n < 0 { throw ReadFailure(errno: errno) }
        rawOffset += UInt64(n)
        position += UInt64(n)
        return n
    }

    private func inflateSome(into buffer: UnsafeMutableBufferPointer<UInt8>) throws -> Int {
        guard damaged == nil, let stream else { return 0 }
        var produced = 0
        while produced < buffer.count {
            if compressedStart == compressedEnd {
                let n = try compressed.withUnsafeMutableBytes { (b) throws in try preadFully(b, at: rawOffset) }
                if n == 0 { break }
                rawOffset += UInt64(n)
                compressedStart = 0
                compressedEnd = n
            }
            if memberEnded {
                // More bytes after a member's end: the next member of a multi-member file.
                inflateReset(stream)
                memberEnded = false
            }
            let result = compressed.withUnsafeMutableBufferPointer { c -> Int32 in
                stream.pointee.next_in = c.baseAddress! + compressedStart
                stream.pointee.avail_in = UInt32(compressedEnd - compressedStart)
                stream.pointee.next_out = buffer.baseAddress! + produced
                stream.pointee.avail_out = UInt32(buffer.count - produced)
                let r = inflate(stream, Z_NO_FLUSH)
                produced = buffer.count - Int(stream.pointee.avail_out)
                compressedStart = compressedEnd - Int(stream.pointee.avail_in)
                return r
            }
            switch result {
            case Z_OK, Z_BUF_ERROR: continue
            case Z_STREAM_END: memberEnded = true
            default:
                damaged = stream.pointee.msg.map { String(cString: $0) } ?? "zlib error \(result)"
                position += UInt64(produced)
                return produced
            }
        }
        position += UInt64(produced)
        return produced
    }

    /// pread until `buffer` is full or the end of the file.
    private func preadFully(_ buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws -> Int {
        try Self.preadFully(fd, buffer, at: offset)
    }

    /// pread from `fd` until `buffer` is full or the end of the file; returns the bytes read.
    static func preadFully(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws -> Int {
        var got = 0
        while got < buffer.count {
            let n = pread(fd, buffer.baseAddress! + got, buffer.count - got, off_t(offset) + off_t(got))
            if n < 0 {
                if errno == EINTR { continue }
                throw ReadFailure(errno: errno)
            }
            if n == 0 { break }
            got += n
        }
        return got
    }
}
