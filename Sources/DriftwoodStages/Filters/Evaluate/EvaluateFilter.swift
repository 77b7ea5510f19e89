import DriftwoodCore
import Logging
import Metrics

/// Model quality with delayed ground truth: joins each prediction with its label by `id`
/// (whichever comes first waits in `PendingJoins`, bounded by `pending.max` and `pending.ttl` in
/// event time), and keeps per `group_by` value a `PairWindow` of the last `window` matched
/// pairs. From it come the performance metrics and, over `fairness.attribute`, the fairness
/// metrics; reports every `report_every` pairs once the window is full, and
/// `MODEL_PERFORMANCE_DEGRADED` / `FAIRNESS_VIOLATION` alerts right after the event that
/// completed the pair. A label event that completes a pair gets `evaluation.{prediction,
/// correct | error}`; nothing else is changed or delayed.
///
/// Per event: one pass over the event for its fields (`PathSet`), a 128-bit hash of the id,
/// one index lookup and an insert or a removal; per pair O(1) window updates (O(values) for
/// the fairness checks); AUC and the lag quantiles sort the window at report time only. Holds
/// state, so it runs on one filter worker, in order.
public final class EvaluateFilter: Filter {
    /// One `group_by` value's window, counts and alert state.
    final class Group {
        let name: String?
        @exclusivity(unchecked) var window: PairWindow
        @exclusivity(unchecked) var pairs = 0
        @exclusivity(unchecked) var expired = 0
        @exclusivity(unchecked) var performanceAlerts: [AlertLatch]
        @exclusivity(unchecked) var fairnessAlerts: [AlertLatch]
        @exclusivity(unchecked) var lastAUC: Double?
        let performanceGauges: [Gauge]
        let fairnessGauges: [Gauge]
        let lag: Recorder

        init(name: String?, config: EvaluateConfig, factory: any MetricsFactory) {
            self.name = name
            window = PairWindow(task: config.task, capacity: config.window)
            performanceAlerts = config.thresholds.map { _ in AlertLatch() }
            fairnessAlerts = (config.fairness?.thresholds ?? []).map { _ in AlertLatch() }
            performanceGauges = config.metrics.map {
                ModelMetrics.performance(group: name ?? "", metric: $0.rawValue, factory: factory)
            }
            fairnessGauges = (config.fairness?.metrics ?? []).map {
                ModelMetrics.fairness(
                    group: name ?? "", attribute: config.fairness!.attribute.text, metric: $0.rawValue, factory: factory)
            }
            lag = ModelMetrics.labelLag(group: name ?? "", factory: factory)
            // The thresholds, for the status page's threshold lines and for dashboards (a
            // performance threshold is a floor, except mae/rmse/mape; disparate impact's too).
            for t in config.thresholds {
                ModelMetrics.threshold(group: name ?? "", metric: t.metric.rawValue, value: t.value, factory: factory)
            }
            for t in config.fairness?.thresholds ?? [] {
                ModelMetrics.threshold(group: name ?? "", metric: t.metric.rawValue, value: t.value, factory: factory)
            }
        }
    }

    /// Why an event was not used, as `driftwood_evaluate_unmatched_total{reason}` counts it.
    enum Reason: String, CaseIterable {
        case expired, evicted
        case duplicateLabel = "duplicate_label"
        case duplicatePrediction = "duplicate_prediction"
        case noID = "no_id"
        case noGroup = "no_group"
        case invalidPrediction = "invalid_prediction"
        case invalidLabel = "invalid_label"

        /// The position in `allCases` (which builds an array on every use).
        var index: Int {
            switch self {
            case .expired: 0
            case .evicted: 1
            case .duplicateLabel: 2
            case .duplicatePrediction: 3
            case .noID: 4
            case .noGroup: 5
            case .invalidPrediction: 6
            case .invalidLabel: 7
            }
        }
    }

    /// `evaluation` of a completing label: how the prediction was written (`PendingJoins.Entry.flags`).
    static let predictedBool: UInt8 = 1
    static let predictedName: UInt8 = 2

