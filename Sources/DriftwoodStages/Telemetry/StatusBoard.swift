import DriftwoodCore
import Synchronization

/// What `GET /api/v1/status` answers, built from what the stages already count: the counters and
/// gauges in `MetricValues`, the per-group `ModelTally`s, the `AlertLog` and the outputs'
/// `OutputHealth`, the drift filters' `ModelDistributions`. It keeps no count of its own, only readings of those: one a second for the
/// last few seconds (for rates over the last 10 s) and one every 10 s for the last hour, in
/// fixed rings, so its memory does not grow with time.
public final class StatusBoard: Sendable {
    /// One stage as the pipeline file declares it.
    public struct Stage: Sendable {
        public var id: String
        /// `input`, `filter` or `output`.
        public var kind: String
        /// The stage's `type:` (`file`, `drift`, `elasticsearch`, …).
        public var type: String
        public init(id: String, kind: String, type: String) {
            self.id = id
            self.kind = kind
            self.type = type
        }
    }

    /// Seconds between two history steps.
    public static let step = 10.0
    /// History steps kept: one hour.
    public static let historySteps = 360
    /// Readings kept for rates (one a second).
    static let fineReadings = 12
    /// Models shown (those with the most events): a pipeline with 20,000 `group_by` values keeps
    /// its answer, its history and the page bounded. `models_total` says how many there are.
    public static let maxModels = 100

    public let pipeline: String
    public let version: String
    /// The stages now running (a reload changes them).
    public var stages: [Stage] { stageList.withLock { $0 } }
    private let stageList: Mutex<[Stage]>
    let reloads: ReloadLog
    /// Events a queue in front of a stage holds at most.
    public let queueCapacity: Int
    let values: MetricValues
    let alerts: AlertLog
    private let state: Mutex<State>

    struct State {
        var fine: [Reading] = []
        var history = HistoryRing(capacity: StatusBoard.historySteps)
        var lastStep: Reading?
    }

    public init(
        pipeline: String, version: String, stages: [Stage], queueCapacity: Int, values: MetricValues,
        alerts: AlertLog = .shared, reloads: ReloadLog = .shared
    ) {
        self.pipeline = pipeline
        self.version = version
        self.stageList = Mutex(stages)
        self.reloads = reloads
        self.queueCapacity = queueCapacity
        self.values = values
        self.alerts = alerts
        state = Mutex(State())
    }

    /// The stages after a reload.
    public func update(stages: [Stage]) {
        stageList.withLock { $0 = stages }
    }

    /// Takes a reading (call once a second); every `step` seconds one more history step.
    public func tick(now: Double = StatusBoard.unixNow()) {
        let reading = read(now: now)
        state.withLock { s in
            s.fine.append(reading)
            if s.fine.count > Self.fineReadings { s.fine.removeFirst(s.fine.count - Self.fineReadings) }
            guard let last = s.lastStep else {
                s.lastStep = reading
                return
            }
            guard reading.time - last.time >= Self.step - 0.5 else { return }
            s.history.append(Self.step(from: last, to: reading, stages: self.stages))
            s.lastStep = reading
        }
    }

    /// The whole answer, as JSON (no trailing newline).
    public func json(health: HealthReport, queues: [String: Int], now: Double = StatusBoard.unixNow()) -> [UInt8] {
        let current = read(now: now)
        let (before, history) = state.withLock { s -> (Reading?, HistoryRing) in
            // The reading closest to 10 s before now (the oldest one when the ring is younger).
            let before = s.fine.last { current.time - $0.time >= Self.step - 0.5 } ?? s.fine.first
            return (before, s.history)
        }
        var w = StatusJSON()
        w.open()
        w.key("pipeline"); w.string(pipeline)
        w.key("version"); w.string(version)
        w.key("uptime_seconds"); w.integer(health.uptimeSeconds)
        w.key("status"); w.string(health.status == .ok ? "ok" : "degraded")
        w.key("history_step_seconds"); w.number(Self.step)
        w.key("last_reload")
        writeLastReload(&w)
        w.key("stages")
        writeStages(&w, current: current, before: before, queues: queues)
        w.key("outputs")
        w.raw(health.outputsJSON)
        w.key("models_total"); w.integer(current.modelsTotal)
        w.key("models")
        writeModels(&w, current: current, before: before)
        w.key("alerts")
        writeAlerts(&w)
        w.key("history")
        history.write(&w)
        w.close()
        return w.out
    }

    /// Wall-clock seconds since 1970.
    public static func unixNow() -> Double {
        Double(Timestamp.now().epochMilliseconds) / 1000
    }

    // MARK: Readings

    /// What the counters and gauges say at one moment.
    struct Reading {
        var time: Double
        var eventsIn: [String: Double] = [:]
        var eventsOut: [String: Double] = [:]
        var errors: [String: Double] = [:]
        var models: [String: Model] = [:]
        /// Models before the cap.
        var modelsTotal = 0
    }

