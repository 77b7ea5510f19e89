import DriftwoodCore
import Logging
import Metrics

/// Scores model inputs and outputs against a baseline, in the stream (docs/model-monitoring.md).
///
/// Per feature, and per `group_by` value, a `DriftWindow` holds the bins of the last `window`
/// values. Once a window is full, each event that carries a watched feature gets
/// `drift.{metric, score, detected, features}` (the score is the largest feature score) and the
/// tag `drift` when a feature's score exceeds the threshold. A feature crossing the threshold
/// raises a `MODEL_DRIFT_DETECTED` alert event right after its trigger, and a `resolved` one
/// when it goes back under. Events that carry none of the features pass unchanged.
///
/// Per event: one pass over the event for every feature (`PathSet`), one bin lookup per feature,
/// two metric terms looked up per feature whose window changed bins (`DriftTerms`), and the
/// `drift` member written into the event in one copy; nothing else is allocated. Holds state,
/// so one instance sees every event in order (`isStateless` stays false; the engine runs it
/// behind a turnstile).
public final class DriftFilter: Filter {
    /// One feature's window in one group, and its alert state.
    struct FeatureState {
        /// Owned by the group (`Group.windows`); used here without reference counting (an
        /// `unowned(unsafe)` reference was still retained and released around every call).
        let windowRef: Unmanaged<DriftWindow>
        var window: DriftWindow { windowRef.takeUnretainedValue() }

        init(window: DriftWindow) { windowRef = .passUnretained(window) }

        /// `window.add(bin:)` on the window as it is, without a retain.
        @inline(__always)
        func add(bin: Int) -> Double? { windowRef._withUnsafeGuaranteedRef { $0.add(bin: bin) } }
        /// The window's score once full.
        var score: Double?
        var alert = AlertLatch()
        /// The score as last written (`ScoreText`), reused while the score stays the same: a
        /// window whose value fell in the bin of the value it dropped, or an event without the
        /// feature.
        var text: (UInt64, UInt64, UInt64) = (0, 0, 0)
        var textLength = 0
        var textScore = Double.nan
    }

    /// The windows of one `group_by` value (or of every event, without `group_by`). The state
    /// sits in memory of its own, so the hot path updates it in place without exclusivity checks.
    final class Group {
        let name: String?
        let features: UnsafeMutableBufferPointer<FeatureState>
        let windows: [DriftWindow]
        let gauges: [Gauge]
        let tally: ModelTally
        /// Events of the group that carried a watched feature so far.
        var scored = 0
        /// The importance-weighted score's alert (`weighted_threshold`).
        var weightedAlert = AlertLatch()
        /// `driftwood_feature_distribution` per listed feature and bin, made at the first report.
        var distributionGauges: [[Gauge]] = []
        /// Those histograms with their baselines, for the status page; made at the first report.
        var distributions: ModelDistributions?
        /// `driftwood_drift_score{feature="_weighted"}`, made at the first report.
        var weightedGauge: Gauge?

        init(name: String?, windows: [DriftWindow], gauges: [Gauge], tally: ModelTally) {
            self.name = name
            self.tally = tally
            self.windows = windows
            features = .allocate(capacity: max(1, windows.count))
            for (f, window) in windows.enumerated() { (features.baseAddress! + f).initialize(to: FeatureState(window: window)) }
            self.gauges = gauges
        }

        deinit {
            features.baseAddress!.deinitialize(count: gauges.count)
            features.deallocate()
        }
    }

