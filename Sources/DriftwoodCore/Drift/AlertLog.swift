import Synchronization

/// The last alerts raised in this process, newest last, for the status page
/// (`/api/v1/status`): a fixed ring of `capacity` entries, filled by `Alert.emit` (every filter
/// that raises alerts goes through it), so memory stays bounded however many alerts fire.
public final class AlertLog: Sendable {
    /// One alert, with the filter that raised it and when.
    public struct Entry: Sendable {
        public var alert: Alert
        /// The id of the filter that raised it.
        public var stage: String
        /// Wall-clock time it was raised (not the trigger's `@timestamp`).
        public var time: Timestamp
        /// Raised in this process, in order: 1, 2, …
        public var sequence: Int
    }

    /// Alerts kept.
    public let capacity: Int
    private struct Ring {
        var entries: [Entry] = []
        var next = 0
        var count = 0
    }
    private let ring = Mutex(Ring())

    /// The process's log, which `Alert.emit` records into.
    public static let shared = AlertLog(capacity: 100)

    public init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    public func record(_ alert: Alert, stage: String, time: Timestamp = .now()) {
        ring.withLock { r in
            r.count += 1
            let entry = Entry(alert: alert, stage: stage, time: time, sequence: r.count)
            if r.entries.count < capacity {
                r.entries.append(entry)
            } else {
                r.entries[r.next] = entry
            }
            r.next = (r.next + 1) % capacity
        }
    }

    /// The alerts kept, newest first.
    public func newestFirst() -> [Entry] {
        ring.withLock { r in r.entries.sorted { $0.sequence > $1.sequence } }
    }
}
