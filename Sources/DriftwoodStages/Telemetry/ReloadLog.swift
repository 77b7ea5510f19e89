import DriftwoodCore
import Metrics
import Synchronization

/// The reloads of this process: `driftwood_reloads_total{result="ok|failed"}`,
/// `driftwood_last_reload_timestamp_seconds`, and the last one for the status page.
public final class ReloadLog: Sendable {
    /// One reload.
    public struct Entry: Sendable {
        /// `ok` or `failed`.
        public var result: String
        /// What changed (`inputs: kept file_0; outputs: added jsonl_1`), or why it failed.
        public var message: String
        /// Wall-clock time it ended.
        public var time: Timestamp
        /// How long the inputs were held while the stages were swapped (ok only).
        public var stalledMilliseconds: Double?
    }

    public static let shared = ReloadLog()

    private let state = Mutex<(last: Entry?, count: Int)>((nil, 0))
    private let ok: Counter
    private let failed: Counter
    private let last: Gauge

    public init() {
        ok = Counter(label: "driftwood_reloads_total", dimensions: [("result", "ok")])
        failed = Counter(label: "driftwood_reloads_total", dimensions: [("result", "failed")])
        last = Gauge(label: "driftwood_last_reload_timestamp_seconds")
    }

    /// Exports the counters at 0 before the first reload, so `rate()` and alerts have a series.
    public func touch() {
        ok.increment(by: 0)
        failed.increment(by: 0)
    }

    public func record(ok succeeded: Bool, message: String, stalledMilliseconds: Double? = nil, time: Timestamp = .now()) {
        (succeeded ? ok : failed).increment()
        last.record(Double(time.epochMilliseconds) / 1000)
        state.withLock {
            $0.last = Entry(
                result: succeeded ? "ok" : "failed", message: message, time: time, stalledMilliseconds: stalledMilliseconds)
            $0.count += 1
        }
    }

    /// The last reload, and how many there were.
    public var latest: (entry: Entry?, count: Int) { state.withLock { ($0.last, $0.count) } }
}
