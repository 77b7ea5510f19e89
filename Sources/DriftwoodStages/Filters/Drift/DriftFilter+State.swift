import DriftwoodCore

/// The windows, scores, counts and alert states of every group survive a restart
/// (`PersistentFilter`), so a run in two parts scores and reports as one.
extension DriftFilter: PersistentFilter {
    public var stateDigest: String { config.stateDigest }

    public func saveState() -> [UInt8] {
        var w = StateWriter(capacity: 64 + groups.groups.count * names.count * (config.window * 2 + 64))
        groups.save(to: &w, name: \.name) { group, w in
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
            try groups.restore(from: &r, grouped: config.groupBy != nil, make: { makeGroup(name: $0) }) { group, r in
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