    let config: EvaluateConfig
    let stage: String
    let hostName: String
    let logger: Logger
    let factory: any MetricsFactory
    let reader: EvaluateReader
    @exclusivity(unchecked) var groups: GroupTable<Group>
    @exclusivity(unchecked) var pending: PendingJoins
    @exclusivity(unchecked) var lost: [PendingJoins.Loss] = []
    @exclusivity(unchecked) var pendingAlerts: [Alert] = []
    /// multiclass: class keys by id (at most `max_classes`), and whether each was written as a string.
    @exclusivity(unchecked) var classes = ByteTable()
    @exclusivity(unchecked) var classIsString: [Bool] = []
    /// fairness: attribute values by id (at most `fairness.max_values`).
    @exclusivity(unchecked) var attributeValues = ByteTable()
    @exclusivity(unchecked) var warned: Set<String> = []
    /// The pending count as `driftwood_evaluate_pending` last had it.
    @exclusivity(unchecked) var recordedPending = 0
    /// `driftwood_evaluate_unmatched_total` by reason, in `Reason.allCases` order.
    let unmatched: [Counter]
    /// The reasons whose first occurrence was logged, in `Reason.allCases` order.
    @exclusivity(unchecked) var warnedReasons = [Bool](repeating: false, count: Reason.allCases.count)
    let pendingGauge: Gauge
    let performanceAlertCounter: Counter
    let fairnessAlertCounter: Counter
    let gaugeInterval: Int
    /// Pairs between two AUC computations when no report asks for it.
    let aucEvery: Int
    let ttlMilliseconds: Int64
    static let evaluationPath = FieldPath("evaluation")!
    static let performanceType = "MODEL_PERFORMANCE_DEGRADED"
    static let fairnessType = "FAIRNESS_VIOLATION"
    static let timestampFailure = "_timestamp_failure"

    public init(config: EvaluateConfig, environment: StageEnvironment, factory: any MetricsFactory = MetricsSystem.factory) {
        self.config = config
        stage = environment.id
        hostName = environment.hostName
        logger = environment.logger
        self.factory = factory
        reader = EvaluateReader(config: config)
        groups = GroupTable(maxGroups: config.maxGroups)
        let (seconds, attoseconds) = config.pendingTTL.components
        ttlMilliseconds = seconds * 1000 + attoseconds / 1_000_000_000_000_000
        pending = PendingJoins(max: config.pendingMax, ttlMilliseconds: ttlMilliseconds)
        precondition(Reason.allCases.enumerated().allSatisfy { $0.offset == $0.element.index })
        unmatched = Reason.allCases.map { ModelMetrics.unmatched(stage: environment.id, reason: $0.rawValue, factory: factory) }
        pendingGauge = ModelMetrics.pending(stage: environment.id, factory: factory)
        performanceAlertCounter = ModelMetrics.alerts(type: Self.performanceType, factory: factory)
        fairnessAlertCounter = ModelMetrics.alerts(type: Self.fairnessType, factory: factory)
        gaugeInterval = min(config.window, ModelMetrics.gaugeInterval)
        aucEvery = config.reportEvery > 0 ? config.reportEvery : config.window
        if config.groupBy == nil { groups.appendUngrouped(Group(name: nil, config: config, factory: factory)) }
    }

    deinit { pendingGauge.record(pending.count) }

    public func apply(_ event: consuming Event, into out: inout [Event]) {
        var event = event
        let seen = reader.read(&event)
        join(event, seen, into: &out)
    }

    /// Joins an event from what was read of it (here or by a preparer).
    func join(_ event: consuming Event, _ seen: EvaluateReader.Seen, into out: inout [Event]) {
        var seen = seen
        guard !seen.isDerived else {
            out.append(event)  // alerts and reports of earlier filters
            return
        }
        let isLabel = config.labelWhenIsDefault ? seen.label != nil : config.labelWhen.matches(event.fields)
        // Event time moves with the predictions and labels only: another line's @timestamp may be
        // its read time (a line that is not JSON, one without a time field), which in a replay
        // of old logs is days ahead and would expire every entry at once. So may a prediction's
        // whose time did not parse: a jump past the ttl is checked for `_timestamp_failure`, and
        // such an event is filed under the newest time seen, like one without a time.
        if seen.time != .min, isLabel || seen.prediction != nil {
            if pending.now != .min, seen.time > pending.now, seen.time - pending.now > ttlMilliseconds,
                event.fields.hasTag(Self.timestampFailure)
            {
                seen.time = .min
            } else {
                pending.advance(to: seen.time, lost: &lost)
                if !lost.isEmpty { settleLosses() }
            }
        }
        if isLabel {
            takeLabel(event, seen, into: &out)
        } else if seen.prediction != nil {
            takePrediction(event, seen, into: &out)
        } else {
            out.append(event)
        }
        if pending.count != recordedPending {
            recordedPending = pending.count
            pendingGauge.record(recordedPending)
        }
    }

