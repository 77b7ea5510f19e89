import DriftwoodCore
import Testing

@testable import DriftwoodStages

@Suite struct EvaluateFilterTests {
    @Test func checkNamesEveryMistakeWithItsPlaceAndValue() {
        let errors = FilterHarness.errors(
            """
              - type: evaluate
                task: binray
                window: 0
                metrics: [f1, f2]
                thresholds: {f1: 1.5, mae: 3}
                resolve: {f1: 0.5}
                pending: {max: 100000000, ttl: 0s}
                fairness: {metrics: [dpd], min_group_size: 0}
                report_every: -1
            """)
        let text = errors.joined(separator: "\n")
        #expect(text.contains("filters[0] (evaluate): missing required key 'id'"), "\(text)")
        #expect(text.contains("filters[0].task (evaluate): expected one of binary, multiclass, regression"), "\(text)")
        #expect(text.contains("p.yml:5:13: filters[0].window (evaluate): must be at least 1; got 0"), "\(text)")
        #expect(text.contains("'f2' is not a binary metric (expected one of accuracy, precision, recall, f1, auc); did you mean 'f1'?"), "\(text)")
        #expect(text.contains("f1 is between 0 and 1; got 1.5"), "\(text)")
        #expect(text.contains("'mae' is not a binary metric"), "\(text)")
        #expect(text.contains("resolve.f1 (evaluate): f1 must resolve at or above its threshold 1.5; got 0.5"), "\(text)")
        #expect(text.contains("pending.max (evaluate): 100000000 pending entries would take up to 14.4 GB; at most 50000000"), "\(text)")
        #expect(text.contains("pending.ttl (evaluate): must be longer than 0s"), "\(text)")
        #expect(text.contains("fairness (evaluate): missing required key 'attribute'"), "\(text)")
        #expect(text.contains("'dpd' is not a fairness metric"), "\(text)")
        #expect(text.contains("fairness.min_group_size (evaluate): must be at least 1; got 0"), "\(text)")
        #expect(text.contains("report_every (evaluate): must be 0 (no reports) or more; got -1"), "\(text)")
    }

    @Test func windowsAndTaskMistakes() {
        let text = FilterHarness.errors(
            """
              - {type: evaluate, id: rid, task: regression, cutoff: 0.3, window: 100000, max_groups: 1000, fairness: {attribute: g}}
            """
        ).joined(separator: "\n")
        #expect(text.contains("cutoff (evaluate): only for task binary (this is regression)"), "\(text)")
        #expect(text.contains("fairness needs task binary"), "\(text)")
        #expect(text.contains("window × max_groups = 100000 × 1000 pairs would take up to 3.2 GB; at most 50000000 pairs"), "\(text)")
    }

    @Test func idIsTheJoinFieldAndStageIdNamesTheStage() throws {
        let config = try PipelineConfig.load(
            text: FilterHarness.pipeline("  - {type: evaluate, id: request_id, stage_id: quality}\n  - {type: evaluate, id: request_id}"),
            file: "p.yml", environment: [:], catalog: StageCatalog.descriptors)
        #expect(config.filters.map(\.id) == ["quality", "evaluate_1"])
        #expect((config.filters[0].config as! EvaluateConfig).id.text == "request_id")
    }

    @Test func aPositiveLabelByNameAndBoolPredictions() throws {
        let config: EvaluateConfig = try FilterHarness.config(
            "  - {type: evaluate, id: rid, positive: fraud, negative: legit, window: 2, report_every: 2}")
        let filter = EvaluateFilter(config: config, environment: FilterHarness.environment("e"))
        let out = FilterHarness.run(filter, [
            #"{"rid":1,"prediction":"fraud"}"#, #"{"rid":2,"prediction":false}"#,
            #"{"rid":"1","label":"fraud"}"#, #"{"rid":2,"label":"legit"}"#, #"{"rid":3,"label":"other"}"#,
        ]).map(FilterHarness.object)
        #expect((out[2]["evaluation"] as? [String: Any])?["prediction"] as? String == "fraud")
        #expect((out[3]["evaluation"] as? [String: Any])?["prediction"] as? Bool == false)
        let report = out.first { ($0["event"] as? [String: Any])?["dataset"] as? String == "driftwood.evaluate" }
        #expect(((report?["evaluation"] as? [String: Any])?["metrics"] as? [String: Double])?["accuracy"] == 1)
        #expect(out.count == 6)  // 5 events, one report; the "other" label is counted, passed on
    }

    /// Event time moves with predictions and labels only: a line that is not JSON keeps its
    /// read time as `@timestamp`, which in a replay of old logs is days ahead; it must not expire
    /// the predictions waiting for their labels.
    @Test func otherLinesTimesDoNotExpireTheWaitingPredictions() throws {
        let config: EvaluateConfig = try FilterHarness.config("  - {type: evaluate, id: rid, pending: {ttl: 1h}}")
        let filter = EvaluateFilter(config: config, environment: FilterHarness.environment("e"))
        let out = FilterHarness.run(filter, [
            #"{"@timestamp":"2026-11-24T10:00:00.000Z","rid":1,"prediction":0.9}"#,
            #"{"@timestamp":"2026-12-03T12:00:00.000Z","message":"WARNING: not JSON, read today"}"#,
            #"{"@timestamp":"2026-11-24T10:00:05.000Z","rid":1,"label":1}"#,
        ]).map(FilterHarness.object)
        #expect((out[2]["evaluation"] as? [String: Any])?["correct"] as? Bool == true, "\(out)")
        #expect(filter.pending.count == 0)
    }

    /// Nor does a prediction whose time did not parse (its @timestamp is its read time), while a
    /// real jump of event time past the ttl expires what waits.
    @Test func aPredictionWhoseTimeDidNotParseDoesNotExpireTheOthers() throws {
        let config: EvaluateConfig = try FilterHarness.config("  - {type: evaluate, id: rid, pending: {ttl: 1h}}")
        let filter = EvaluateFilter(config: config, environment: FilterHarness.environment("e"))
        let out = FilterHarness.run(filter, [
            #"{"@timestamp":"2026-11-24T10:00:00.000Z","rid":1,"prediction":0.9}"#,
            #"{"@timestamp":"2026-12-03T12:00:00.000Z","rid":2,"prediction":0.2,"tags":["_timestamp_failure"]}"#,
            #"{"@timestamp":"2026-11-24T10:00:05.000Z","rid":1,"label":1}"#,
            #"{"@timestamp":"2026-11-24T13:00:00.000Z","rid":3,"prediction":0.4}"#,
            #"{"@timestamp":"2026-11-24T13:00:01.000Z","rid":2,"label":0}"#,
        ]).map(FilterHarness.object)
        #expect((out[2]["evaluation"] as? [String: Any])?["correct"] as? Bool == true, "\(out)")
        // Three hours on: rid 2 (filed under the newest time then, 10:00:05) has expired.
        #expect(out[4]["evaluation"] == nil, "\(out)")
    }
}
