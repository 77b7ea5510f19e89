extension Baseline {
    /// Reads a baseline file's bytes; the error says what is wrong in one sentence.
    public static func decode(_ bytes: [UInt8]) throws(BaselineError) -> Baseline {
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            throw BaselineError("the file is empty (write one with `driftwood baseline`)")
        }
        let compact: [UInt8]
        do { compact = try JSONCompactor.compact(bytes) } catch {
            throw BaselineError("not valid JSON: \(error)")
        }
        let root = JSONValue(storage: compact, range: 0..<compact.count, isText: false)
        guard root.kind == .object else { throw BaselineError("expected a JSON object with \"version\" and \"features\"") }
        let members = root.members
        func member(_ key: String) -> JSONValue? { members.last { $0.key == key }?.value }

        guard let versionValue = member("version") else {
            throw BaselineError("no \"version\" (expected \(formatVersion)); is this a driftwood baseline?")
        }
        guard let version = versionValue.integer, version == formatVersion else {
            throw BaselineError("version \(versionValue.text) is not supported (this driftwood reads version \(formatVersion))")
        }
        guard let featuresValue = member("features"), featuresValue.kind == .object else {
            throw BaselineError("no \"features\" object")
        }
        var features: [FeatureBaseline] = []
        for (name, value) in featuresValue.members {
            if features.contains(where: { $0.name == name }) { throw BaselineError("feature '\(name)' appears twice") }
            features.append(try decodeFeature(name, value))
        }
        if features.isEmpty { throw BaselineError("\"features\" is empty") }
        let lines = member("lines")?.integer.map(Int.init) ?? 0
        let bins = member("bins")?.integer.map(Int.init) ?? 0
        // Optional since the weights came in; a baseline without them reads as before.
        var importance: [(name: String, weight: Double)]?
        if let imp = member("importance") {
            guard imp.kind == .object else { throw BaselineError("\"importance\" must be an object (feature → weight)") }
            importance = try decodeImportance(imp.members.map { ($0.key, $0.value) })
        }
        return Baseline(features: features, lines: lines, bins: bins, importance: importance)
    }

    /// The file given to `driftwood baseline --importance`: a JSON object of feature → weight.
    public static func decodeImportance(json bytes: [UInt8]) throws(BaselineError) -> [(name: String, weight: Double)] {
        let compact: [UInt8]
        do { compact = try JSONCompactor.compact(bytes) } catch { throw BaselineError("not valid JSON: \(error)") }
        let root = JSONValue(storage: compact, range: 0..<compact.count, isText: false)
        guard root.kind == .object else { throw BaselineError("expected a JSON object of feature → weight") }
        return try decodeImportance(root.members.map { ($0.key, $0.value) })
    }

    /// Feature → weight (a number at least 0): a baseline's `importance`, or the file given to
    /// `driftwood baseline --importance`.
    public static func decodeImportance(_ members: [(String, JSONValue)]) throws(BaselineError) -> [(name: String, weight: Double)] {
        var result: [(name: String, weight: Double)] = []
        for (name, value) in members {
            guard let w = value.number, w.isFinite, w >= 0 else {
                throw BaselineError("importance of '\(name)': \(value.text) is not a number at least 0")
            }
            if let k = result.firstIndex(where: { $0.name == name }) { result[k].weight = w } else { result.append((name, w)) }
        }
        return result
    }

    static func decodeFeature(_ name: String, _ value: JSONValue) throws(BaselineError) -> FeatureBaseline {
        guard value.kind == .object else { throw BaselineError("feature '\(name)': expected an object") }
        let members = value.members
        func member(_ key: String) -> JSONValue? { members.last { $0.key == key }?.value }
        func fail(_ message: String) -> BaselineError { BaselineError("feature '\(name)': \(message)") }
        let count = member("count")?.integer.map(Int.init) ?? 0
        let missing = member("missing")?.integer.map(Int.init) ?? 0
        guard let type = member("type")?.string else { throw fail("no \"type\" (numeric or categorical)") }

        func checkProbabilities(_ p: [Double]) throws(BaselineError) {
            for x in p where !(x >= 0 && x <= 1) { throw fail("a probability of \(x) is not between 0 and 1") }
            let sum = p.reduce(0, +)
            if abs(sum - 1) > 1e-3 { throw fail("probabilities add up to \(sum), not 1") }
        }

        switch type {
        case "numeric":
            guard let edgesValue = member("edges"), edgesValue.kind == .array else { throw fail("no \"edges\" array") }
            var edges: [Double] = []
            for e in edgesValue.elements {
                guard let d = e.number, d.isFinite else { throw fail("edges must be numbers") }
                if let last = edges.last, !(d > last) { throw fail("edges must be strictly increasing") }
                edges.append(d)
            }
            guard let pValue = member("probabilities"), pValue.kind == .array else {
                throw fail("no \"probabilities\" array")
            }
            var p: [Double] = []
            for x in pValue.elements {
                guard let d = x.number else { throw fail("probabilities must be numbers") }
                p.append(d)
            }
            guard p.count == edges.count + 1 else {
                throw fail("\(edges.count) edges make \(edges.count + 1) bins, but there are \(p.count) probabilities")
            }
            if p.count > 65_536 { throw fail("more than 65,536 bins") }
            try checkProbabilities(p)
            let numeric = FeatureBaseline.Numeric(
                edges: edges, probabilities: p, invalid: member("invalid")?.integer.map(Int.init) ?? 0,
                mean: member("mean")?.number ?? 0, std: member("std")?.number ?? 0, min: member("min")?.number ?? 0,
                max: member("max")?.number ?? 0)
            return FeatureBaseline(name: name, distribution: .numeric(numeric), count: count, missing: missing)
        case "categorical":
            guard let pValue = member("probabilities"), pValue.kind == .object else {
                throw fail("no \"probabilities\" object (value → proportion)")
            }
            var values: [String] = []
            var p: [Double] = []
            var other = 0.0
            for (key, x) in pValue.members {
                guard let d = x.number else { throw fail("the probability of '\(key)' must be a number") }
                if key == Baseline.otherKey {
                    other = d
                    continue
                }
                if values.contains(key) { throw fail("value '\(key)' appears twice") }
                values.append(key)
                p.append(d)
            }
            if values.isEmpty { throw fail("no values in \"probabilities\"") }
            if values.count >= 65_536 { throw fail("more than 65,535 values") }
            try checkProbabilities(p + [other])
            let categorical = FeatureBaseline.Categorical(
                values: values, probabilities: p, other: other, distinct: member("distinct")?.integer.map(Int.init) ?? 0)
            return FeatureBaseline(name: name, distribution: .categorical(categorical), count: count, missing: missing)
        default:
            throw fail("type '\(type)' is not numeric or categorical")
        }
    }

    /// The file's text: JSON, one feature per line, numbers written so they read back exactly.
    /// - Parameter generator: what wrote it, e.g. `driftwood 0.1.0`.
    public func encoded(generator: String) -> [UInt8] {
        var out: [UInt8] = []
        func text(_ s: String) { out.append(contentsOf: s.utf8) }
        func string(_ s: String) { JSONWriter.appendString(s, to: &out) }
        func number(_ d: Double) { JSONWriter.appendNumber(d, to: &out) }
        func integer(_ i: Int) { JSONWriter.appendInteger(Int64(i), to: &out) }
        text("{\n  \"version\": \(Self.formatVersion),\n  \"created_by\": ")
        string(generator)
        text(",\n  \"lines\": ")
        integer(lines)
        text(",\n  \"bins\": ")
        integer(bins)
        text(",\n  \"features\": {")
        for (k, f) in features.enumerated() {
            text(k == 0 ? "\n    " : ",\n    ")
            string(f.name)
            text(": {\"type\": ")
            switch f.distribution {
            case .numeric(let n):
                text("\"numeric\", \"count\": ")
                integer(f.count)
                text(", \"missing\": ")
                integer(f.missing)
                text(", \"invalid\": ")
                integer(n.invalid)
                for (key, value) in [("mean", n.mean), ("std", n.std), ("min", n.min), ("max", n.max)] {
                    text(", \"\(key)\": ")
                    number(value)
                }
                text(",\n      \"edges\": [")
                for (i, e) in n.edges.enumerated() {
                    if i > 0 { text(", ") }
                    number(e)
                }
                text("],\n      \"probabilities\": [")
                for (i, p) in n.probabilities.enumerated() {
                    if i > 0 { text(", ") }
                    number(p)
                }
                text("]}")
            case .categorical(let c):
                text("\"categorical\", \"count\": ")
                integer(f.count)
                text(", \"missing\": ")
                integer(f.missing)
                text(", \"distinct\": ")
                integer(c.distinct)
                text(",\n      \"probabilities\": {")
                for (i, value) in c.values.enumerated() {
                    if i > 0 { text(", ") }
                    string(value)
                    text(": ")
                    number(c.probabilities[i])
                }
                if !c.values.isEmpty { text(", ") }
                string(Self.otherKey)
                text(": ")
                number(c.other)
                text("}}")
            }
        }
        text("\n  }")
        if let importance {
            text(",\n  \"importance\": {")
            for (i, entry) in importance.enumerated() {
                if i > 0 { text(", ") }
                string(entry.name)
                text(": ")
                number(entry.weight)
            }
            text("}")
        }
        text("\n}\n")
        return out
    }
}
