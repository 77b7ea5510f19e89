#if canImport(Glibc)
import Glibc
#endif

/// Splits a byte stream into lines: `\n` ends a line and a `\r` before it is dropped. A line
/// longer than `maxLineBytes` is cut there and marked truncated; the rest, up to the next newline,
/// is skipped. Memory is bounded by the read buffer plus one line.
public struct LineSplitter {
    /// One line, valid until the next call.
    public struct Line {
        public let bytes: UnsafeBufferPointer<UInt8>
        /// The line was longer than `maxLineBytes` and was cut.
        public let truncated: Bool
        /// Offset of the line's first byte in the stream.
        public let offset: UInt64
        /// Offset just past the line's newline (where the next line starts).
        public let endOffset: UInt64
    }

    public let maxLineBytes: Int
    /// Bytes of a line that began in an earlier chunk.
    private var carry: [UInt8] = []
    private var carryTruncated = false
    /// Skipping the rest of a cut line until its newline.
    private var skipping = false
    private var carryOffset: UInt64 = 0
    /// Stream offset of the next byte to be fed.
    public private(set) var offset: UInt64

    public init(maxLineBytes: Int, startOffset: UInt64 = 0) {
        self.maxLineBytes = max(1, maxLineBytes)
        self.offset = startOffset
    }

    /// Feeds a chunk; calls `body` for each complete line in it.
    public mutating func feed(_ chunk: UnsafeBufferPointer<UInt8>, _ body: (Line) -> Void) {
        guard let base = chunk.baseAddress else { return }
        var start = 0
        let end = chunk.count
        // A line may hold one byte more than the limit while it is read: a CR that turns out to
        // belong to the CRLF ending (a line of exactly `maxLineBytes` then CRLF is not cut).
        let limit = maxLineBytes + 1
        while start < end {
            let remaining = end - start
            let nl = memchr(base + start, 0x0A, remaining).map { UnsafePointer<UInt8>($0.assumingMemoryBound(to: UInt8.self)) - base }
            let lineEnd = nl ?? end
            if skipping {
                if nl != nil {
                    emitCarry(endOffset: offset + UInt64(lineEnd + 1), body)
                    skipping = false
                    start = lineEnd + 1
                    continue
                }
                break
            }
            if nl == nil {
                // An incomplete line: keep it (up to the limit) for the next chunk.
                if carry.isEmpty { carryOffset = offset + UInt64(start) }
                let room = limit - carry.count
                if remaining > room {
                    carry.append(contentsOf: UnsafeBufferPointer(start: base + start, count: max(0, room)))
                    carryTruncated = true
                    skipping = true
                } else {
                    carry.append(contentsOf: UnsafeBufferPointer(start: base + start, count: remaining))
                }
                break
            }
            if carry.isEmpty {
                var length = lineEnd - start
                if length > 0 && base[lineEnd - 1] == 0x0D { length -= 1 }
                let truncated = length > maxLineBytes
                if truncated { length = maxLineBytes }
                body(
                    Line(
                        bytes: UnsafeBufferPointer(start: base + start, count: length), truncated: truncated,
                        offset: offset + UInt64(start), endOffset: offset + UInt64(lineEnd + 1)))
            } else {
                let room = limit - carry.count
                let piece = lineEnd - start
                if piece > room {
                    carry.append(contentsOf: UnsafeBufferPointer(start: base + start, count: max(0, room)))
                    carryTruncated = true
                } else {
                    carry.append(contentsOf: UnsafeBufferPointer(start: base + start, count: piece))
                }
                emitCarry(endOffset: offset + UInt64(lineEnd + 1), body)
            }
            start = lineEnd + 1
        }
        offset += UInt64(end)
    }

    /// At the end of the stream: the last line, if it had no newline.
    public mutating func finish(_ body: (Line) -> Void) {
        if !carry.isEmpty || carryTruncated {
            emitCarry(endOffset: offset, body)
        }
        skipping = false
    }

    /// True when bytes of an unfinished line are held.
    public var hasPartialLine: Bool { !carry.isEmpty || skipping }

    private mutating func emitCarry(endOffset: UInt64, _ body: (Line) -> Void) {
        if !carryTruncated, carry.last == 0x0D { carry.removeLast() }
        if carry.count > maxLineBytes {
            carry.removeLast(carry.count - maxLineBytes)
            carryTruncated = true
        }
        carry.withUnsafeBufferPointer {
            body(Line(bytes: $0, truncated: carryTruncated, offset: carryOffset, endOffset: endOffset))
        }
        carry.removeAll(keepingCapacity: carry.capacity <= 1 << 20)
        carryTruncated = false
    }
}
