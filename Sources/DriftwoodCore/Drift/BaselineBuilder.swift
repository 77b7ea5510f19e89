/// Profiles reference data line by line and makes a `Baseline` (what `driftwood baseline` does,
/// minus the files). Pure: feed it JSON lines, ask for the result.
///
/// - A field whose values are mostly numbers is numeric (its other values are counted as
///   `invalid`), except that a numeric field with at most `categoricalMaxDistinct` distinct
///   values, each seen `categoricalMinRepeats` times on average, is categorical (status codes,
///   class labels); otherwise categorical. The choice is the same with and without named features.
/// - Every scalar leaf field (no features given): besides, a field with more than
///   `maxDistinctStrings` distinct strings (ids, timestamps) is left out: it is an identifier,
///   not a feature. Arrays and keys holding a dot are left out too.
///
/// Memory: 8 bytes per numeric value (the quantiles are exact), plus one table entry per
/// distinct string of a categorical field.
public struct BaselineBuilder {
    /// How the profile is made.
    public struct Options: Sendable {
        /// Numeric bins before merging tied edges (`--bins`, at least 2).
        public var bins: Int = 10
        /// Categorical values listed by name; the rest are `__other__`.
        public var topValues: Int = 20
        /// Every-field mode: more distinct strings than this, and the field is an identifier.
        public var maxDistinctStrings: Int = 1000
        /// Every-field mode: numeric fields with at most this many distinct values are categorical…
        public var categoricalMaxDistinct: Int = 20
        /// … when each value is seen at least this many times on average.
        public var categoricalMinRepeats: Int = 5

        public init(bins: Int = 10) { self.bins = bins }
    }

    /// What `finish()` made.
    public struct Result: Sendable {
        public var baseline: Baseline
        /// Fields left out, and why (every-field mode), one sentence each.
        public var notes: [String]
        /// Named features that held no value in any line.
        public var featuresWithoutValues: [String]
    }

    struct Profile {
        var numbers: [Double] = []
        /// Distinct numbers and their counts while there are few (every-field mode only).
        var numberCounts: [Double: Int]?
        var strings = ByteTable()
        var stringCounts: [Int] = []
        var stringTotal = 0
        var tooManyStrings = false
        var trues = 0
        var falses = 0
        var containers = 0
    }

    public let options: Options
    /// The named features, or nil to profile every scalar leaf field.
    let named: [FieldPath]?
    var profiles: [Profile] = []
    var profileNames: [String] = []

    // Every-field mode: a trie of key paths. A node's key in `nodes` is its parent's id (4 bytes)
    // followed by the key's bytes.
    var nodes = ByteTable(capacity: 64)
    var nodeProfile: [Int] = []
    var nodeName: [String] = []
    var nodeUsable: [Bool] = []
    var nodeKey: [UInt8] = []

    var scratch: [UInt8] = []
    var spans: [MemberSpan] = []
    var decoded: [UInt8] = []

    /// Lines seen (JSON objects or not).
    public private(set) var lines = 0
    /// Lines that were not JSON objects (skipped).
    public private(set) var skippedLines = 0

    /// - Parameter features: the fields to profile, or nil for every scalar leaf field.
    public init(features: [FieldPath]?, options: Options = Options()) {
        precondition(options.bins >= 2, "at least two bins")
        self.options = options
        self.named = features
        if let features {
            for f in features {
                var fresh = Profile()
                fresh.numberCounts = [:]
                profiles.append(fresh)
                profileNames.append(f.text)
            }
        }
    }

    /// Profiles one line (a JSON object); returns false, and counts it as skipped, when it is not one.
    @discardableResult
    public mutating func add(line: UnsafeBufferPointer<UInt8>) -> Bool {
        lines += 1
        spans.removeAll(keepingCapacity: true)
        let placement: JSONCompactor.Placement
        do {
            placement = try withUnsafeMutablePointer(to: &spans) { s in
                try JSONCompactor.validate(line, scratch: &scratch, members: s)
            }
        } catch {
            skippedLines += 1
            return false
        }
        let isObject: Bool
        switch placement {
        case .inPlace:
            isObject = line.first(where: { $0 != 0x20 && $0 != 0x09 }) == UInt8(ascii: "{")
            if isObject { profileObject(line.baseAddress!) }
        case .scratch:
            let local = scratch
            isObject = local.first == UInt8(ascii: "{")
            if isObject { local.withUnsafeBufferPointer { profileObject($0.baseAddress!) } }
        }
        if !isObject { skippedLines += 1 }
        return isObject
    }

