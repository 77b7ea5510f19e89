#if canImport(Glibc)
import Glibc
#endif
import DriftwoodCore
import Synchronization

/// Reads standard input (or any file descriptor) line by line.
///
/// Each event's origin is the stream's line number plus a hash of the line, so the fingerprint id
/// of a line is the same when the same data is piped again after a crash (docs/delivery.md).
public final class StdinInput: Input {
    let config: StdinConfig
    let fd: Int32
    let builder: LineEventBuilder
    let source: UInt64
    /// Hash each line's content for fingerprint ids (only when an output uses them).
    let hashContent: Bool
    private let stopping = Atomic<Bool>(false)

    public init(config: StdinConfig, environment: StageEnvironment, fd: Int32 = 0) {
        self.config = config
        self.fd = fd
        self.builder = LineEventBuilder(inputType: "stdin", hostName: environment.hostName)
        self.source = Hash64.hash("stdin:" + environment.id)
        self.hashContent = environment.fingerprints
        self.failures = FailureCounter(environment)
    }

    /// Counts `_line_truncated` (a rate-limited warning).
    let failures: FailureCounter

    public func stop() { stopping.store(true, ordering: .relaxed) }

    public func run(emit: (inout EventBatch) -> Void) throws {
        var splitter = LineSplitter(maxLineBytes: config.maxLineBytes)
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var batch = EventBatch()
        batch.events.reserveCapacity(config.batchSize)
        var lineNumber: UInt64 = 0
        var timestamp: [UInt8] = []
        var recycled: [Fields.Storage] = []

        func add(_ line: LineSplitter.Line) {
            lineNumber += 1
            // Blank lines make no event, as in the file input (and Filebeat).
            if line.bytes.isEmpty && !line.truncated { return }
            if recycled.isEmpty { FieldsPool.shared.take(config.batchSize, into: &recycled) }
            var fields = builder.make(line: line.bytes, timestamp: timestamp, storage: recycled.popLast())
            if line.truncated {
                fields.addTag("_line_truncated")
                failures.record("_line_truncated") { "a line passed max_line_bytes (\(config.maxLineBytes))" }
            }
            let origin = Origin(
                source: source, position: lineNumber, contentHash: hashContent ? Hash64.hash(line.bytes) : 0)
            batch.events.append(Event(fields: fields, origin: origin))
        }
        func send() {
            guard !batch.isEmpty else { return }
            // Nothing to checkpoint for stdin, but the engine's accounting is the same for every input.
            batch.acknowledgement = Acknowledgement(count: 1) {}
            emit(&batch)
            batch.events.reserveCapacity(config.batchSize)
        }

        while !stopping.load(ordering: .relaxed) {
            guard try waitReadable() else { continue }
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw InputError.read(errno: errno)
            }
            if n == 0 { break }
            timestamp = LineEventBuilder.readTimeJSON()
            buffer.withUnsafeBufferPointer { all in
                splitter.feed(UnsafeBufferPointer(rebasing: all[0..<n])) { line in
                    add(line)
                    // The events array itself: `batch.count` copied the whole batch (its retains) per line.
                    if batch.events.count >= config.batchSize { send() }
                }
            }
            send()
        }
        timestamp = LineEventBuilder.readTimeJSON()
        splitter.finish { add($0) }
        send()
    }

    /// Waits up to 100 ms for input, so a stop request is seen even when nothing arrives.
    private func waitReadable() throws -> Bool {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let r = poll(&p, 1, 100)
        if r < 0 {
            if errno == EINTR { return false }
            throw InputError.read(errno: errno)
        }
        return r > 0
    }
}

/// Why an input stopped.
public enum InputError: Error, CustomStringConvertible {
    case read(errno: Int32)

    public var description: String {
        switch self {
        case .read(let e): return "read failed: \(String(cString: strerror(e)))"
        }
    }
}
