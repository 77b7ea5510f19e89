/// Joins continuation lines into one event (Python tracebacks, Java stack traces): a line that
/// matches `start` begins a new event, any other line is appended to the pending one with "\n".
///
/// Nothing is dropped: a run longer than `maxLines` lines or `maxBytes` bytes is sent in pieces
/// tagged `_multiline_truncated`. The pending event is sent by the next start line, or by the
/// input calling `flush` (after `timeout` without a new line, at the end of a read-mode file, at
/// shutdown) — it is never left behind.
struct MultilineJoiner {
    /// A joined event, valid during the callback.
    struct Joined {
        let bytes: UnsafeBufferPointer<UInt8>
        /// Offset of its first line.
        let offset: UInt64
        /// Offset just past its last line.
        let endOffset: UInt64
        /// Some line was longer than `max_line_bytes`.
        let lineTruncated: Bool
        /// The run was cut at `max_lines` / `maxBytes`.
        let cut: Bool
    }

    let pattern: LineStartPattern
    let maxLines: Int
    let maxBytes: Int
    private var buffer: [UInt8] = []
    private var lines = 0
    private(set) var offset: UInt64 = 0
    private var endOffset: UInt64 = 0
    private var lineTruncated = false
    /// The pending event continues one that was cut.
    private var continued = false

    init(pattern: LineStartPattern, maxLines: Int, maxBytes: Int) {
        self.pattern = pattern
        self.maxLines = max(1, maxLines)
        self.maxBytes = max(1, maxBytes)
    }

    /// True while lines wait for the rest of their event.
    var hasPending: Bool { lines > 0 }

    /// Adds one line; `emit` gets the event it completes, if any.
    mutating func add(_ line: LineSplitter.Line, _ emit: (Joined) -> Void) {
        let starts = pattern.matches(line.bytes)
        if hasPending && starts { flush(emit) }
        if hasPending && (lines >= maxLines || buffer.count + 1 + line.bytes.count > maxBytes) {
            // Too long: send what there is, tagged, and carry on in a new event.
            send(cut: true, emit)
            continued = true
        }
        if lines == 0 {
            offset = line.offset
        } else {
            buffer.append(0x0A)
        }
        buffer.append(contentsOf: line.bytes)
        lines += 1
        endOffset = line.endOffset
        lineTruncated = lineTruncated || line.truncated
    }

    /// Sends the pending event, if any.
    mutating func flush(_ emit: (Joined) -> Void) {
        guard hasPending else { return }
        send(cut: continued, emit)
        continued = false
    }

    /// Forgets the pending event (the file was truncated under it).
    mutating func reset() {
        buffer.removeAll(keepingCapacity: false)
        lines = 0
        lineTruncated = false
        continued = false
    }

    private mutating func send(cut: Bool, _ emit: (Joined) -> Void) {
        buffer.withUnsafeBufferPointer {
            emit(Joined(bytes: $0, offset: offset, endOffset: endOffset, lineTruncated: lineTruncated, cut: cut))
        }
        buffer.removeAll(keepingCapacity: buffer.capacity <= 1 << 16)
        lines = 0
        lineTruncated = false
    }
}
