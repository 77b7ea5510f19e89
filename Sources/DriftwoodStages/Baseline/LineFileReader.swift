#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CZlib

/// Reads a file of lines from start to end, plain or gzip (told apart by the magic bytes, not
/// the name; every member of a multi-member gzip file is read). Memory: two 1 MiB buffers and
/// one line.
public enum LineFileReader {
    /// Why a file could not be read to its end.
    public struct ReadError: Error, CustomStringConvertible {
        public let path: String
        public let reason: String
        public var description: String { "\(path): \(reason)" }
    }

    /// Calls `body` with every line of the file at `path` (without its `\n` or `\r\n`).
    /// Lines longer than `maxLineBytes` are cut there.
    public static func forEachLine(
        path: String, maxLineBytes: Int = 64 << 20, _ body: (UnsafeBufferPointer<UInt8>) -> Void
    ) throws(ReadError) {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw ReadError(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var splitter = LineSplitter(maxLineBytes: maxLineBytes)
        var input = [UInt8](repeating: 0, count: 1 << 20)
        var n = try readChunk(fd, into: &input, path: path)
        let gzip = n >= 2 && input[0] == 0x1F && input[1] == 0x8B
        if !gzip {
            while n > 0 {
                input.withUnsafeBufferPointer { all in
                    splitter.feed(UnsafeBufferPointer(rebasing: all[0..<n])) { body($0.bytes) }
                }
                n = try readChunk(fd, into: &input, path: path)
            }
            splitter.finish { body($0.bytes) }
            return
        }
        var stream = z_stream()
        guard CZlib_inflateInitAuto(&stream) == Z_OK else { throw ReadError(path: path, reason: "cannot start zlib") }
        defer { inflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: 1 << 20)
        var memberEnded = false
        while n > 0 {
            if memberEnded {
                inflateReset(&stream)  // the next gzip member
                memberEnded = false
            }
            var failure: Int32?
            input.withUnsafeMutableBufferPointer { inBuf in
                stream.next_in = inBuf.baseAddress
                stream.avail_in = UInt32(n)
                while true {
                    let (result, produced) = output.withUnsafeMutableBufferPointer { o -> (Int32, Int) in
                        stream.next_out = o.baseAddress
                        stream.avail_out = UInt32(o.count)
                        let r = inflate(&stream, Z_NO_FLUSH)
                        return (r, o.count - Int(stream.avail_out))
                    }
                    if produced > 0 {
                        output.withUnsafeBufferPointer { o in
                            splitter.feed(UnsafeBufferPointer(rebasing: o[0..<produced])) { body($0.bytes) }
                        }
                    }
                    if result == Z_STREAM_END {
                        memberEnded = true
                        if stream.avail_in == 0 { break }
                        inflateReset(&stream)
                        memberEnded = false
                        continue
                    }
                    if result == Z_BUF_ERROR || (result == Z_OK && stream.avail_in == 0 && produced < output.count) {
                        break  // needs more input
                    }
                    if result != Z_OK {
                        failure = result
                        break
                    }
                }
            }
            if let failure { throw ReadError(path: path, reason: "gzip data is corrupt (zlib error \(failure))") }
            n = try readChunk(fd, into: &input, path: path)
        }
        if !memberEnded { throw ReadError(path: path, reason: "the gzip data ends early (truncated file?)") }
        splitter.finish { body($0.bytes) }
    }

    static func readChunk(_ fd: Int32, into buffer: inout [UInt8], path: String) throws(ReadError) -> Int {
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n >= 0 { return n }
            if errno == EINTR { continue }
            throw ReadError(path: path, reason: String(cString: strerror(errno)))
        }
    }
}
