import CZlib

/// gzip through the C shims: libdeflate for whole buffers (`_bulk` bodies, JSONL members), zlib
/// for streams (reading `.gz` archives).
public enum Gzip {
    /// `input` as one gzip member, in an array of exactly its size (libdeflate, a compressor kept
    /// per thread and level). Every whole-buffer gzip in driftwood comes through here or `append`.
    public static func member(_ input: [UInt8], level: Int = 1) -> [UInt8] {
        input.withUnsafeBufferPointer { compress($0, level: Int32(level)) }
    }

    /// One gzip member holding `bytes`.
    public static func compress(_ bytes: UnsafeBufferPointer<UInt8>, level: Int32 = 1) -> [UInt8] {
        let bound = CZlib_gzipBound(bytes.count)
        let scratch = [UInt8](unsafeUninitializedCapacity: bound) { buffer, count in
            count = CZlib_gzipWholeCached(bytes.baseAddress, bytes.count, buffer.baseAddress, bound, level)
        }
        precondition(!scratch.isEmpty || bytes.isEmpty, "libdeflate could not compress a buffer")
        // A copy of exactly the compressed size: the bound is about the input's size.
        return Array(scratch[...])
    }

    /// Appends `input` as one gzip member to `out`.
    public static func append(_ input: [UInt8], level: Int = 1, to out: inout [UInt8]) {
        let bound = CZlib_gzipBound(input.count)
        let start = out.count
        out.append(contentsOf: repeatElement(0, count: bound))
        let n = input.withUnsafeBytes { i in
            out.withUnsafeMutableBytes { o in
                CZlib_gzipWholeCached(i.baseAddress, i.count, o.baseAddress! + start, bound, Int32(level))
            }
        }
        precondition(n > 0 || input.isEmpty, "libdeflate could not compress a buffer")
        out.removeLast(bound - n)
    }

    /// Why inflating failed.
    public struct InflateError: Error, CustomStringConvertible {
        public let code: Int32
        public var description: String { "gzip data is corrupt (zlib error \(code))" }
    }

    /// Inflates gzip data (every member of a multi-member file); for tests and small inputs.
    public static func decompress(_ bytes: [UInt8]) throws(InflateError) -> [UInt8] {
        var stream = z_stream()
        guard CZlib_inflateInitAuto(&stream) == Z_OK else { throw InflateError(code: Z_STREAM_ERROR) }
        defer { inflateEnd(&stream) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        var input = bytes
        var result: Int32 = Z_OK
        input.withUnsafeMutableBufferPointer { inBuf in
            stream.next_in = inBuf.baseAddress
            stream.avail_in = UInt32(inBuf.count)
            while true {
                let produced: Int = chunk.withUnsafeMutableBufferPointer { c in
                    stream.next_out = c.baseAddress
                    stream.avail_out = UInt32(c.count)
                    result = inflate(&stream, Z_NO_FLUSH)
                    return c.count - Int(stream.avail_out)
                }
                out.append(contentsOf: chunk[0..<produced])
                if result == Z_STREAM_END {
                    if stream.avail_in == 0 { break }
                    inflateReset(&stream)  // the next member
                    result = Z_OK
                    continue
                }
                if result != Z_OK { break }
                if stream.avail_in == 0 && produced == 0 { break }
            }
        }
        guard result == Z_STREAM_END || (result == Z_OK && stream.avail_in == 0) else { throw InflateError(code: result) }
        return out
    }
}
