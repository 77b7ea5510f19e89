import DriftwoodCore

/// Writes events to standard output (or any file descriptor), compact or pretty.
public final class StdoutOutput: Output, @unchecked Sendable {
    let config: StdoutConfig
    let fd: Int32
    // Reused by the output's own thread.
    private var buffer: [UInt8] = []

    /// Told of every batch written (`/health`).
    let health: OutputHealth?

    public init(config: StdoutConfig, fd: Int32 = 1, health: OutputHealth? = nil) {
        self.config = config
        self.fd = fd
        self.health = health
    }

    /// Encoded lines, made on a filter worker.
    struct Lines: EncodedPayload {
        var bytes: [UInt8]
        var byteCount: Int { bytes.count + 64 }
    }

    public func encode(_ batch: consuming EventBatch) -> EventBatch {
        var lines: [UInt8] = []
        Self.encode(batch.events, pretty: config.pretty, into: &lines)
        batch.eventCount = batch.events.count
        batch.encoded = Lines(bytes: lines)
        Recycler.recycle(&batch.events)
        return batch
    }

    public func write(_ batch: EventBatch) throws {
        if let lines = batch.encoded as? Lines {
            try lines.bytes.withUnsafeBufferPointer { try FileDescriptorWriter.writeAll(fd, $0, path: "stdout") }
        } else {
            buffer.removeAll(keepingCapacity: true)
            Self.encode(batch.events, pretty: config.pretty, into: &buffer)
            try buffer.withUnsafeBufferPointer { try FileDescriptorWriter.writeAll(fd, $0, path: "stdout") }
        }
        batch.acknowledgement?.settle(1)
        health?.delivered(batch.count)
    }

    /// Events as JSON lines (or pretty blocks), as `driftwood test` prints them too.
    public static func encode(_ batch: [Event], pretty: Bool, into out: inout [UInt8]) {
        for event in batch {
            if pretty {
                var compact: [UInt8] = []
                event.fields.write(to: &compact)
                JSONPretty.append(compact, to: &out)
            } else {
                event.fields.write(to: &out)
            }
            out.append(0x0A)
        }
    }
}