    /// One `group_by` value's latest values.
    struct Model {
        var events = 0
        var errorRate: Double?
        var latency: Double?
        var latencyStatistic: String?
        var driftMetric: String?
        var drift: [String: Double] = [:]
        var performance: [String: Double] = [:]
        var fairness: [String: [String: Double]] = [:]
        var thresholds: [String: Double] = [:]
        /// The newest report's histogram beside the baseline, per listed feature.
        var distributions: [String: DriftReport.Histogram] = [:]

        /// The largest feature score (the importance-weighted score, `_weighted`, is no feature).
        var driftMax: (feature: String, score: Double)? {
            drift.filter { $0.key != DriftFilter.weightedFeature }
                .max { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) }.map { ($0.key, $0.value) }
        }
    }

    func read(now: Double) -> Reading {
        var r = Reading(time: now)
        for (group, events) in ModelTally.eventsByGroup() { r.models[group, default: Model()].events = events }
        for (group, histograms) in ModelDistributions.byGroup() { r.models[group, default: Model()].distributions = histograms }
        for s in values.samples() {
            switch s.label {
            case "driftwood_events_in_total":
                if let stage = s.dimension("stage") { r.eventsIn[stage, default: 0] += s.value }
            case "driftwood_events_out_total":
                if let stage = s.dimension("stage") { r.eventsOut[stage, default: 0] += s.value }
            case "driftwood_events_dropped_total":
                if let stage = s.dimension("stage"), s.dimension("reason") != "filtered" {
                    r.errors[stage, default: 0] += s.value
                }
            case "driftwood_events_dead_lettered_total":
                if let output = s.dimension("output") { r.errors[output, default: 0] += s.value }
            case "driftwood_model_error_rate":
                if let g = s.dimension("group") { r.models[g, default: Model()].errorRate = s.value }
            case "driftwood_model_latency":
                if let g = s.dimension("group") {
                    r.models[g, default: Model()].latency = s.value
                    r.models[g, default: Model()].latencyStatistic = s.dimension("statistic")
                }
            case "driftwood_drift_score":
                if let g = s.dimension("group"), let f = s.dimension("feature") {
                    r.models[g, default: Model()].drift[f] = s.value
                    r.models[g, default: Model()].driftMetric = s.dimension("metric")
                }
            case "driftwood_model_performance":
                if let g = s.dimension("group"), let m = s.dimension("metric") {
                    r.models[g, default: Model()].performance[m] = s.value
                }
            case "driftwood_model_fairness":
                if let g = s.dimension("group"), let a = s.dimension("attribute"), let m = s.dimension("metric") {
                    r.models[g, default: Model()].fairness[a, default: [:]][m] = s.value
                }
            case "driftwood_model_threshold":
                if let g = s.dimension("group"), let m = s.dimension("metric") {
                    r.models[g, default: Model()].thresholds[m] = s.value
                }
            default:
                break
            }
        }
        r.modelsTotal = r.models.count
        if r.models.count > Self.maxModels {
            let kept = r.models.sorted { ($0.value.events, $1.key) > ($1.value.events, $0.key) }.prefix(Self.maxModels)
            r.models = Dictionary(uniqueKeysWithValues: kept.map { ($0.key, $0.value) })
        }
        return r
    }

    /// Events per second between two readings, never negative.
    static func rate(_ now: Double, _ then: Double?, seconds: Double) -> Double {
        guard let then, seconds > 0 else { return 0 }
        return max(0, (now - then) / seconds)
    }

    static func step(from a: Reading, to b: Reading, stages: [Stage]) -> HistoryRing.Step {
        let dt = b.time - a.time
        var step = HistoryRing.Step(time: b.time)
        var totalIn = 0.0
        var totalOut = 0.0
        for stage in stages where stage.kind == "input" {
            totalIn += rate(b.eventsIn[stage.id] ?? 0, a.eventsIn[stage.id] ?? 0, seconds: dt)
        }
        for stage in stages where stage.kind == "output" {
            totalOut += rate(b.eventsOut[stage.id] ?? 0, a.eventsOut[stage.id] ?? 0, seconds: dt)
        }
        step.values["rate_in"] = totalIn
        step.values["rate_out"] = totalOut
        for (group, m) in b.models {
            var v: [String: Double] = [:]
            v["rate"] = rate(Double(m.events), Double(a.models[group]?.events ?? 0), seconds: dt)
            if let e = m.errorRate { v["error_rate"] = e }
            if let l = m.latency { v["latency"] = l }
            if let d = m.driftMax { v["drift_max"] = d.score }
            for (metric, value) in m.performance { v["performance." + metric] = value }
            for (attribute, metrics) in m.fairness {
                for (metric, value) in metrics { v[HistoryRing.fairnessKey(attribute, metric)] = value }
            }
            step.models[group] = v
        }
        return step
    }

    // MARK: Writing

    /// `{"time", "result", "message", "stalled_ms", "reloads"}`, or null before the first reload.
    func writeLastReload(_ w: inout StatusJSON) {
        let (entry, count) = reloads.latest
        guard let entry else {
            w.null()
            return
        }
        w.open()
        w.key("time"); w.string(entry.time.rfc3339)
        w.key("result"); w.string(entry.result)
        w.key("message"); w.string(entry.message)
        w.key("stalled_ms")
        if let ms = entry.stalledMilliseconds { w.number(ms) } else { w.null() }
        w.key("reloads"); w.integer(count)
        w.close()
    }

    func writeStages(_ w: inout StatusJSON, current: Reading, before: Reading?, queues: [String: Int]) {
        let dt = before.map { current.time - $0.time } ?? 0
        let stages = self.stages
        let firstFilter = stages.first { $0.kind == "filter" }?.id
        w.array()
        for stage in stages {
            w.element()
            w.open()
            w.key("id"); w.string(stage.id)
            w.key("kind"); w.string(stage.kind)
            w.key("type"); w.string(stage.type)
            let eventsIn = current.eventsIn[stage.id] ?? 0
            let eventsOut = current.eventsOut[stage.id] ?? 0
            w.key("events_in"); w.number(eventsIn)
            w.key("events_out"); w.number(eventsOut)
            w.key("rate_in"); w.number(Self.rate(eventsIn, before?.eventsIn[stage.id] ?? 0, seconds: dt))
            w.key("rate_out"); w.number(Self.rate(eventsOut, before?.eventsOut[stage.id] ?? 0, seconds: dt))
            // The filter queue sits in front of the first filter; each output has its own.
            let queue = stage.kind == "output" ? queues[stage.id] : (stage.id == firstFilter ? queues["filters"] : nil)
            w.key("queue_events"); w.integer(queue ?? 0)
            w.key("queue_capacity"); w.integer(stage.kind == "input" ? 0 : queueCapacity)
            w.key("errors"); w.number(current.errors[stage.id] ?? 0)
            w.close()
        }
        w.closeArray()
    }

    func writeModels(_ w: inout StatusJSON, current: Reading, before: Reading?) {
        let dt = before.map { current.time - $0.time } ?? 0
        w.open()
        for group in current.models.keys.sorted() {
            let m = current.models[group]!
            w.key(group)
            w.open()
            w.key("events"); w.integer(m.events)
            w.key("rate")
            w.number(Self.rate(Double(m.events), before.map { Double($0.models[group]?.events ?? 0) }, seconds: dt))
            w.key("error_rate"); w.optional(m.errorRate)
            w.key("latency"); w.optional(m.latency)
            w.key("latency_statistic")
            if let s = m.latencyStatistic { w.string(s) } else { w.null() }
            w.key("drift")
            if let top = m.driftMax {
                w.open()
                w.key("metric"); w.string(m.driftMetric ?? "")
                w.key("max"); w.number(top.score)
                w.key("max_feature"); w.string(top.feature)
                w.key("features"); w.object(m.drift)
                w.close()
            } else {
                w.null()
            }
            w.key("evaluation")
            if m.performance.isEmpty && m.fairness.isEmpty {
                w.null()
            } else {
                w.open()
                w.key("metrics"); w.object(m.performance)
                w.key("fairness")
                w.open()
                for attribute in m.fairness.keys.sorted() {
                    w.key(attribute)
                    w.object(m.fairness[attribute]!)
                }
                w.close()
                w.close()
            }
            w.key("thresholds"); w.object(m.thresholds)
            w.key("distributions")
            if m.distributions.isEmpty {
                w.null()
            } else {
                w.open()
                for feature in m.distributions.keys.sorted() {
                    w.key(feature)
                    var j: [UInt8] = []
                    m.distributions[feature]!.appendJSON(to: &j)
                    w.raw(j)
                }
                w.close()
            }
            w.close()
        }
        w.close()
    }

    func writeAlerts(_ w: inout StatusJSON) {
        let entries = alerts.newestFirst()
        // An alert is firing now when it is the newest about its subject (filter, type, feature,
        // metric, group) and says `firing`.
        var seen: Set<String> = []
        w.array()
        for e in entries {
            let a = e.alert
            w.element()
            w.open()
            w.key("time"); w.string(e.time.rfc3339)
            w.key("stage"); w.string(e.stage)
            w.key("type"); w.string(a.type)
            w.key("state"); w.string(a.state.rawValue)
            let newest = seen.insert(Self.subject(e)).inserted
            w.key("firing_now"); w.bool(newest && a.state == .firing)
            w.key("group")
            if let g = a.group { w.string(g) } else { w.null() }
            w.key("feature")
            if let f = a.feature { w.string(f) } else { w.null() }
            w.key("metric"); w.string(a.metric)
            w.key("value"); w.number(a.value)
            w.key("threshold"); w.number(a.threshold)
            w.key("message"); w.string(a.message)
            w.close()
        }
        w.closeArray()
    }

    static func subject(_ e: AlertLog.Entry) -> String {
        [e.stage, e.alert.type, e.alert.feature ?? "", e.alert.metric, e.alert.group ?? ""].joined(separator: "\u{1F}")
    }
}