    // The filter runs on one thread at a time (a turnstile orders the workers), so the state
    // below is read and written without the runtime's exclusivity checks on every event.
    let config: DriftConfig
    let names: [String]
    let expected: [[Double]]
    /// Each feature's metric terms by count, shared by its windows in every group.
    let terms: [DriftTerms?]
    /// `"name":` of each feature as JSON, ready to write: feature f's at
    /// `keysText[keyStarts[f] ..< keyStarts[f + 1]]`.
    let keysText: UnsafeMutableBufferPointer<UInt8>
    let keyStarts: UnsafeMutableBufferPointer<Int>
    /// Finds and bins the features (and finds the `group_by` value) of each event.
    let reader: FeatureReader
    let stage: String
    let hostName: String
    let logger: Logger
    let factory: any MetricsFactory
    let alertCounter: Counter
    let gaugeInterval: Int
    @exclusivity(unchecked) var groups: GroupTable<Group>
    /// Per event: each feature's bin, or `missingBin` / `invalidBin` (allocated once).
    let bins: UnsafeMutableBufferPointer<Int>
    /// The `drift` member being written: room for its head, then the features object.
    let json: UnsafeMutableBufferPointer<UInt8>
    let headRoom: Int
    @exclusivity(unchecked) var pendingAlerts: [Alert] = []
    /// A score report due right after the event in hand (and its alerts).
    @exclusivity(unchecked) var pendingReport: DriftReport?
    /// `drift.features` of a drifting event, being written (`annotate: drifting`).
    @exclusivity(unchecked) var featureList: [UInt8] = []
    /// Each feature's name as a JSON string, for `drift.features`.
    let nameTexts: [[UInt8]]
    /// Per listed distribution: the feature's index.
    let distributionFeatures: [Int]
    // Values not counted since the last flush to the skipped-values counters.
    @exclusivity(unchecked) var missing: [Int]
    @exclusivity(unchecked) var invalid: [Int]
    @exclusivity(unchecked) var sinceFlush = 0
    let missingCounters: [Counter]
    let invalidCounters: [Counter]
    let prefix: [UInt8]