    mutating func profileObject(_ p: UnsafePointer<UInt8>) {
        if let named {
            for k in named.indices {
                guard let range = locate(named[k], p) else { continue }
                feed(k, p, range, everyField: false)
            }
        } else {
            for s in spans {
                walk(parent: -1, p, Int(s.keyStart)..<Int(s.keyEnd), Int(s.valueStart)..<Int(s.valueEnd))
            }
        }
    }

    /// The value range of `path` in the object whose top-level members are `spans`.
    func locate(_ path: FieldPath, _ p: UnsafePointer<UInt8>) -> Range<Int>? {
        var found: Range<Int>?
        for s in spans where JSONText.keyEquals(p, Int(s.keyStart)..<Int(s.keyEnd), path.components[0]) {
            found = Int(s.valueStart)..<Int(s.valueEnd)
        }
        guard var range = found else { return nil }
        for name in path.components.dropFirst() {
            guard p[range.lowerBound] == UInt8(ascii: "{") else { return nil }
            var next: Range<Int>?
            JSONText.forEachMember(p, range) { key, value in
                if JSONText.keyEquals(p, key, name) { next = value }
                return true
            }
            guard let n = next else { return nil }
            range = n
        }
        return range
    }

    mutating func walk(parent: Int, _ p: UnsafePointer<UInt8>, _ key: Range<Int>, _ value: Range<Int>) {
        let first = p[value.lowerBound]
        if first == UInt8(ascii: "[") || first == UInt8(ascii: "n") { return }
        let node = self.node(parent: parent, p, key)
        if first == UInt8(ascii: "{") {
            JSONText.forEachMember(p, value) { k, v in
                walk(parent: node, p, k, v)
                return true
            }
            return
        }
        guard nodeUsable[node] else { return }
        var profile = nodeProfile[node]
        if profile < 0 {
            profile = profiles.count
            var fresh = Profile()
            fresh.numberCounts = [:]
            profiles.append(fresh)
            profileNames.append(nodeName[node])
            nodeProfile[node] = profile
        }
        feed(profile, p, value, everyField: true)
    }

    /// The trie node of `key` under `parent`, added when new.
    mutating func node(parent: Int, _ p: UnsafePointer<UInt8>, _ key: Range<Int>) -> Int {
        nodeKey.removeAll(keepingCapacity: true)
        withUnsafeBytes(of: Int32(parent).littleEndian) { nodeKey.append(contentsOf: $0) }
        nodeKey.append(contentsOf: UnsafeBufferPointer(start: p + key.lowerBound, count: key.count))
        let (id, inserted) = nodes.insert(nodeKey)
        if inserted {
            let name = JSONText.decodeString(p, key)
            nodeName.append(parent < 0 ? name : nodeName[parent] + "." + name)
            nodeUsable.append(!name.isEmpty && !name.contains(".") && (parent < 0 || nodeUsable[parent]))
            nodeProfile.append(-1)
        }
        return id
    }

    mutating func feed(_ k: Int, _ p: UnsafePointer<UInt8>, _ range: Range<Int>, everyField: Bool) {
        switch p[range.lowerBound] {
        case UInt8(ascii: "\""):
            profiles[k].stringTotal += 1
            if profiles[k].tooManyStrings { return }
            let content = (range.lowerBound + 1)..<(range.upperBound - 1)
            var id: Int
            if JSONText.hasBackslash(p, content) {
                decoded = Array(JSONText.decodeString(p, content).utf8)
                id = profiles[k].strings.insert(decoded).id
            } else {
                id = profiles[k].strings.insert(UnsafeBufferPointer(start: p + content.lowerBound, count: content.count)).id
            }
            if id == profiles[k].stringCounts.count { profiles[k].stringCounts.append(0) }
            profiles[k].stringCounts[id] += 1
            if everyField && profiles[k].strings.count > options.maxDistinctStrings {
                profiles[k].tooManyStrings = true
                profiles[k].strings = ByteTable()
                profiles[k].stringCounts = []
            }
        case UInt8(ascii: "t"): profiles[k].trues += 1
        case UInt8(ascii: "f"): profiles[k].falses += 1
        case UInt8(ascii: "n"): break
        case UInt8(ascii: "{"), UInt8(ascii: "["): profiles[k].containers += 1
        default:
            guard let x = NumberText.parse(p, range) else { return }
            profiles[k].numbers.append(x)
            if profiles[k].numberCounts != nil {
                profiles[k].numberCounts![x, default: 0] += 1
                if profiles[k].numberCounts!.count > options.categoricalMaxDistinct { profiles[k].numberCounts = nil }
            }
        }
    }

