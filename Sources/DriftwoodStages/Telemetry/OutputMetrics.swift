import Metrics

/// The metric families of outputs that talk to a server (docs/metrics.md), declared once like
/// `StageMetrics`: dead letters, retries, bulk request durations and bytes sent.
public struct OutputMetrics: Sendable {
    public let output: String
    let deadLettered: Counter
    let retries: Counter
    let duration: Timer
    let bytesGzip: Counter
    let bytesIdentity: Counter

    public init(output: String) {
        self.output = output
        deadLettered = Counter(label: "driftwood_events_dead_lettered_total", dimensions: [("output", output)])
        retries = Counter(label: "driftwood_output_retries_total", dimensions: [("output", output)])
        duration = Timer(label: "driftwood_bulk_request_duration_seconds", dimensions: [("output", output)])
        bytesGzip = Counter(label: "driftwood_bulk_bytes_total", dimensions: [("output", output), ("encoding", "gzip")])
        bytesIdentity = Counter(
            label: "driftwood_bulk_bytes_total", dimensions: [("output", output), ("encoding", "identity")])
    }

    public func deadLettered(_ n: Int) { if n > 0 { deadLettered.increment(by: n) } }
    public func retried() { retries.increment() }
    public func request(nanoseconds: Int64) { duration.recordNanoseconds(nanoseconds) }

    /// Bytes of one request body as sent, by its content encoding (`gzip` or `identity`).
    public func sent(bytes: Int, gzip: Bool) {
        (gzip ? bytesGzip : bytesIdentity).increment(by: bytes)
    }
}