    /// The time to file an entry under: the event's, else the newest seen.
    func time(_ seen: EvaluateReader.Seen) -> Int64 { seen.time != .min ? seen.time : max(pending.now, 0) }

    func takeLabel(_ event: consuming Event, _ seen: EvaluateReader.Seen, into out: inout [Event]) {
        guard let id = seen.id else {
            count(.noID, "a label without an id (\(config.id.text))")
            out.append(event)
            return
        }
        guard let truth = truthValue(event, seen) else {
            count(.invalidLabel, "a label that is \(labelExpectation)")
            out.append(event)
            return
        }
        guard let entry = pending.find(idLow: id.0, idHigh: id.1, lost: &lost) else {
            if !lost.isEmpty { settleLosses() }
            pending.addPending(
                PendingJoins.Entry(idLow: id.0, idHigh: id.1, time: time(seen), value: truth, kind: .label), lost: &lost)
            if !lost.isEmpty { settleLosses() }
            out.append(event)
            return
        }
        guard entry.kind == .prediction else {
            count(.duplicateLabel, "a second label for an id")
            out.append(event)
            return
        }
        pending.markMatched(idLow: id.0, idHigh: id.1, time: time(seen))
        let pair = Pair(
            truth: truth, predicted: entry.value, score: entry.score, lag: Double(time(seen) - entry.time) / 1000,
            attribute: entry.attribute)
        var event = event
        annotate(&event, entry: entry, pair: pair)
        finish(event, pair: pair, group: groups.groups[Int(entry.group)], into: &out)
    }

    func takePrediction(_ event: consuming Event, _ seen: EvaluateReader.Seen, into out: inout [Event]) {
        guard let id = seen.id else {
            count(.noID, "a prediction without an id (\(config.id.text))")
            out.append(event)
            return
        }
        guard let g = groupID(event, seen) else {
            count(.noGroup, "a prediction without a \(config.groupBy?.text ?? "group") value, or past max_groups")
            out.append(event)
            return
        }
        guard case let (value, score, flags)? = predictedValue(event, seen) else {
            count(.invalidPrediction, "a prediction that is \(predictionExpectation)")
            out.append(event)
            return
        }
        let attribute = attributeID(event, seen)
        let entry = PendingJoins.Entry(
            idLow: id.0, idHigh: id.1, time: time(seen), value: value, score: score, group: Int32(g),
            attribute: attribute, kind: .prediction, flags: flags)
        guard let other = pending.find(idLow: id.0, idHigh: id.1, lost: &lost) else {
            if !lost.isEmpty { settleLosses() }
            pending.addPending(entry, lost: &lost)
            if !lost.isEmpty { settleLosses() }
            out.append(event)
            return
        }
        guard other.kind == .label else {
            count(.duplicatePrediction, "a second prediction for an id")
            out.append(event)
            return
        }
        // The label came first: this prediction completes the pair (and is not changed).
        pending.markMatched(idLow: id.0, idHigh: id.1, time: time(seen))
        let pair = Pair(
            truth: other.value, predicted: value, score: score, lag: Double(other.time - entry.time) / 1000,
            attribute: attribute)
        finish(event, pair: pair, group: groups.groups[g], into: &out)
    }

    // MARK: Pairs

    /// Adds the pair the event completed; passes the event on, then its alerts and report.
    func finish(_ event: consuming Event, pair: Pair, group: Group, into out: inout [Event]) {
        let due = add(pair, to: group)
        let timestamp = due ? event.fields.value(at: .timestamp) : nil
        let origin = event.origin
        Alert.emit(&pendingAlerts, after: event, into: &out, stage: stage, hostName: hostName)
        if due { out.append(report(group, timestamp: timestamp, origin: origin)) }
    }