    /// The baseline of everything fed so far.
    public func finish() -> Result {
        var features: [FeatureBaseline] = []
        var notes: [String] = []
        var empty: [String] = []
        let everyField = named == nil
        for k in profiles.indices {
            let name = profileNames[k]
            let p = profiles[k]
            let others = p.stringTotal + p.trues + p.falses
            let values = p.numbers.count + others
            if values == 0 {
                if !everyField { empty.append(name) }
                continue
            }
            var numeric = !p.numbers.isEmpty && p.numbers.count >= others
            if numeric, let counts = p.numberCounts, p.numbers.count >= counts.count * options.categoricalMinRepeats {
                numeric = false
            }
            if numeric {
                features.append(numericFeature(name, p, lines: lines))
                continue
            }
            if p.tooManyStrings {
                notes.append("left out \(name): more than \(options.maxDistinctStrings) distinct strings (an identifier, not a feature)")
                continue
            }
            features.append(categoricalFeature(name, p, lines: lines))
        }
        return Result(
            baseline: Baseline(features: features, lines: lines, bins: options.bins), notes: notes,
            featuresWithoutValues: empty)
    }

    func numericFeature(_ name: String, _ p: Profile, lines: Int) -> FeatureBaseline {
        let sorted = p.numbers.sorted()
        let n = sorted.count
        let edges = Quantiles.edges(sorted: sorted, bins: options.bins)
        var counts = [Int](repeating: 0, count: edges.count + 1)
        var bin = 0
        for x in sorted {
            while bin < edges.count && !(x <= edges[bin]) { bin += 1 }
            counts[bin] += 1
        }
        var sum = 0.0
        for x in sorted { sum += x }
        let mean = sum / Double(n)
        var squares = 0.0
        for x in sorted { squares += (x - mean) * (x - mean) }
        let numeric = FeatureBaseline.Numeric(
            edges: edges, probabilities: counts.map { Double($0) / Double(n) },
            invalid: p.stringTotal + p.trues + p.falses + p.containers, mean: mean,
            std: (squares / Double(n)).squareRoot(), min: sorted[0], max: sorted[n - 1])
        return FeatureBaseline(name: name, distribution: .numeric(numeric), count: n, missing: lines - n - numeric.invalid)
    }

    func categoricalFeature(_ name: String, _ p: Profile, lines: Int) -> FeatureBaseline {
        var counts: [String: Int] = [:]
        for id in 0..<p.strings.count { counts[p.strings.string(id), default: 0] += p.stringCounts[id] }
        if p.trues > 0 { counts["true", default: 0] += p.trues }
        if p.falses > 0 { counts["false", default: 0] += p.falses }
        if let numberCounts = p.numberCounts {
            for (x, c) in numberCounts { counts[Self.text(of: x), default: 0] += c }
        }
        // Numbers not tracked one by one (too many distinct) fall in __other__ through `total`.
        let total = p.stringTotal + p.trues + p.falses + p.numbers.count
        let ranked = counts.filter { $0.key != Baseline.otherKey }.sorted { a, b in
            a.value != b.value ? a.value > b.value : a.key < b.key
        }
        let top = ranked.prefix(options.topValues)
        let listed = top.reduce(0) { $0 + $1.value }
        let categorical = FeatureBaseline.Categorical(
            values: top.map(\.key), probabilities: top.map { Double($0.value) / Double(total) },
            other: Double(total - listed) / Double(total), distinct: counts.count)
        return FeatureBaseline(
            name: name, distribution: .categorical(categorical), count: total, missing: lines - total - p.containers)
    }

    /// A number's category name: integers without a fraction, others in their shortest form.
    static func text(of x: Double) -> String {
        var out: [UInt8] = []
        JSONWriter.appendNumber(x, to: &out)
        return String(decoding: out, as: UTF8.self)
    }
}
