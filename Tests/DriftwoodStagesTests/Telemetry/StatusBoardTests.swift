import DriftwoodCore
import Foundation
import Metrics
import Testing

@testable import DriftwoodStages

/// The status JSON from the values the stages record, without a server: rates over the last
/// 10 s, models from their gauges read by name, alerts newest first, the history ring's bound.
@Suite(.serialized) struct StatusBoardTests {
    static func board(_ values: MetricValues, alerts: AlertLog = AlertLog(capacity: 100)) -> StatusBoard {
        StatusBoard(
            pipeline: "p", version: "1",
            stages: [
                .init(id: "in", kind: "input", type: "stdin"), .init(id: "f", kind: "filter", type: "monitor"),
                .init(id: "out", kind: "output", type: "jsonl"),
            ], queueCapacity: 4096, values: values, alerts: alerts)
    }

    static func json(_ board: StatusBoard, now: Double) throws -> [String: Any] {
        let health = HealthReport(uptimeSeconds: 5, outputs: [])
        let bytes = board.json(health: health, queues: ["filters": 7, "out": 3], now: now)
        return try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }

    @Test func ratesAreOverTheLastTenSecondsAndQueuesSitInFrontOfTheirStage() throws {
        let values = MetricValues(wrapping: NOOPMetricsHandler.instance)
        let eventsIn = Metrics.Counter(label: "driftwood_events_in_total", dimensions: [("stage", "in")], factory: values)
        let outOut = Metrics.Counter(label: "driftwood_events_out_total", dimensions: [("stage", "out")], factory: values)
        Metrics.Counter(label: "driftwood_events_dead_lettered_total", dimensions: [("output", "out")], factory: values)
            .increment(by: 2)
        let board = Self.board(values)
        eventsIn.increment(by: 100)
        board.tick(now: 1000)
        eventsIn.increment(by: 500)
        outOut.increment(by: 200)
        for t in 1001...1010 { board.tick(now: Double(t)) }
        let status = try Self.json(board, now: 1010)
        let stages = try #require(status["stages"] as? [[String: Any]])
        #expect(stages.map { $0["id"] as? String } == ["in", "f", "out"])
        #expect(stages[0]["events_in"] as? Double == 600)
        #expect(stages[0]["rate_in"] as? Double == 50)
        #expect(stages[2]["rate_out"] as? Double == 20)
        #expect(stages[1]["queue_events"] as? Int == 7)
        #expect(stages[2]["queue_events"] as? Int == 3)
        #expect(stages[2]["errors"] as? Double == 2)
        let history = try #require(status["history"] as? [String: Any])
        #expect((history["t"] as? [Double])?.count == 1)
        #expect(history["rate_in"] as? [Double] == [50])
    }

    @Test func modelsAreReadFromTheirGaugesByName() throws {
        let values = MetricValues(wrapping: NOOPMetricsHandler.instance)
        Metrics.Gauge(label: "driftwood_model_error_rate", dimensions: [("group", "a-m")], factory: values).record(0.2)
        Metrics.Gauge(label: "driftwood_model_latency", dimensions: [("group", "a-m"), ("statistic", "p95")], factory: values)
            .record(120.0)
        // The importance-weighted score is kept beside the features but is none of them.
        for (feature, score) in [("a", 0.1), ("b", 0.4), ("_weighted", 0.5)] {
            Metrics.Gauge(label: "driftwood_drift_score", dimensions: [("feature", feature), ("metric", "psi"), ("group", "a-m")], factory: values)
                .record(score)
        }
        Metrics.Gauge(label: "driftwood_model_performance", dimensions: [("group", "a-m"), ("metric", "accuracy")], factory: values)
            .record(0.9)
        Metrics.Gauge(
            label: "driftwood_model_fairness", dimensions: [("group", "a-m"), ("attribute", "sex"), ("metric", "disparate_impact")],
            factory: values
        ).record(0.7)
        ModelMetrics.threshold(group: "a-m", metric: "psi", value: 0.25, factory: values)
        // Never recorded: no value, no model.
        _ = Metrics.Gauge(label: "driftwood_model_error_rate", dimensions: [("group", "silent")], factory: values)
        let status = try Self.json(Self.board(values), now: 10)
        let models = try #require(status["models"] as? [String: [String: Any]])
        let m = try #require(models["a-m"])
        #expect(models["silent"] == nil)
        #expect(m["error_rate"] as? Double == 0.2)
        #expect(m["latency"] as? Double == 120)
        #expect(m["latency_statistic"] as? String == "p95")
        let drift = try #require(m["drift"] as? [String: Any])
        #expect(drift["max"] as? Double == 0.4)
        #expect(drift["max_feature"] as? String == "b")
        #expect(drift["metric"] as? String == "psi")
        #expect((drift["features"] as? [String: Double])?["_weighted"] == 0.5)
        let evaluation = try #require(m["evaluation"] as? [String: Any])
        #expect((evaluation["metrics"] as? [String: Double]) == ["accuracy": 0.9])
        #expect((evaluation["fairness"] as? [String: [String: Double]]) == ["sex": ["disparate_impact": 0.7]])
        #expect((m["thresholds"] as? [String: Double]) == ["psi": 0.25])
    }