    static let driftName = MemberName(Array("drift".utf8))
    /// Where `drift` sat among the members of the last event.
    @exclusivity(unchecked) var driftHint = 0
    static let alertType = "MODEL_DRIFT_DETECTED"
    static let detectedTrue = Array(#","detected":true,"features":"#.utf8)
    static let detectedFalse = Array(#","detected":false,"features":"#.utf8)
    static let missingBin = FeatureBinner.missingBin
    static let invalidBin = FeatureBinner.invalidBin

    public init(config: DriftConfig, environment: StageEnvironment, factory: any MetricsFactory = MetricsSystem.factory) {
        self.config = config
        groups = GroupTable(maxGroups: config.maxGroups)
        stage = environment.id
        hostName = environment.hostName
        logger = environment.logger
        self.factory = factory
        let features = config.features.compactMap { name -> (String, FieldPath, FeatureBaseline)? in
            guard let baseline = config.baseline.feature(name), let path = FieldPath(name) else { return nil }
            return (name, path, baseline)
        }
        names = features.map(\.0)
        nameTexts = names.map { n in
            var t: [UInt8] = []
            JSONWriter.appendString(n, to: &t)
            return t
        }
        distributionFeatures = config.distributions.compactMap { d in features.firstIndex { $0.0 == d } }
        let binners = features.map { FeatureBinner($0.2) }
        expected = features.map(\.2.expected)
        terms = expected.map { DriftTerms(expected: $0, capacity: config.window, metric: config.metric) }
        var keys: [UInt8] = []
        keyStarts = .allocate(capacity: names.count + 1)
        for (f, name) in names.enumerated() {
            keyStarts[f] = keys.count
            JSONWriter.appendString(name, to: &keys)
            keys.append(UInt8(ascii: ":"))
        }
        keyStarts[names.count] = keys.count
        keysText = .allocate(capacity: max(1, keys.count))
        _ = keysText.initialize(from: keys)
        reader = FeatureReader(
            features: zip(features, binners).map { ($0.1, $1) }, groupBy: config.groupBy)
        alertCounter = ModelMetrics.alerts(type: Self.alertType, factory: factory)
        gaugeInterval = min(config.window, ModelMetrics.gaugeInterval)
        bins = .allocate(capacity: max(1, features.count))
        bins.initialize(repeating: Self.missingBin)
        missing = [Int](repeating: 0, count: features.count)
        invalid = missing
        missingCounters = features.map {
            ModelMetrics.skippedValues(stage: environment.id, feature: $0.0, reason: "missing", factory: factory)
        }
        invalidCounters = features.map {
            ModelMetrics.skippedValues(stage: environment.id, feature: $0.0, reason: "invalid", factory: factory)
        }
        var p: [UInt8] = Array(#"{"metric":"#.utf8)
        JSONWriter.appendString(config.metric.rawValue, to: &p)
        p += Array(#","score":"#.utf8)
        prefix = p
        headRoom = Self.driftName.bytes.count + p.count + ScoreText.maxLength + Self.detectedFalse.count
        json = .allocate(capacity: headRoom + 2 + keys.count + names.count * (1 + ScoreText.maxLength))
        if config.groupBy == nil { groups.appendUngrouped(makeGroup(name: nil)) }
    }

    func makeGroup(name: String?) -> Group {
        ModelMetrics.threshold(group: name ?? "", metric: config.metric.rawValue, value: config.threshold, factory: factory)
        return Group(
            name: name,
            windows: expected.indices.map {
                DriftWindow(expected: expected[$0], capacity: config.window, metric: config.metric, table: terms[$0])
            },
            gauges: names.map {
                ModelMetrics.driftScore(feature: $0, metric: config.metric.rawValue, group: name ?? "", factory: factory)
            },
            tally: ModelMetrics.events(stage: stage, group: name ?? ""))
    }

    /// The group named by these bytes, created when new; nil past `max_groups`.
    func groupID(named key: UnsafeBufferPointer<UInt8>) -> Int? {
        groups.id(named: key, make: { makeGroup(name: $0) }) {
            logger.warning(
                "more group_by values than max_groups; events of further groups pass unscored",
                metadata: ["group_by": "\(config.groupBy!)", "max_groups": "\(config.maxGroups)"])
        }
    }

    public func apply(_ event: consuming Event, into out: inout [Event]) {
        let counted = reader.read(event.fields, into: bins)
        score(event, counted: counted, groupSlot: reader.groupSlot, driftIndex: nil, into: &out)
    }

    /// Scores an event whose features' bins are in `bins` (`counted`: one of them has a bin).
    /// `driftIndex`: where the event's `drift` member is (-1: it has none), when known.
    @inline(__always)
    func score(_ event: consuming Event, counted: Bool, groupSlot slot: ValueSlot, driftIndex: Int?, into out: inout [Event]) {
        let featureCount = names.count
        let bins = self.bins
        var groupIndex: Int? = 0
        if config.groupBy != nil {
            groupIndex = nil
            if slot.found {
                groupIndex = event.fields.withBytes { p in
                    PathSet.withKeyBytes(p, slot.range, isText: slot.isText) { groupID(named: $0) }
                }
            }
        }
        guard let g = groupIndex else {
            out.append(event)  // no group_by value (or past max_groups): not scored
            return
        }
        for f in 0..<featureCount where bins[f] < 0 {
            if bins[f] == Self.missingBin { missing[f] += 1 } else { invalid[f] += 1 }
        }
        sinceFlush += 1
        if sinceFlush >= 1024 { flushSkipped() }
        guard counted else {
            out.append(event)
            return
        }
        let group = groups.groups[g]
        group.tally.add()
        let states = group.features
        group.scored += 1
        guard config.annotate == .scores else {
            scoreQuietly(event, group: group, driftIndex: driftIndex, into: &out)
            return
        }
        // The drift member, written straight into a buffer sized for the longest one.
        let json = self.json.baseAddress!
        var n = headRoom
        var maxScore = -Double.infinity
        var maxText = 0..<0  // where the largest score's digits are in `json`
        var full = 0
        var detected = false
        for f in 0..<featureCount {
            if bins[f] >= 0, let score = states[f].add(bin: bins[f]) { states[f].score = score }
            guard let score = states[f].score else { continue }
            json[n] = full == 0 ? UInt8(ascii: "{") : UInt8(ascii: ",")
            n += 1
            let keyLength = keyStarts[f + 1] - keyStarts[f]
            (json + n).update(from: keysText.baseAddress! + keyStarts[f], count: keyLength)
            n += keyLength
            if score != states[f].textScore || states[f].textLength == 0 {
                states[f].textScore = score
                states[f].textLength = withUnsafeMutableBytes(of: &states[f].text) {
                    ScoreText.write(score, to: $0.baseAddress!.assumingMemoryBound(to: UInt8.self))
                }
            }
            let length = states[f].textLength
            withUnsafeBytes(of: &states[f].text) {
                (json + n).update(from: $0.baseAddress!.assumingMemoryBound(to: UInt8.self), count: length)
            }
            if score > maxScore {
                maxScore = score
                maxText = n..<(n + length)
            }
            n += length
            full += 1
            let over = score > config.threshold
            if over { detected = true }
            let step = states[f].alert.update(
                score, threshold: config.threshold, resolveBelow: config.resolveBelow, gaugeInterval: gaugeInterval)
            if step.changed { raise(feature: f, group: group.name, score: score, firing: states[f].alert.firing) }
            if step.recordsGauge { group.gauges[f].record(score) }
        }
        if full == featureCount { checkWeighted(group) }
        guard full > 0 else {
            out.append(event)
            return
        }
        json[n] = UInt8(ascii: "}")
        json[n + 1] = UInt8(ascii: "}")
        n += 2
        // The head, {"metric":"psi","score":S,"detected":B,"features": , goes right before the
        // features object, in the room left for it, so nothing is moved.
        let detectedText = detected ? Self.detectedTrue : Self.detectedFalse
        var start = headRoom - detectedText.count
        detectedText.withUnsafeBufferPointer { (json + start).update(from: $0.baseAddress!, count: $0.count) }
        start -= maxText.count
        (json + start).update(from: json + maxText.lowerBound, count: maxText.count)
        start -= prefix.count
        prefix.withUnsafeBufferPointer { (json + start).update(from: $0.baseAddress!, count: $0.count) }
        // The member's name goes right before its value: a new member is one copy.
        start -= Self.driftName.bytes.count
        Self.driftName.bytes.withUnsafeBufferPointer { (json + start).update(from: $0.baseAddress!, count: $0.count) }
        let member = UnsafeBufferPointer(start: json + start, count: n - start)
        if let driftIndex {
            event.fields.setMember(Self.driftName, member: member, at: driftIndex)
        } else {
            event.fields.setMember(Self.driftName, member: member, hint: &driftHint)
        }
        if detected { event.fields.addTag("drift") }
        emit(event, into: &out)
    }

    /// `annotate: drifting` or `none`: the windows and alerts as with `scores`, and only while
    /// the group drifts, the tag and `drift.features` (drifting).
    @inline(__always)
    func scoreQuietly(_ event: consuming Event, group: Group, driftIndex: Int?, into out: inout [Event]) {
        let states = group.features
        let bins = self.bins
        let drifting = config.annotate == .drifting
        var full = 0
        var over = 0
        for f in 0..<names.count {
            if bins[f] >= 0, let score = states[f].add(bin: bins[f]) { states[f].score = score }
            guard let score = states[f].score else { continue }
            full += 1
            if score > config.threshold {
                if drifting {
                    featureList.append(over == 0 ? UInt8(ascii: "[") : UInt8(ascii: ","))
                    featureList += nameTexts[f]
                }
                over += 1
            }
            let step = states[f].alert.update(
                score, threshold: config.threshold, resolveBelow: config.resolveBelow, gaugeInterval: gaugeInterval)
            if step.changed { raise(feature: f, group: group.name, score: score, firing: states[f].alert.firing) }
            if step.recordsGauge { group.gauges[f].record(score) }
        }
        if full == names.count { checkWeighted(group) }
        if over > 0 && drifting {
            featureList += Array(#"]}"#.utf8)
            var member = Self.driftName.bytes + Array(#"{"features":"#.utf8)
            member += featureList
            featureList.removeAll(keepingCapacity: true)
            member.withUnsafeBufferPointer { m in
                if let driftIndex {
                    event.fields.setMember(Self.driftName, member: m, at: driftIndex)
                } else {
                    event.fields.setMember(Self.driftName, member: m, hint: &driftHint)
                }
            }
            event.fields.addTag("drift")
        }
        emit(event, into: &out)
    }

    /// With every window of the group full: the weighted score's alert, and the report when due.
    func checkWeighted(_ group: Group) {
        let reportDue = config.reportEvery > 0 && group.scored % config.reportEvery == 0
        guard reportDue || config.weightedThreshold != nil else { return }
        let states = group.features
        var weighted = 0.0
        for f in 0..<names.count { weighted += config.weights[f] * (states[f].score ?? 0) }
        if let t = config.weightedThreshold {
            let step = group.weightedAlert.update(weighted, threshold: t, resolveBelow: t, gaugeInterval: gaugeInterval)
            if step.changed {
                raise(name: Self.weightedFeature, group: group.name, score: weighted, threshold: t, resolveBelow: t,
                      firing: group.weightedAlert.firing)
            }
        }
        guard reportDue else { return }
        var detected = false
        for f in 0..<names.count where (states[f].score ?? 0) > config.threshold { detected = true }
        if let t = config.weightedThreshold, weighted > t { detected = true }
        let histograms = distributionFeatures.map { f -> DriftReport.Histogram in
            let baseline = config.baseline.feature(names[f])!
            let current = group.windows[f].proportions
            switch baseline.distribution {
            case .numeric(let n):
                return DriftReport.Histogram(feature: names[f], edges: n.edges, categories: nil, baseline: n.probabilities, current: current)
            case .categorical(let c):
                return DriftReport.Histogram(
                    feature: names[f], edges: nil, categories: c.values + [Baseline.otherKey],
                    baseline: c.probabilities + [c.other], current: current)
            }
        }
        recordDistributions(group, histograms)
        if group.weightedGauge == nil {
            group.weightedGauge = ModelMetrics.driftScore(
                feature: Self.weightedFeature, metric: config.metric.rawValue, group: group.name ?? "", factory: factory)
        }
        group.weightedGauge!.record(weighted)
        pendingReport = DriftReport(
            metric: config.metric.rawValue, window: config.window, group: group.name, scored: group.scored,
            scores: (0..<names.count).map { (names[$0], states[$0].score ?? 0) }, weighted: weighted,
            detected: detected, distributions: histograms)
    }

    /// `driftwood_feature_distribution{feature,group,bin}`: the window's share per bin, for the
    /// listed features only (bins: the bin's number from 0, or the category).
    /// The status page gets the histograms with their baselines (`ModelDistributions`).
    func recordDistributions(_ group: Group, _ histograms: [DriftReport.Histogram]) {
        guard !histograms.isEmpty else { return }
        if group.distributions == nil { group.distributions = ModelDistributions.of(stage: stage, group: group.name ?? "") }
        group.distributions!.record(histograms)
        if group.distributionGauges.isEmpty {
            group.distributionGauges = histograms.map { h in
                let labels = h.categories ?? (0..<h.current.count).map { "\($0)" }
                return labels.map {
                    ModelMetrics.featureDistribution(feature: h.feature, group: group.name ?? "", bin: $0, factory: factory)
                }
            }
        }
        for (k, h) in histograms.enumerated() {
            for (b, share) in h.current.enumerated() { group.distributionGauges[k][b].record(share) }
        }
    }

    /// Appends the event, its alerts, then its report.
    @inline(__always)
    func emit(_ event: consuming Event, into out: inout [Event]) {
        guard let report = pendingReport else {
            Alert.emit(&pendingAlerts, after: event, into: &out, stage: stage, hostName: hostName)
            return
        }
        pendingReport = nil
        let timestamp = event.fields.value(at: .timestamp)
        let origin = event.origin
        Alert.emit(&pendingAlerts, after: event, into: &out, stage: stage, hostName: hostName)
        out.append(report.event(timestamp: timestamp, origin: origin, stage: stage, hostName: hostName))
    }

    /// `alert.feature` of the importance-weighted score's alerts.
    static let weightedFeature = "_weighted"

    func raise(feature f: Int, group: String?, score: Double, firing: Bool) {
        raise(name: names[f], group: group, score: score, threshold: config.threshold, resolveBelow: config.resolveBelow,
              firing: firing)
    }

    func raise(name: String, group: String?, score: Double, threshold limit: Double, resolveBelow: Double, firing: Bool) {
        let metric = config.metric.rawValue
        let value = ScoreText.text(score)
        let threshold = ScoreText.text(limit)
        let whose = group.map { " (\(config.groupBy!.text) \($0))" } ?? ""
        let what = name == Self.weightedFeature ? "weighted \(metric) drift \(value)" : "\(metric) drift \(value) on \(name)"
        let message =
            firing
            ? "\(what)\(whose) exceeds \(threshold)"
            : "\(what)\(whose) is back at or under \(ScoreText.text(resolveBelow))"
        pendingAlerts.append(
            Alert(
                type: Self.alertType, state: firing ? .firing : .resolved, feature: name, metric: metric, value: score,
                threshold: limit, window: config.window, group: group, message: message))
        if firing { alertCounter.increment() }
        logger.notice(
            firing ? "drift alert" : "drift alert resolved",
            metadata: ["feature": "\(name)", "group": "\(group ?? "")", "score": "\(value)"])
    }

    func flushSkipped() {
        sinceFlush = 0
        for f in missing.indices {
            if missing[f] > 0 { missingCounters[f].increment(by: missing[f]) }
            if invalid[f] > 0 { invalidCounters[f].increment(by: invalid[f]) }
            missing[f] = 0
            invalid[f] = 0
        }
    }

    deinit {
        flushSkipped()
        bins.deallocate()
        json.deallocate()
        keysText.deallocate()
        keyStarts.deallocate()
    }
}

extension DriftFilter: PreparingFilter {
    /// Up to this many features fit a `Preparation` (a 16-bit bin each, in two words).
    static let preparedFeatures = 8

    public func makePreparer() -> (any EventPreparer)? {
        guard names.count <= Self.preparedFeatures, reader.binners.allSatisfy({ $0.binCount < Int(Int16.max) }) else {
            return nil
        }
        return DriftPreparer(reader: reader.copy(), findsDrift: config.annotate == .scores)
    }

    public var writesMembers: [[UInt8]]? { [Self.driftName.bytes, FieldPath.tags.components[0]] }

    public var readsMembers: [[UInt8]]? { reader.paths.roots.map(\.name) + [Self.driftName.bytes] }

    public func apply(_ event: consuming Event, prepared: Preparation, into out: inout [Event]) {
        let (low, high, group, flags) = prepared.words
        for f in 0..<names.count {
            let word = f < 4 ? low : high
            bins[f] = Int(Int16(truncatingIfNeeded: word >> UInt64(16 * (f & 3))))
        }
        let slot = ValueSlot(
            start: Int32(truncatingIfNeeded: group), end: Int32(truncatingIfNeeded: group >> 32),
            isText: flags & 2 != 0, found: flags & 1 != 0)
        // 0: not looked for (found in the turn, if a `drift` member is written); 1: none; k + 2: at k.
        let drift = Int(flags >> 32)
        score(event, counted: flags & 4 != 0, groupSlot: slot, driftIndex: drift == 0 ? nil : drift - 2, into: &out)
    }
}

/// Reads a drift filter's part of an event ahead of its turn, on one filter worker: each
/// feature's bin, where the `group_by` value is, and (with `annotate: scores`, which writes a
/// `drift` member into every scored event) where the event's `drift` member is; otherwise the
/// turn looks for it in the rare event it writes one to, instead of every event here.
final class DriftPreparer: EventPreparer {
    let reader: FeatureReader
    let bins: UnsafeMutableBufferPointer<Int>
    var driftHint = 0
    let findsDrift: Bool

    init(reader: FeatureReader, findsDrift: Bool) {
        self.reader = reader
        self.findsDrift = findsDrift
        bins = .allocate(capacity: DriftFilter.preparedFeatures)
        bins.initialize(repeating: FeatureBinner.missingBin)
    }

    deinit { bins.deallocate() }

    func prepare(_ events: UnsafeMutableBufferPointer<Event>, into readings: inout [Preparation]) {
        for e in events.indices { readings.append(prepare(&events[e])) }
    }

    func prepare(_ event: inout Event) -> Preparation {
        var prepared = Preparation()
        let counted = reader.read(event.fields, into: bins)
        var low: UInt64 = 0
        var high: UInt64 = 0
        for f in 0..<reader.binners.count {
            let bits = UInt64(UInt16(bitPattern: Int16(truncatingIfNeeded: bins[f]))) << UInt64(16 * (f & 3))
            if f < 4 { low |= bits } else { high |= bits }
        }
        let slot = reader.groupSlot
        let group = UInt64(UInt32(bitPattern: slot.start)) | UInt64(UInt32(bitPattern: slot.end)) << 32
        let drift = findsDrift ? (event.fields.memberIndex(DriftFilter.driftName.bytes, hint: &driftHint) ?? -1) + 2 : 0
        let flags: UInt64 = (slot.found ? 1 : 0) | (slot.isText ? 2 : 0) | (counted ? 4 : 0) | UInt64(drift) << 32
        prepared.words = (low, high, group, flags)
        return prepared
    }
}
