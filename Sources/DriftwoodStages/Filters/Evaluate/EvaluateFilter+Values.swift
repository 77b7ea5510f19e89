import DriftwoodCore

/// Reading labels, predictions, groups and attribute values, and annotating a completing label.
extension EvaluateFilter {
    /// The label as the window keeps it (binary 1/0, multiclass class id, regression number);
    /// nil when it is not one.
    func truthValue(_ event: borrowing Event, _ seen: EvaluateReader.Seen) -> Double? {
        guard let s = seen.label else { return nil }
        return event.fields.withBytes { p -> Double? in
            switch config.task {
            case .binary:
                return ClassKey.with(p, s.range, isText: s.isText) { key -> Double? in
                    if key.elementsEqual(config.positive) { return 1 }
                    if let n = config.negative { return key.elementsEqual(n) ? 0 : nil }
                    return 0
                } ?? nil
            case .multiclass:
                return classID(p, s).map(Double.init)
            case .regression:
                return s.isText ? nil : NumberText.parse(p, s.range)
            }
        }
    }

    /// The prediction: (class or number, score, flags); nil when it is not one.
    func predictedValue(_ event: borrowing Event, _ seen: EvaluateReader.Seen) -> (Double, Double, UInt8)? {
        guard let s = seen.prediction else { return nil }
        return event.fields.withBytes { p -> (Double, Double, UInt8)? in
            guard !s.range.isEmpty else { return nil }
            switch config.task {
            case .binary:
                let first = p[s.range.lowerBound]
                if !s.isText, first == UInt8(ascii: "-") || (first &- UInt8(ascii: "0")) < 10 {
                    guard let score = NumberText.parse(p, s.range) else { return nil }
                    return (score >= config.cutoff ? 1 : 0, score, 0)
                }
                if !s.isText, first == UInt8(ascii: "t") || first == UInt8(ascii: "f") {
                    let v: Double = first == UInt8(ascii: "t") ? 1 : 0
                    return (v, v, Self.predictedBool)
                }
                // A class name: the positive or negative label value.
                guard first == UInt8(ascii: "\"") || s.isText else { return nil }
                return ClassKey.with(p, s.range, isText: s.isText) { key -> (Double, Double, UInt8)? in
                    if key.elementsEqual(config.positive) { return (1, 1, Self.predictedName) }
                    if let n = config.negative, key.elementsEqual(n) { return (0, 0, Self.predictedName) }
                    return nil
                } ?? nil
            case .multiclass:
                return classID(p, s).map { (Double($0), 0, 0) }
            case .regression:
                guard !s.isText, let v = NumberText.parse(p, s.range) else { return nil }
                return (v, 0, 0)
            }
        }
    }

    /// A multiclass class id, interned (at most `max_classes`).
    func classID(_ p: UnsafePointer<UInt8>, _ s: ValueSlot) -> Int? {
        let isString = s.isText || p[s.range.lowerBound] == UInt8(ascii: "\"")
        return ClassKey.with(p, s.range, isText: s.isText) { key -> Int? in
            if let id = classes.id(of: key) { return id }
            guard classes.count < config.maxClasses else { return nil }
            classIsString.append(isString)
            return classes.insert(key).id
        } ?? nil
    }

    /// The group of a prediction: 0 without `group_by`; nil without a value or past `max_groups`.
    func groupID(_ event: borrowing Event, _ seen: EvaluateReader.Seen) -> Int? {
        guard config.groupBy != nil else { return 0 }
        guard let s = seen.group else { return nil }
        return event.fields.withBytes { p in
            PathSet.withKeyBytes(p, s.range, isText: s.isText) { key in
                groups.id(named: key, make: { Group(name: $0, config: config, factory: factory) }) {
                    logger.warning(
                        "more group_by values than max_groups; predictions of further groups are not evaluated",
                        metadata: ["group_by": "\(config.groupBy!)", "max_groups": "\(config.maxGroups)"])
                }
            }
        }
    }

    /// The fairness attribute's value id on a prediction; -1 without one (or past `max_values`).
    func attributeID(_ event: borrowing Event, _ seen: EvaluateReader.Seen) -> Int32 {
        guard let f = config.fairness, let s = seen.attribute else { return -1 }
        return event.fields.withBytes { p in
            PathSet.withKeyBytes(p, s.range, isText: s.isText) { key -> Int32 in
                if let id = attributeValues.id(of: key) { return Int32(id) }
                guard attributeValues.count < f.maxValues else {
                    if !warned.contains("max_values") {
                        warned.insert("max_values")
                        logger.warning(
                            "more \(f.attribute.text) values than fairness.max_values; further ones are left out of fairness",
                            metadata: ["max_values": "\(f.maxValues)"])
                    }
                    return -1
                }
                return Int32(attributeValues.insert(key).id)
            }
        }
    }

    /// `"evaluation": {"prediction": ŷ, "correct": bool}` (regression: `"error": ŷ − y`).
    func annotate(_ event: inout Event, entry: PendingJoins.Entry, pair: Pair) {
        var json: [UInt8] = Array(#"{"prediction":"#.utf8)
        switch config.task {
        case .binary:
            if entry.flags & Self.predictedBool != 0 {
                JSONWriter.appendBool(entry.value == 1, to: &json)
            } else if entry.flags & Self.predictedName != 0 {
                let key = entry.value == 1 ? config.positive : (config.negative ?? [])
                key.withUnsafeBufferPointer { JSONWriter.appendString(utf8: $0, to: &json) }
            } else {
                ScoreText.append(entry.score, to: &json)
            }
            json += Array(#","correct":"#.utf8)
            JSONWriter.appendBool(pair.truth == pair.predicted, to: &json)
        case .multiclass:
            appendClass(Int(entry.value), to: &json)
            json += Array(#","correct":"#.utf8)
            JSONWriter.appendBool(pair.truth == pair.predicted, to: &json)
        case .regression:
            ScoreText.append(pair.predicted, to: &json)
            json += Array(#","error":"#.utf8)
            ScoreText.append(pair.predicted - pair.truth, to: &json)
        }
        json.append(UInt8(ascii: "}"))
        if !event.fields.set(Self.evaluationPath, json: json) { event.fields.addTag("_field_conflict") }
    }

    /// A multiclass class as it was written: a string, or the number or bool's key as JSON.
    func appendClass(_ id: Int, to json: inout [UInt8]) {
        let key = classes.key(id)
        if classIsString[id] {
            key.withUnsafeBufferPointer { JSONWriter.appendString(utf8: $0, to: &json) }
        } else {
            json += key
        }
    }
}