    /// Counts a pair in its group's window and checks the alerts; true when a report is due.
    @discardableResult
    func add(_ pair: Pair, to group: Group) -> Bool {
        group.window.add(pair)
        group.pairs += 1
        group.lag.record(max(0, pair.lag))
        guard group.window.isFull else { return false }
        let due = config.reportEvery > 0 && group.pairs % config.reportEvery == 0
        if due || group.pairs % aucEvery == 0, config.metrics.contains(.auc) || config.thresholds.contains(where: { $0.metric == .auc }) {
            group.lastAUC = group.window.auc()
        }
        checkPerformance(group)
        checkFairness(group)
        if group.pairs % gaugeInterval == 0 || due { recordGauges(group) }
        return due
    }

    func value(_ metric: EvaluationMetric, _ group: Group) -> Double? {
        metric == .auc ? group.lastAUC : group.window.value(metric)
    }

    func checkPerformance(_ group: Group) {
        for (k, t) in config.thresholds.enumerated() {
            guard let v = value(t.metric, group) else { continue }
            // The latch fires above its threshold: a metric that is bad when low is negated.
            let sign = t.metric.isError ? 1.0 : -1.0
            let resolveAt = config.resolve[t.metric] ?? t.value
            let step = group.performanceAlerts[k].update(
                sign * v, threshold: sign * t.value, resolveBelow: sign * resolveAt, gaugeInterval: .max)
            guard step.changed else { continue }
            let firing = group.performanceAlerts[k].firing
            let whose = group.name.map { " of \($0)" } ?? ""
            let side = t.metric.isError ? "above" : "below"
            let back = t.metric.isError ? "back at or under" : "back at or above"
            let message =
                firing
                ? "\(t.metric.rawValue) \(ScoreText.text(v))\(whose) is \(side) \(ScoreText.text(t.value)) over the last \(config.window) pairs"
                : "\(t.metric.rawValue) \(ScoreText.text(v))\(whose) is \(back) \(ScoreText.text(resolveAt))"
            pendingAlerts.append(
                Alert(
                    type: Self.performanceType, state: firing ? .firing : .resolved, feature: nil, metric: t.metric.rawValue,
                    value: v, threshold: t.value, window: config.window, group: group.name, message: message))
            if firing { performanceAlertCounter.increment() }
            logger.notice(
                firing ? "model performance alert" : "model performance alert resolved",
                metadata: ["group": "\(group.name ?? "")", "metric": "\(t.metric.rawValue)", "value": "\(ScoreText.text(v))"])
        }
    }

    /// The values of the attribute with at least `min_group_size` pairs in the window (ids), and
    /// those with fewer.
    func fairnessValues(_ group: Group) -> (kept: [Int], excluded: [Int]) {
        guard let f = config.fairness else { return ([], []) }
        var kept: [Int] = []
        var excluded: [Int] = []
        for (v, c) in group.window.fairness.enumerated() where c.n > 0 {
            if c.n >= f.minGroupSize { kept.append(v) } else { excluded.append(v) }
        }
        return (kept, excluded)
    }

    func checkFairness(_ group: Group) {
        guard let f = config.fairness, !f.thresholds.isEmpty else { return }
        let counts = fairnessValues(group).kept.map { group.window.fairness[$0] }
        for (k, t) in f.thresholds.enumerated() {
            guard let v = t.metric.value(counts) else { continue }
            let sign = t.metric.alertsBelow ? -1.0 : 1.0
            let resolveAt = f.resolve[t.metric] ?? t.value
            let step = group.fairnessAlerts[k].update(
                sign * v, threshold: sign * t.value, resolveBelow: sign * resolveAt, gaugeInterval: .max)
            guard step.changed else { continue }
            let firing = group.fairnessAlerts[k].firing
            let whose = group.name.map { " of \($0)" } ?? ""
            let side = t.metric.alertsBelow ? "below" : "above"
            let back = t.metric.alertsBelow ? "back at or above" : "back at or under"
            let message =
                firing
                ? "\(t.metric.rawValue) \(ScoreText.text(v)) over \(f.attribute.text)\(whose) is \(side) \(ScoreText.text(t.value)) over the last \(config.window) pairs"
                : "\(t.metric.rawValue) \(ScoreText.text(v)) over \(f.attribute.text)\(whose) is \(back) \(ScoreText.text(resolveAt))"
            pendingAlerts.append(
                Alert(
                    type: Self.fairnessType, state: firing ? .firing : .resolved, feature: nil, metric: t.metric.rawValue,
                    value: v, threshold: t.value, window: config.window, group: group.name, attribute: f.attribute.text,
                    message: message))
            if firing { fairnessAlertCounter.increment() }
            logger.notice(
                firing ? "fairness alert" : "fairness alert resolved",
                metadata: ["group": "\(group.name ?? "")", "metric": "\(t.metric.rawValue)", "value": "\(ScoreText.text(v))"])
        }
    }

