import DriftwoodCore
import Logging
import Metrics

/// Model health in the stream (the seeds' AlertSystem): per `group_by` value, a window of the
/// last `window` events gives the error rate (events matching `error_rate.when`) and a window of
/// the last `window` latency values gives their mean, p95 or p99. Once a window is full, a value
/// over its threshold raises a `HIGH_ERROR_RATE` or `HIGH_LATENCY` alert event right after the
/// trigger, and a `resolved` one when it goes back. Alert events (`event.kind: alert`, from an
/// earlier filter) are passed on and not counted. Events are not changed.
///
/// Per event: the condition, one field lookup, O(1) window updates (p95/p99 also slide the
/// value in a sorted copy of the window). Holds state, so it runs on one filter worker.
public final class MonitorFilter: Filter {
    /// The windows of one `group_by` value (or of every event, without `group_by`).
    final class Group {
        let name: String?
        @exclusivity(unchecked) var errors: FlagWindow
        @exclusivity(unchecked) var latencies: ValueWindow
        @exclusivity(unchecked) var errorAlert = AlertLatch()
        @exclusivity(unchecked) var latencyAlert = AlertLatch()
        /// Events of the group counted so far.
        @exclusivity(unchecked) var events = 0
        let errorGauge: Gauge
        let latencyGauge: Gauge
        let tally: ModelTally

        init(
            name: String?, errors: FlagWindow, latencies: ValueWindow, errorGauge: Gauge, latencyGauge: Gauge,
            tally: ModelTally
        ) {
            self.name = name
            self.tally = tally
            self.errors = errors
            self.latencies = latencies
            self.errorGauge = errorGauge
            self.latencyGauge = latencyGauge
        }
    }

    // The filter runs on one thread at a time, so its state is used without the runtime's
    // exclusivity checks on every event.
    let config: MonitorConfig
    let stage: String
    let hostName: String
    let logger: Logger
    let factory: any MetricsFactory
    let errorAlerts: Counter
    let latencyAlerts: Counter
    let gaugeInterval: Int
    let latencyMetric: String
    @exclusivity(unchecked) var groups: GroupTable<Group>
    @exclusivity(unchecked) var pendingAlerts: [Alert] = []
    /// `event.kind`, the latency field, the `group_by` field, then — with the default error
    /// condition — `level` and `error`.
    let watched: [FieldPath]
    /// The default `level == "ERROR" or exists(error)` is answered from the same pass over the
    /// event (`watched[levelSlot]`, `watched[levelSlot + 1]`) instead of evaluating the condition.
    let levelSlot: Int?
    /// Reads events in the filter's own turn (when no worker read them ahead).
    let ownPreparer: MonitorPreparer
    static let levelPath = FieldPath("level")!
    static let errorPath = FieldPath("error")!
    static let kindPath = FieldPath("event.kind")!
    static let errorType = "HIGH_ERROR_RATE"
    static let latencyType = "HIGH_LATENCY"

    public init(config: MonitorConfig, environment: StageEnvironment, factory: any MetricsFactory = MetricsSystem.factory) {
        self.config = config
        groups = GroupTable(maxGroups: config.maxGroups)
        stage = environment.id
        hostName = environment.hostName
        logger = environment.logger
        self.factory = factory
        errorAlerts = ModelMetrics.alerts(type: Self.errorType, factory: factory)
        latencyAlerts = ModelMetrics.alerts(type: Self.latencyType, factory: factory)
        gaugeInterval = min(config.window, ModelMetrics.gaugeInterval)
        latencyMetric = "latency_" + config.latency.statistic.rawValue
        var watched = [Self.kindPath, config.latency.field] + (config.groupBy.map { [$0] } ?? [])
        let fast = config.errorRate.when.source == MonitorConfig.defaultErrorCondition
            && !watched.contains(Self.levelPath) && !watched.contains(Self.errorPath)
        levelSlot = fast ? watched.count : nil
        if fast { watched += [Self.levelPath, Self.errorPath] }
        self.watched = watched
        ownPreparer = MonitorPreparer(watched: watched, levelSlot: levelSlot, errorRate: config.errorRate.when)
        if config.groupBy == nil { groups.appendUngrouped(makeGroup(name: nil)) }
    }

    func makeGroup(name: String?) -> Group {
        ModelMetrics.threshold(group: name ?? "", metric: "error_rate", value: config.errorRate.threshold, factory: factory)
        ModelMetrics.threshold(group: name ?? "", metric: latencyMetric, value: config.latency.threshold, factory: factory)
        return Group(
            name: name, errors: FlagWindow(capacity: config.window),
            latencies: ValueWindow(capacity: config.window, keepsSorted: config.latency.statistic.quantile != nil),
            errorGauge: ModelMetrics.errorRate(group: name ?? "", factory: factory),
            latencyGauge: ModelMetrics.latency(
                group: name ?? "", statistic: config.latency.statistic.rawValue, factory: factory),
            tally: ModelMetrics.events(stage: stage, group: name ?? ""))
    }

