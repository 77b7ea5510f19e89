import DriftwoodCore
import Logging
import Synchronization

/// Events tagged as failures (`_parse_failure`, `_timestamp_failure`, `_field_conflict`,
/// `_line_truncated`; docs/events.md), counted per stage and tag. The first one a stage tags is
/// logged at once as a warning; after that at most one line every `interval` seconds per stage,
/// with the counts since the last line. `flush()` logs what is left (the end of a run), and
/// `totals()` gives the counts for the end-of-run summary. Nothing is counted on the success path.
public final class FailureTally: Sendable {
    /// The process's tally (stages of one pipeline share it).
    public static let shared = FailureTally()

    struct StageRecord {
        var sinceLog: [String: Int] = [:]
        var total: [String: Int] = [:]
        var details: [String: String] = [:]
        var lastLog: Double = -.infinity
        var logger: Logger
    }

    /// Seconds between two warnings of one stage.
    public let interval: Double
    private let state = Mutex<[String: StageRecord]>([:])

    public init(interval: Double = 10) { self.interval = interval }

    /// One event of `stage` got `tag`; `detail` (what was wrong, computed only when a line is
    /// due) goes into the warning.
    public func record(_ tag: String, stage: String, logger: Logger, detail: () -> String? = { nil }) {
        let now = Double(monotonicNow()) / 1e9
        var due: (counts: [String: Int], details: [String: String])?
        state.withLock { all in
            var r = all[stage] ?? StageRecord(logger: logger)
            r.sinceLog[tag, default: 0] += 1
            r.total[tag, default: 0] += 1
            if r.details[tag] == nil, let d = detail() { r.details[tag] = d }
            if now - r.lastLog >= interval {
                due = (r.sinceLog, r.details)
                r.sinceLog = [:]
                r.details = [:]
                r.lastLog = now
            }
            all[stage] = r
        }
        if let due { Self.warn(stage: stage, logger: logger, counts: due.counts, details: due.details) }
    }

    /// Logs every count not yet logged.
    public func flush() {
        let pending = state.withLock { all -> [(String, StageRecord)] in
            let out = all.filter { !$0.value.sinceLog.isEmpty }.map { ($0.key, $0.value) }
            for key in all.keys {
                all[key]!.sinceLog = [:]
                all[key]!.details = [:]
            }
            return out
        }
        for (stage, r) in pending.sorted(by: { $0.0 < $1.0 }) {
            Self.warn(stage: stage, logger: r.logger, counts: r.sinceLog, details: r.details)
        }
    }

    /// Every tag counted since the start, over all stages.
    public func totals() -> [String: Int] {
        state.withLock { all in
            var out: [String: Int] = [:]
            for r in all.values { for (tag, n) in r.total { out[tag, default: 0] += n } }
            return out
        }
    }

    /// Forgets everything (tests).
    public func reset() { state.withLock { $0 = [:] } }

    static func warn(stage: String, logger: Logger, counts: [String: Int], details: [String: String]) {
        let tags = counts.keys.sorted()
        let summary = tags.map { "\($0)=\(counts[$0]!)" }.joined(separator: " ")
        var metadata: Logger.Metadata = ["stage": "\(stage)"]
        for tag in tags {
            if let d = details[tag] { metadata[String(tag.dropFirst()) + "_example"] = "\(d)" }
        }
        logger.warning("events tagged as failures: \(summary) (tags: docs/events.md)", metadata: metadata)
    }
}

/// A stage's handle on the tally.
public struct FailureCounter: Sendable {
    public let stage: String
    public let logger: Logger
    public let tally: FailureTally

    public init(stage: String, logger: Logger, tally: FailureTally = .shared) {
        self.stage = stage
        self.logger = logger
        self.tally = tally
    }

    /// A counter that logs under the stage's id.
    public init(_ environment: StageEnvironment) {
        self.init(stage: environment.id, logger: environment.logger)
    }

    public func record(_ tag: String, detail: () -> String? = { nil }) {
        tally.record(tag, stage: stage, logger: logger, detail: detail)
    }
}
