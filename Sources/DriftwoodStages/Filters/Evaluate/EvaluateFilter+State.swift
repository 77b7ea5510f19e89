import DriftwoodCore

/// The pending joins, the class and attribute-value tables, and every group's window, counts
/// and alert states survive a restart: a label read after it still finds the prediction read
/// before it.
extension EvaluateFilter: PersistentFilter {
    public var stateDigest: String { config.stateDigest }

    public func saveState() -> [UInt8] {
        var w = StateWriter(capacity: 64 + pending.entryCount * PendingJoins.entryBytes + groups.groups.count * (config.window * 40 + 256))
        pending.save(to: &w)
        for table in [(classes, classIsString), (attributeValues, [])] {
            w.append(table.0.count)
            for id in 0..<table.0.count {
                w.append(table.0.string(id))
                w.append(id < table.1.count ? table.1[id] : false)
            }
        }
        groups.save(to: &w, name: \.name) { group, w in
            w.append(group.pairs)
            w.append(group.expired)
            w.append(group.lastAUC != nil)
            w.append(group.lastAUC ?? 0)
            group.window.save(to: &w)
            for latch in group.performanceAlerts + group.fairnessAlerts { latch.save(to: &w) }
        }
        return w.bytes
    }

    public func restoreState(_ bytes: [UInt8]) throws {
        var r = StateReader(bytes)
        do {
            let savedPending = r
            // The join is read after the groups (its entries name them): skip it for now.
            var skip = r
            _ = try skip.uint64()
            let n = try skip.int(in: 0...(2 * config.pendingMax))
            _ = try skip.raw(n * 50)
            r = skip
            let classCount = try r.int(in: 0...config.maxClasses)
            for _ in 0..<classCount {
                classes.insert(try r.string())
                classIsString.append(try r.bool())
            }
            let valueCount = try r.int(in: 0...(config.fairness?.maxValues ?? 0))
            for _ in 0..<valueCount {
                attributeValues.insert(try r.string())
                _ = try r.bool()
            }
            try groups.restore(
                from: &r, grouped: config.groupBy != nil, make: { Group(name: $0, config: config, factory: factory) }
            ) { group, r in
                group.pairs = try r.int(in: 0...Int.max)
                group.expired = try r.int(in: 0...Int.max)
                let hasAUC = try r.bool()
                let auc = try r.double()
                group.lastAUC = hasAUC ? auc : nil
                try group.window.restore(from: &r, classes: classCount, values: valueCount)
                for i in group.performanceAlerts.indices { group.performanceAlerts[i] = try AlertLatch.restore(from: &r) }
                for i in group.fairnessAlerts.indices { group.fairnessAlerts[i] = try AlertLatch.restore(from: &r) }
            }
            guard r.atEnd else { throw StateError("unexpected bytes after the last group") }
            var p = savedPending
            try pending.restore(from: &p, groups: groups.groups.count)
        } catch {
            pending = PendingJoins(max: config.pendingMax, ttlMilliseconds: ttlMilliseconds)
            classes = ByteTable()
            classIsString = []
            attributeValues = ByteTable()
            groups = GroupTable(maxGroups: config.maxGroups)
            if config.groupBy == nil { groups.appendUngrouped(Group(name: nil, config: config, factory: factory)) }
            throw error
        }
    }
}

extension EvaluateConfig {
    /// Every setting that shapes the saved state (or what it means).
    public var stateDigest: String {
        var s = "evaluate v1\ntask=\(task.rawValue) id=\(id.text) prediction=\(prediction.text) cutoff=\(cutoff)"
        s += " positive=\(String(decoding: positive, as: UTF8.self)) negative=\(negative.map { String(decoding: $0, as: UTF8.self) } ?? "-")"
        s += " label=\(label.text) label_when=\(labelWhen.source)\ngroup_by=\(groupBy?.text ?? "") max_groups=\(maxGroups)"
        s += " window=\(window) pending.max=\(pendingMax) pending.ttl=\(pendingTTL) max_classes=\(maxClasses)"
        s += " report_every=\(reportEvery)\nmetrics=\(metrics.map(\.rawValue)) thresholds=\(thresholds.map { "\($0.metric.rawValue)=\($0.value)" })"
        s += " resolve=\(resolve.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue)=\($0.value)" })"
        if let f = fairness {
            s += "\nfairness.attribute=\(f.attribute.text) metrics=\(f.metrics.map(\.rawValue))"
            s += " thresholds=\(f.thresholds.map { "\($0.metric.rawValue)=\($0.value)" }) min_group_size=\(f.minGroupSize) max_values=\(f.maxValues)"
            s += " resolve=\(f.resolve.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue)=\($0.value)" })"
        }
        return s
    }
}
