import DriftwoodCore

/// The windows, scores, counts and alert states of every group survive a restart
/// (`PersistentFilter`), so a run in two parts scores and reports as one.
extension DriftFilter: PersistentFilter {
    public var stateDigest: String { config.stateDigest }

    public func saveState() -> [UInt8] {
        var w = StateWriter(capacity: 64 + groups.groups.count * names.count * (config.window * 2 + 64))
        w.append(groups.groups.count)
        for group in groups.groups {
            w.append(group.name != nil)
            w.append(group.name ?? "")
            w.append(group.scored)
            group.weightedAlert.save(to: &w)
            for f in 0..<names.count {
                let state = group.features[f]
                state.window.save(to: &w)
                w.append(state.score != nil)
                w.append(state.score ?? 0)
                state.alert.save(to: &w)
            }
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
                group.scored = try r.int(in: 0...Int.max)
                group.weightedAlert = try AlertLatch.restore(from: &r)
                for f in 0..<names.count {
                    try group.features[f].window.restore(from: &r)
                    let has = try r.bool()
                    let score = try r.double()
                    group.features[f].score = has ? score : nil
                    group.features[f].alert = try AlertLatch.restore(from: &r)
                }
            }
            guard r.atEnd else { throw StateError("unexpected bytes after the last group") }
        } catch {
            groups = GroupTable(maxGroups: config.maxGroups)
            if config.groupBy == nil { groups.appendUngrouped(makeGroup(name: nil)) }
            throw error
        }
    }
}