    /// The group named by these bytes, created when new; nil past `max_groups`.
    func groupID(named key: UnsafeBufferPointer<UInt8>) -> Int? {
        groups.id(named: key, make: { makeGroup(name: $0) }) {
            logger.warning(
                "more group_by values than max_groups; events of further groups are not counted",
                metadata: ["group_by": "\(config.groupBy!)", "max_groups": "\(config.maxGroups)"])
        }
    }

    public func apply(_ event: consuming Event, into out: inout [Event]) {
        var event = event
        let seen = ownPreparer.read(&event)
        count(event, seen, into: &out)
    }

    /// Counts an event from what was read of it.
    func count(_ event: consuming Event, _ seen: MonitorPreparer.Seen, into out: inout [Event]) {
        var groupIndex: Int? = config.groupBy == nil ? 0 : nil
        if config.groupBy != nil, let slot = seen.group {
            groupIndex = event.fields.withBytes { p in
                PathSet.withKeyBytes(p, slot.range, isText: slot.isText) { groupID(named: $0) }
            }
        }
        // Alerts and reports from an earlier filter pass on uncounted, as do events without a group_by value.
        guard !seen.isAlert, let g = groupIndex else {
            out.append(event)
            return
        }
        let group = groups.groups[g]
        group.tally.add()
        group.events += 1
        group.errors.add(seen.isError)
        if group.errors.isFull { checkErrorRate(group) }
        if let latency = seen.latency {
            group.latencies.add(latency)
            if group.latencies.isFull { checkLatency(group) }
        }
        if config.reportEvery > 0 && group.events % config.reportEvery == 0 && group.errors.isFull {
            let latency: Double? =
                group.latencies.isFull
                ? (config.latency.statistic.quantile.map { group.latencies.quantile($0) } ?? group.latencies.mean) : nil
            let report = MonitorReport(
                group: group.name, window: config.window, events: group.events, errorRate: group.errors.rate,
                statistic: config.latency.statistic.rawValue, field: config.latency.field.text, latency: latency)
            let timestamp = event.fields.value(at: .timestamp)
            let origin = event.origin
            Alert.emit(&pendingAlerts, after: event, into: &out, stage: stage, hostName: hostName)
            out.append(report.event(timestamp: timestamp, origin: origin, stage: stage, hostName: hostName))
            return
        }
        Alert.emit(&pendingAlerts, after: event, into: &out, stage: stage, hostName: hostName)
    }

    func checkErrorRate(_ group: Group) {
        let rate = group.errors.rate
        let step = group.errorAlert.update(
            rate, threshold: config.errorRate.threshold, resolveBelow: config.errorRate.resolveBelow,
            gaugeInterval: gaugeInterval)
        if step.changed {
            let over = group.errorAlert.firing
            let name = group.name
            let whose = name.map { " for \(config.groupBy!.text) \($0)" } ?? ""
            let value = ScoreText.text(rate)
            let threshold = ScoreText.text(config.errorRate.threshold)
            let message =
                over
                ? "error rate \(value)\(whose) exceeds \(threshold) over the last \(config.window) events"
                : "error rate \(value)\(whose) is back at or under \(ScoreText.text(config.errorRate.resolveBelow))"
            pendingAlerts.append(
                Alert(
                    type: Self.errorType, state: over ? .firing : .resolved, feature: nil, metric: "error_rate",
                    value: rate, threshold: config.errorRate.threshold, window: config.window, group: name,
                    message: message))
            if over { errorAlerts.increment() }
            logger.notice(over ? "error rate alert" : "error rate alert resolved", metadata: ["group": "\(name ?? "")", "rate": "\(value)"])
        }
        if step.recordsGauge { group.errorGauge.record(rate) }
    }

    func checkLatency(_ group: Group) {
        let statistic = config.latency.statistic
        let value = statistic.quantile.map { group.latencies.quantile($0) } ?? group.latencies.mean
        let step = group.latencyAlert.update(
            value, threshold: config.latency.threshold, resolveBelow: config.latency.resolveBelow,
            gaugeInterval: gaugeInterval)
        if step.changed {
            let over = group.latencyAlert.firing
            let name = group.name
            let whose = name.map { " for \(config.groupBy!.text) \($0)" } ?? ""
            let field = config.latency.field.text
            let shown = ScoreText.text(value, decimals: 2)
            let threshold = ScoreText.text(config.latency.threshold, decimals: 2)
            let message =
                over
                ? "\(statistic.rawValue) \(field) \(shown)\(whose) exceeds \(threshold) over the last \(config.window) values"
                : "\(statistic.rawValue) \(field) \(shown)\(whose) is back at or under \(ScoreText.text(config.latency.resolveBelow, decimals: 2))"
            pendingAlerts.append(
                Alert(
                    type: Self.latencyType, state: over ? .firing : .resolved, feature: field, metric: latencyMetric,
                    value: value, threshold: config.latency.threshold, window: config.window, group: name,
                    message: message))
            if over { latencyAlerts.increment() }
            logger.notice(over ? "latency alert" : "latency alert resolved", metadata: ["group": "\(name ?? "")", "value": "\(shown)"])
        }
        if step.recordsGauge { group.latencyGauge.record(value) }
    }

}