    /// The newest report's histograms beside their baselines (what the drift filter hands over
    /// per report), and each fairness metric's history beside the performance ones.
    @Test func distributionsAndFairnessHistory() throws {
        let values = MetricValues(wrapping: NOOPMetricsHandler.instance)
        let cell = ModelDistributions.of(stage: "dist-test", group: "d-m")
        defer { cell.record([]) }  // process-wide: other tests see no model "d-m"
        cell.record([
            DriftReport.Histogram(feature: "prediction", edges: [0.5], categories: nil, baseline: [0.4, 0.6], current: [0.1, 0.9]),
            DriftReport.Histogram(
                feature: "country", edges: nil, categories: ["FR", "__other__"], baseline: [0.7, 0.3], current: [0.5, 0.5]),
        ])
        let fairness = Metrics.Gauge(
            label: "driftwood_model_fairness",
            dimensions: [("group", "d-m"), ("attribute", "features.channel"), ("metric", "disparate_impact")], factory: values)
        fairness.record(0.7)
        let board = Self.board(values)
        board.tick(now: 0)
        board.tick(now: 10)
        fairness.record(0.5)
        board.tick(now: 20)
        let status = try Self.json(board, now: 20)
        let m = try #require((status["models"] as? [String: [String: Any]])?["d-m"])
        let distributions = try #require(m["distributions"] as? [String: [String: Any]])
        #expect(distributions["prediction"]?["edges"] as? [Double] == [0.5])
        #expect(distributions["prediction"]?["baseline"] as? [Double] == [0.4, 0.6])
        #expect(distributions["prediction"]?["current"] as? [Double] == [0.1, 0.9])
        #expect(distributions["country"]?["categories"] as? [String] == ["FR", "__other__"])
        #expect(distributions["country"]?["current"] as? [Double] == [0.5, 0.5])
        let history = try #require((status["history"] as? [String: Any])?["models"] as? [String: [String: Any]])
        let series = (history["d-m"]?["fairness"] as? [String: [String: [Double]]])?["features.channel"]?["disparate_impact"]
        #expect(series == [0.7, 0.5])
        // A model without a drift report has no distributions.
        Metrics.Gauge(label: "driftwood_model_error_rate", dimensions: [("group", "no-dist")], factory: values).record(0.1)
        let other = try #require((try Self.json(board, now: 21)["models"] as? [String: [String: Any]])?["no-dist"])
        #expect(other["distributions"] is NSNull)
    }

    @Test func alertsNewestFirstAndOnlyTheNewestOfASubjectFiresNow() throws {
        let log = AlertLog(capacity: 3)
        func alert(_ state: Alert.State, _ group: String) -> Alert {
            Alert(
                type: "HIGH_ERROR_RATE", state: state, feature: nil, metric: "error_rate", value: 0.2, threshold: 0.1,
                window: 100, group: group, message: "\(group) \(state)")
        }
        log.record(alert(.firing, "a"), stage: "m")  // pushed out of the ring of 3
        log.record(alert(.firing, "b"), stage: "m")
        log.record(alert(.resolved, "b"), stage: "m")
        log.record(alert(.firing, "c"), stage: "m")
        let values = MetricValues(wrapping: NOOPMetricsHandler.instance)
        let status = try Self.json(Self.board(values, alerts: log), now: 10)
        let alerts = try #require(status["alerts"] as? [[String: Any]])
        #expect(alerts.map { $0["message"] as? String } == ["c firing", "b resolved", "b firing"])
        #expect(alerts.map { $0["firing_now"] as? Bool } == [true, false, false])
    }

    @Test func historyKeepsOneHourWhateverTheUptime() throws {
        let values = MetricValues(wrapping: NOOPMetricsHandler.instance)
        let eventsIn = Metrics.Counter(label: "driftwood_events_in_total", dimensions: [("stage", "in")], factory: values)
        let board = Self.board(values)
        for step in 0...500 {
            eventsIn.increment(by: 10)
            board.tick(now: Double(step * 10))
        }
        let history = try #require(try Self.json(board, now: 5000)["history"] as? [String: Any])
        let t = try #require(history["t"] as? [Double])
        #expect(t.count == StatusBoard.historySteps)
        #expect(t.last == 5000)
        #expect(t == t.sorted())
        #expect((history["rate_in"] as? [Double])?.allSatisfy { $0 == 1 } == true)
    }

    @Test func metricValuesKeepTheSameCellForTheSameSeries() {
        let values = MetricValues(wrapping: NOOPMetricsHandler.instance)
        Metrics.Counter(label: "x_total", dimensions: [("stage", "s")], factory: values).increment(by: 3)
        Metrics.Counter(label: "x_total", dimensions: [("stage", "s")], factory: values).increment(by: 4)
        let samples = values.samples().filter { $0.label == "x_total" }
        #expect(samples.count == 1)
        #expect(samples.first?.value == 7)
    }

    @Test func atMostAHundredModelsThoseWithTheMostEvents() throws {
        let values = MetricValues(wrapping: NOOPMetricsHandler.instance)
        // The tallies are process-wide: give them back their zero counts, so other tests see
        // their own models first again.
        defer { for k in 0..<150 { ModelMetrics.events(stage: "cap-test", group: "cap-test-\(k)").count.store(0, ordering: .relaxed) } }
        for k in 0..<150 {
            let group = "cap-test-\(k)"
            Metrics.Gauge(label: "driftwood_model_error_rate", dimensions: [("group", group)], factory: values).record(0.1)
            ModelMetrics.events(stage: "cap-test", group: group).add(1_000_000 + k)
        }
        let status = try Self.json(Self.board(values), now: 10)
        let models = try #require(status["models"] as? [String: [String: Any]])
        let mine = models.keys.filter { $0.hasPrefix("cap-test-") }
        #expect(models.count == StatusBoard.maxModels)
        #expect(mine.contains("cap-test-149") && !mine.contains("cap-test-0"))
        #expect((status["models_total"] as? Int ?? 0) >= 150)
    }
}
