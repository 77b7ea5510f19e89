import DriftwoodCore

/// The error and latency windows, counts and alert states of every group survive a restart.
extension MonitorFilter: PersistentFilter {
    public var stateDigest: String { config.stateDigest }

    public func saveState() -> [UInt8] {
        var w = StateWriter(capacity: 64 + groups.groups.count * (config.window * 9 + 64))
        groups.save(to: &w, name: \.name) { group, w in
            w.append(group.events)
            group.errors.save(to: &w)
            group.latencies.save(to: &w)
            group.errorAlert.save(to: &w)
            group.latencyAlert.save(to: &w)
        }
        return w.bytes
    }

    public func restoreState(_ bytes: [UInt8]) throws {
        var r = StateReader(bytes)
        do {
            try groups.restore(from: &r, grouped: config.groupBy != nil, make: { makeGroup(name: $0) }) { group, r in
                group.events = try r.int(in: 0...Int.max)
                try group.errors.restore(from: &r)
                try group.latencies.restore(from: &r)
                group.errorAlert = try AlertLatch.restore(from: &r)
                group.latencyAlert = try AlertLatch.restore(from: &r)
            }
            guard r.atEnd else { throw StateError("unexpected bytes after the last group") }
        } catch {
            groups = GroupTable(maxGroups: config.maxGroups)
            if config.groupBy == nil { groups.appendUngrouped(makeGroup(name: nil)) }
            throw error
        }
    }
}