extension MonitorFilter: PreparingFilter {
    public func makePreparer() -> (any EventPreparer)? {
        MonitorPreparer(watched: watched, levelSlot: levelSlot, errorRate: config.errorRate.when)
    }

    /// Events pass unchanged.
    public var writesMembers: [[UInt8]]? { [] }

    /// With a user-written error condition, what it reads is not known.
    public var readsMembers: [[UInt8]]? { levelSlot == nil ? nil : watched.map { $0.components[0] } }

    public func apply(_ event: consuming Event, prepared: Preparation, into out: inout [Event]) {
        count(event, MonitorPreparer.Seen(prepared), into: &out)
    }
}

/// Reads what the monitor filter counts from an event, ahead of the filter's turn on a filter
/// worker (or in it): whether it is an alert, whether it is an error, its latency, and where its
/// `group_by` value is.
final class MonitorPreparer: EventPreparer {
    /// What was read, and its form as a `Preparation`.
    struct Seen {
        var isAlert = false
        var isError = false
        var latency: Double?
        var group: ValueSlot?

        init() {}

        init(_ prepared: Preparation) {
            let (latencyBits, group, flags, _) = prepared.words
            isAlert = flags & 1 != 0
            isError = flags & 2 != 0
            latency = flags & 4 != 0 ? Double(bitPattern: latencyBits) : nil
            if flags & 8 != 0 {
                self.group = ValueSlot(
                    start: Int32(truncatingIfNeeded: group), end: Int32(truncatingIfNeeded: group >> 32),
                    isText: flags & 16 != 0, found: true)
            }
        }

        var preparation: Preparation {
            var p = Preparation()
            let slot = group ?? ValueSlot()
            p.words = (
                latency?.bitPattern ?? 0,
                UInt64(UInt32(bitPattern: slot.start)) | UInt64(UInt32(bitPattern: slot.end)) << 32,
                (isAlert ? 1 : 0) | (isError ? 2 : 0) | (latency != nil ? 4 : 0) | (group != nil ? 8 : 0)
                    | (slot.isText ? 16 : 0),
                0)
            return p
        }
    }

    let paths: PathSet
    let slots: UnsafeMutableBufferPointer<ValueSlot>
    let levelSlot: Int?
    let errorRate: Condition
    let hasGroup: Bool
    static let alertKind = Array("alert".utf8)
    /// Reports (`event.kind: metric`) of an earlier drift or monitor filter are not counted either.
    static let metricKind = Array("metric".utf8)
    static let errorLevel = Array("ERROR".utf8)

    /// `watched`: `event.kind`, the latency field, then the `group_by` field if any, then
    /// `level` and `error` from `levelSlot` on (the default error condition).
    init(watched: [FieldPath], levelSlot: Int?, errorRate: Condition) {
        paths = PathSet(watched)
        slots = .allocate(capacity: watched.count)
        slots.initialize(repeating: ValueSlot())
        self.levelSlot = levelSlot
        self.errorRate = errorRate
        hasGroup = watched.count > (levelSlot.map { _ in 4 } ?? 2)
    }

    deinit { slots.deallocate() }

    func prepare(_ events: UnsafeMutableBufferPointer<Event>, into readings: inout [Preparation]) {
        for e in events.indices { readings.append(read(&events[e]).preparation) }
    }

    /// (`inout` only so that an event in an array is read without a copy: nothing changes.)
    func read(_ event: inout Event) -> Seen {
        // One pass for `event.kind`, the latency field, the group_by field (and level, error).
        let slots = self.slots
        paths.locate(in: event.fields, into: slots)
        var seen = Seen()
        if slots[0].found || slots[1].found {
            event.fields.withBytes { p in
                if slots[0].found {
                    seen.isAlert = PathSet.withKeyBytes(p, slots[0].range, isText: slots[0].isText) {
                        $0.elementsEqual(Self.alertKind) || $0.elementsEqual(Self.metricKind)
                    }
                }
                if slots[1].found, !slots[1].isText { seen.latency = NumberText.parse(p, slots[1].range) }
            }
        }
        if hasGroup, slots[2].found { seen.group = slots[2] }
        if let l = levelSlot {
            seen.isError = slots[l + 1].found
                || (slots[l].found
                    && event.fields.withBytes { p in
                        PathSet.withKeyBytes(p, slots[l].range, isText: slots[l].isText) { $0.elementsEqual(Self.errorLevel) }
                    })
        } else {
            seen.isError = errorRate.matches(event.fields)
        }
        return seen
    }
}
