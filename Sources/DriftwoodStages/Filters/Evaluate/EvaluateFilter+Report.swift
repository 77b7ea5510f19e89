import DriftwoodCore

/// The evaluation report: an event of its own (`event.dataset: driftwood.evaluate`) with
/// `@timestamp`, `event`, `message`, `evaluation` and `host` only.
extension EvaluateFilter {
    static let eventMember = Array(#"{"kind":"metric","dataset":"driftwood.evaluate"}"#.utf8)

    /// The report of a group's window now, timed like the event that completed its last pair.
    func report(_ group: Group, timestamp: JSONValue?, origin: Origin) -> Event {
        var json: [UInt8] = []
        var summary: [String] = []
        json += Array("{".utf8)
        if let name = group.name {
            json += Array(#""group":"#.utf8)
            JSONWriter.appendString(name, to: &json)
            json.append(UInt8(ascii: ","))
        }
        json += Array(#""window":"#.utf8)
        JSONWriter.appendInteger(Int64(config.window), to: &json)
        json += Array(#","pairs":"#.utf8)
        JSONWriter.appendInteger(Int64(group.pairs), to: &json)
        json += Array(#","metrics":{"#.utf8)
        var first = true
        for m in config.metrics {
            guard let v = value(m, group) else { continue }  // AUC while the window holds one class
            if !first { json.append(UInt8(ascii: ",")) }
            first = false
            JSONWriter.appendString(m.rawValue, to: &json)
            json.append(UInt8(ascii: ":"))
            ScoreText.append(v, to: &json)
            summary.append("\(m.rawValue) \(ScoreText.text(v))")
        }
        json.append(UInt8(ascii: "}"))
        if let f = config.fairness {
            let (kept, excluded) = fairnessValues(group)
            json += Array(#","fairness":{"attribute":"#.utf8)
            JSONWriter.appendString(f.attribute.text, to: &json)
            json += Array(#","groups":{"#.utf8)
            for (k, v) in kept.enumerated() {
                let c = group.window.fairness[v]
                if k > 0 { json.append(UInt8(ascii: ",")) }
                attributeValues.key(v).withUnsafeBufferPointer { JSONWriter.appendString(utf8: $0, to: &json) }
                json += Array(#":{"n":"#.utf8)
                JSONWriter.appendInteger(Int64(c.n), to: &json)
                json += Array(#","selection_rate":"#.utf8)
                ScoreText.append(c.selectionRate, to: &json)
                json += Array(#","tpr":"#.utf8)
                ScoreText.append(c.tpr, to: &json)
                json += Array(#","fpr":"#.utf8)
                ScoreText.append(c.fpr, to: &json)
                json.append(UInt8(ascii: "}"))
            }
            json += Array(#"},"excluded":{"#.utf8)
            for (k, v) in excluded.enumerated() {
                if k > 0 { json.append(UInt8(ascii: ",")) }
                attributeValues.key(v).withUnsafeBufferPointer { JSONWriter.appendString(utf8: $0, to: &json) }
                json.append(UInt8(ascii: ":"))
                JSONWriter.appendInteger(Int64(group.window.fairness[v].n), to: &json)
            }
            json.append(UInt8(ascii: "}"))
            let counts = kept.map { group.window.fairness[$0] }
            for m in f.metrics {
                guard let v = m.value(counts) else { continue }
                json.append(UInt8(ascii: ","))
                JSONWriter.appendString(m.rawValue, to: &json)
                json.append(UInt8(ascii: ":"))
                ScoreText.append(v, to: &json)
                summary.append("\(m.rawValue) \(ScoreText.text(v))")
            }
            json.append(UInt8(ascii: "}"))
        }
        let lags = group.window.lagQuantiles([0.5, 0.95])
        json += Array(#","labels":{"matched":"#.utf8)
        JSONWriter.appendInteger(Int64(group.pairs), to: &json)
        json += Array(#","expired":"#.utf8)
        JSONWriter.appendInteger(Int64(group.expired), to: &json)
        json += Array(#","lag_seconds":{"p50":"#.utf8)
        ScoreText.append(lags[0], decimals: 3, to: &json)
        json += Array(#","p95":"#.utf8)
        ScoreText.append(lags[1], decimals: 3, to: &json)
        json += Array("}}}".utf8)

        let whose = group.name.map { " of \($0)" } ?? ""
        var fields = DerivedEvent.start(
            timestamp: timestamp, event: Self.eventMember,
            message: "\(config.task.rawValue) evaluation\(whose) over the last \(config.window) pairs: "
                + summary.joined(separator: ", "),
            capacity: json.count + 256)
        fields.set(Self.evaluationPath, json: json)
        return DerivedEvent.finish(
            fields, hostName: hostName, origin: origin, identity: [stage, "evaluate-report", group.name ?? ""])
    }
}
