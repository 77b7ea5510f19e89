import DriftwoodCore

/// The error and latency windows, counts and alert states of every group survive a restart.
extension MonitorFilter: PersistentFilter {
    public var stateDigest: String { config.stateDigest }

    public func saveState() -> [UInt8] {
        var w = StateWriter(capacity: 64 + groups.groups.count * (config.window * 9 + 64))
        w.append(groups.groups.count)
        for group in groups.groups {
            w.append(group.name != nil)
            w.append(group.name ?? "")
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
            let count = try r.int(in: 0...config.maxGroups)
            for k in 0..<count {
                let named = try r.bool()
                let name = try r.string()
                let group: Group
                if config.groupBy == nil {
                    guard k == 0, !named else { throw StateError("a group in a filter without group_by") }
                    group = groups.groups[0]
                } else {
                    guard named else { throw StateError("a group without a name") }
                    var text = name
                    let id = text.withUTF8 { groupID(named: $0) }
                    guard id == k else { throw StateError("group '\(name)' saved twice") }
                    group = groups.groups[k]
                }
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
