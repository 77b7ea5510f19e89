import Synchronization

/// Events one model-monitoring filter (`drift`, `monitor`, `evaluate`) counted for one
/// `group_by` value, for the status page. One writer (the filter, which runs on one thread at a
/// time) adds with a plain load and store, so counting costs no atomic read-modify-write per
/// event; the status page reads it from another thread.
public final class ModelTally: Sendable {
    public let stage: String
    public let group: String
    let count = Atomic<Int>(0)

    init(stage: String, group: String) {
        self.stage = stage
        self.group = group
    }

    /// One more event (single writer).
    @inline(__always)
    public func add(_ n: Int = 1) {
        count.store(count.load(ordering: .relaxed) &+ n, ordering: .relaxed)
    }

    public var events: Int { count.load(ordering: .relaxed) }

    private static let all = Mutex<[String: ModelTally]>([:])

    /// The tally of `group` in filter `stage`, the same object for the same pair (a filter built
    /// twice for a second worker shares it).
    public static func of(stage: String, group: String) -> ModelTally {
        all.withLock { all in
            let key = stage + "\u{1F}" + group
            if let tally = all[key] { return tally }
            let tally = ModelTally(stage: stage, group: group)
            all[key] = tally
            return tally
        }
    }

    /// Events per group: the largest count among the filters that see the group (a `drift` and
    /// a `monitor` in one pipeline count the same events).
    public static func eventsByGroup() -> [String: Int] {
        let tallies = all.withLock { Array($0.values) }
        var out: [String: Int] = [:]
        for t in tallies { out[t.group] = max(out[t.group] ?? 0, t.events) }
        return out
    }
}