    func recordGauges(_ group: Group) {
        for (k, m) in config.metrics.enumerated() {
            if let v = value(m, group) { group.performanceGauges[k].record(v) }
        }
        guard let f = config.fairness else { return }
        let counts = fairnessValues(group).kept.map { group.window.fairness[$0] }
        for (k, m) in f.metrics.enumerated() {
            if let v = m.value(counts) { group.fairnessGauges[k].record(v) }
        }
    }

    // MARK: Losses and counts

    func settleLosses() {
        for loss in lost {
            switch loss {
            case .expired(let e):
                count(.expired, nil)
                if e.kind == .prediction, Int(e.group) < groups.groups.count { groups.groups[Int(e.group)].expired += 1 }
            case .evicted:
                count(.evicted, "pending.max (\(config.pendingMax)) entries waiting; the oldest are dropped")
            }
        }
        lost.removeAll(keepingCapacity: true)
    }

    /// Counts an event or entry not used; logs the first of each reason. `what` is only made for
    /// that first one (an eviction a prediction, once the join is full, built its text each time).
    func count(_ reason: Reason, _ describe: @autoclosure () -> String?) {
        let k = reason.index
        unmatched[k].increment()
        if !warnedReasons[k], let what = describe() {
            warnedReasons[k] = true
            logger.warning(
                "evaluate: \(what) is not used (counted in driftwood_evaluate_unmatched_total{reason=\"\(reason.rawValue)\"}; logged once)",
                metadata: ["stage": "\(stage)"])
        }
    }

    var labelExpectation: String {
        switch config.task {
        case .binary:
            let positive = String(decoding: config.positive, as: UTF8.self)
            let negative = config.negative.map { String(decoding: $0, as: UTF8.self) } ?? "any other value"
            return "neither positive (\(positive)) nor negative (\(negative))"
        case .multiclass: return "no class (null, an object or an array), or one class more than max_classes"
        case .regression: return "not a number"
        }
    }

    var predictionExpectation: String {
        switch config.task {
        case .binary: return "no score, 0/1, bool or class name"
        case .multiclass: return "no class (null, an object or an array), or one class more than max_classes"
        case .regression: return "not a number"
        }
    }
}

extension EvaluateFilter: PreparingFilter {
    public func makePreparer() -> (any EventPreparer)? { EvaluatePreparer(config: config) }

    /// The label event's `evaluation` member, and `tags` on a conflict.
    public var writesMembers: [[UInt8]]? { [Self.evaluationPath.components[0], FieldPath.tags.components[0]] }

    /// A user-written `label_when` may read anything.
    public var readsMembers: [[UInt8]]? { config.labelWhenIsDefault ? reader.paths.roots.map(\.name) : nil }

    public func apply(_ event: consuming Event, prepared: Preparation, into out: inout [Event]) {
        join(event, EvaluateReader.Seen(prepared), into: &out)
    }

    /// The join's index slots of the coming events' ids, and of the entries their predictions
    /// will evict, start loading (each a cache miss in a table of a million). Measured (W1 +
    /// evaluate, 3M lines, perf samples of lookups + evictions' index updates + these hints, no
    /// hint / the lookups' alone / both, back to back, twice): 1,059-1,153 / 619-651 / 339-376.
    public func willApply(_ readings: UnsafeBufferPointer<Preparation>, after: Int) {
        pending.prefetch(readings.count) { EvaluateReader.Seen.idLow(readings[$0]) }
        pending.prefetchVictims(skip: after, count: readings.count)
    }
}
