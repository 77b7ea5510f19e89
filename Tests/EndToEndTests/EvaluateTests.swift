import Foundation
import Testing

/// `evaluate` through the real binary, against scikit-learn and Fairlearn: a generated stream of
/// predictions and labels (shuffled, late, early, missing, duplicate, broken, for unknown ids,
/// past the TTL and past `pending.max`) is run through `driftwood run`, and
/// `Tests/Fixtures/evaluate/reference.py` replays the join as documented, recomputes every
/// report's window with sklearn.metrics and fairlearn.metrics, and compares them to 1e-9.
@Suite struct EvaluateTests {
    static let reference = Driftwood.packageRoot.appendingPathComponent("Tests/Fixtures/evaluate/reference.py").path

    static func python(_ arguments: [String], in dir: URL) throws -> Driftwood.Result {
        try Driftwood.run(["python3", reference] + arguments, directory: dir, executable: "/usr/bin/env")
    }

    struct Case: Sendable {
        let task: String
        let filter: String
        /// What reference.py needs to know of the filter's settings, as JSON.
        let config: String
    }

    static let cases: [Case] = [
        Case(
            task: "binary",
            filter: """
                  - type: evaluate
                    id: request_id
                    prediction: score
                    label: actual
                    group_by: model
                    window: 200
                    report_every: 50
                    pending: {max: 250, ttl: 5m}
                    fairness: {attribute: features.gender, min_group_size: 30}
                """,
            config: #"{"label": "actual", "prediction": "score", "cutoff": 0.5, "window": 200, "report_every": 50, "pending_max": 250, "ttl_ms": 300000, "min_group_size": 30, "attribute": "features.gender"}"#),
        Case(
            task: "multiclass",
            filter: """
                  - type: evaluate
                    task: multiclass
                    id: request_id
                    prediction: cls
                    label: actual_cls
                    group_by: model
                    window: 150
                    report_every: 40
                    pending: {max: 400, ttl: 5m}
                """,
            config: #"{"label": "actual_cls", "prediction": "cls", "window": 150, "report_every": 40, "pending_max": 400, "ttl_ms": 300000}"#),
        Case(
            task: "regression",
            filter: """
                  - type: evaluate
                    task: regression
                    id: request_id
                    prediction: "y"
                    label: y_true
                    group_by: model
                    window: 100
                    report_every: 25
                    pending: {max: 300, ttl: 4m}
                """,
            config: #"{"label": "y_true", "prediction": "y", "window": 100, "report_every": 25, "pending_max": 300, "ttl_ms": 240000}"#),
    ]

    @Test(arguments: [0, 1, 2]) func everyReportEqualsScikitLearnAndFairlearn(_ index: Int) throws {
        let c = Self.cases[index]
        let dir = try Driftwood.temporaryDirectory()
        let gen = try Self.python(["gen", c.task, "\(17 + index)", "in.jsonl"], in: dir)
        #expect(gen.code == 0, "\(gen.stderr)")
        try Driftwood.write(
            """
            inputs: [{type: stdin}]
            filters:
              - {type: parse, format: json, remove_source: true, timestamp: {field: ts, formats: [iso8601]}}
            \(c.filter)
            outputs:
              - {type: jsonl, path: out.jsonl}
            """, to: "p.yml", in: dir)
        let input = try Data(contentsOf: dir.appendingPathComponent("in.jsonl"))
        let run = try Driftwood.run(["run", "p.yml"], stdin: input, directory: dir)
        #expect(run.code == 0, "\(run.stderr)")
        try Driftwood.write("{\"task\": \"\(c.task)\", " + c.config.dropFirst(), to: "config.json", in: dir)
        let check = try Self.python(["check", "config.json", "in.jsonl", "out.jsonl"], in: dir)
        #expect(check.code == 0, "\(check.stderr)")
        let summary = try JSONSerialization.jsonObject(with: Data(check.stdout.utf8)) as! [String: Any]
        #expect(summary["mismatch_count"] as? Int == 0, "\(summary["mismatches"] ?? "")")
        // The stream exercises what it should: many reports, and every kind of loss.
        #expect((summary["reports"] as? Int ?? 0) > 40, "\(summary)")
        let counts = summary["counts"] as? [String: Int] ?? [:]
        for reason in ["expired", "evicted", "duplicate_label", "no_id", "invalid_prediction"] {
            #expect((counts[reason] ?? 0) > 0, "no \(reason) in the generated stream: \(counts)")
        }
        if c.task == "binary" { #expect((counts["invalid_label"] ?? 0) > 0) }
        // Every input line comes out once, plus the reports.
        let out = try Driftwood.jsonLines(dir.appendingPathComponent("out.jsonl").path)
        let lines = input.split(separator: 0x0A).count
        #expect(out.count == lines + (summary["reports"] as? Int ?? 0) + out.filter { Self.isAlert($0) }.count)
        for report in out where (report["event"] as? [String: Any])?["dataset"] as? String == "driftwood.evaluate" {
            #expect(Set(report.keys) == ["@timestamp", "event", "message", "evaluation", "host"])
            let evaluation = report["evaluation"] as! [String: Any]
            let members: Set<String> = c.task == "binary"
                ? ["group", "window", "pairs", "metrics", "fairness", "labels"] : ["group", "window", "pairs", "metrics", "labels"]
            #expect(Set(evaluation.keys) == members)
        }
    }

    static func isAlert(_ o: [String: Any]) -> Bool { (o["event"] as? [String: Any])?["kind"] as? String == "alert" }

    /// A stream small enough to follow by hand (window 4, pending.max 3, ttl 10s).
    static let handStream: [String] = {
        func at(_ ms: Int) -> String { String(format: "2026-11-24T10:00:%02d.%03dZ", ms / 1000, ms % 1000) }
        func p(_ ms: Int, _ id: String?, _ score: String, _ g: String) -> String {
            var s = "{\"ts\":\"\(at(ms))\","
            if let id { s += "\"request_id\":\"\(id)\"," }
            return s + "\"model\":\"m\",\"score\":\(score),\"g\":\"\(g)\"}"
        }
        func l(_ ms: Int, _ id: String, _ actual: String) -> String {
            "{\"ts\":\"\(at(ms))\",\"request_id\":\"\(id)\",\"actual\":\(actual)}"
        }
        return [
            p(0, "a", "0.9", "x"), p(1, "b", "0.2", "y"),
            l(2, "a", "1"),  // pair 1 (annotated)
            l(2, "a", "1"),  // duplicate_label
            l(3, "zz", "1"),  // a label for an id never predicted: waits
            p(4, nil, "0.5", "x"),  // no_id
            p(5, "c", #""abc""#, "x"),  // invalid_prediction
            l(6, "c", #""maybe""#),  // invalid_label
            p(7, "d", "0.7", "x"), p(7, "e", "0.1", "y"),  // pending.max 3: b is evicted
            l(8, "b", "1"),  // b is gone: this label waits, zz is evicted
            l(20_000, "d", "0"),  // 20 s later: d, e and b's label expire (d, e: expired of m); d's label waits
            p(20_001, "d", "0.7", "x"),  // completes pair 2 (label first: not annotated)
            p(20_002, "f", "0.8", "x"), l(20_003, "f", "1"),  // pair 3
            p(20_004, "g", "0.3", "y"), l(20_005, "g", "0"),  // pair 4: window full, report 1
            p(20_006, "h", "0.6", "y"), l(20_007, "h", "0"),  // pair 5: f1 0.5 < 0.6 fires
            p(20_008, "i", "0.1", "x"), l(20_009, "i", "0"),  // pair 6: f1 0.667 resolves, report 2
        ]
    }()

    @Test func countsEveryLossAndReportsAlertsAndMetrics() throws {
        let dir = try Driftwood.temporaryDirectory()
        try Driftwood.write(
            """
            inputs: [{type: stdin}]
            filters:
              - {type: parse, format: json, remove_source: true, timestamp: {field: ts, formats: [iso8601]}}
              - type: evaluate
                stage_id: quality
                id: request_id
                prediction: score
                label: actual
                group_by: model
                window: 4
                report_every: 2
                pending: {max: 3, ttl: 10s}
                thresholds: {f1: 0.6}
                fairness: {attribute: g, min_group_size: 1}
            outputs: [{type: jsonl, path: out.jsonl}]
            """, to: "p.yml", in: dir)
        let running = try Driftwood.Running(["run", "p.yml", "--metrics-address", "127.0.0.1:0"], directory: dir)
        defer { _ = running.wait(timeout: 0) }
        let base = try running.metricsBase()
        _ = running.feed(Data((Self.handStream.joined(separator: "\n") + "\n").utf8), close: false)
        var m: [String: Double] = [:]
        let settled = try MetricsScrape.eventually(timeout: 30) {
            m = try MetricsScrape.metrics(base)
            return m[#"driftwood_events_out_total{stage="jsonl_0"}"#] == Double(Self.handStream.count + 4)
        }
        #expect(settled, "\(m)")
        let expected: [String: Double] = [
            #"driftwood_evaluate_unmatched_total{stage="quality",reason="no_id"}"#: 1,
            #"driftwood_evaluate_unmatched_total{stage="quality",reason="invalid_prediction"}"#: 1,
            #"driftwood_evaluate_unmatched_total{stage="quality",reason="invalid_label"}"#: 1,
            #"driftwood_evaluate_unmatched_total{stage="quality",reason="duplicate_label"}"#: 1,
            #"driftwood_evaluate_unmatched_total{stage="quality",reason="duplicate_prediction"}"#: 0,
            #"driftwood_evaluate_unmatched_total{stage="quality",reason="evicted"}"#: 2,
            #"driftwood_evaluate_unmatched_total{stage="quality",reason="expired"}"#: 3,
            #"driftwood_evaluate_pending{stage="quality"}"#: 0,
            #"driftwood_model_performance{group="m",metric="f1"}"#: 2.0 / 3,
            #"driftwood_model_performance{group="m",metric="accuracy"}"#: 0.75,
            #"driftwood_model_performance{group="m",metric="auc"}"#: 1,
            #"driftwood_model_fairness{group="m",attribute="g",metric="demographic_parity_difference"}"#: 0,
            #"driftwood_label_lag_seconds_count{group="m"}"#: 6,
            #"driftwood_label_lag_seconds_bucket{group="m",le="1.0"}"#: 6,
            #"driftwood_alerts_total{type="MODEL_PERFORMANCE_DEGRADED"}"#: 1,
        ]
        for (sample, value) in expected.sorted(by: { $0.key < $1.key }) {
            #expect(m[sample].map { abs($0 - value) < 1e-9 } == true, "\(sample): \(m[sample] ?? .nan)")
        }
        running.closeInput()
        #expect(running.wait(timeout: 20) == 0, "\(running.stderr)")
        let out = try Driftwood.jsonLines(dir.appendingPathComponent("out.jsonl").path)
        // The labels that completed a pair carry it; the one completed by its prediction does not.
        let annotated = out.filter { $0["evaluation"] != nil && $0["event"] == nil }
        #expect(annotated.map { $0["request_id"] as? String } == ["a", "f", "g", "h", "i"])
        #expect(annotated.map { ($0["evaluation"] as? [String: Any])?["correct"] as? Bool } == [true, true, true, false, true])
        #expect((annotated[0]["evaluation"] as? [String: Any])?["prediction"] as? Double == 0.9)
        let alerts = out.filter { Self.isAlert($0) }.map { $0["alert"] as! [String: Any] }
        #expect(alerts.map { "\($0["type"]!) \($0["state"]!) \($0["metric"]!)" } == [
            "MODEL_PERFORMANCE_DEGRADED firing f1", "MODEL_PERFORMANCE_DEGRADED resolved f1",
        ])
        #expect(alerts.first?["value"] as? Double == 0.5 && alerts.first?["group"] as? String == "m")
        // The alert follows the label of h, the report follows the alert or the label.
        let reports = out.filter { ($0["event"] as? [String: Any])?["dataset"] as? String == "driftwood.evaluate" }
        #expect(reports.count == 2)
        let first = reports[0]["evaluation"] as! [String: Any]
        #expect(first["pairs"] as? Int == 4 && first["window"] as? Int == 4 && first["group"] as? String == "m")
        let metrics = first["metrics"] as! [String: Double]
        #expect(metrics == ["accuracy": 0.75, "precision": 0.6666666667, "recall": 1, "f1": 0.8, "auc": 1])
        let fairness = first["fairness"] as! [String: Any]
        #expect(fairness["attribute"] as? String == "g")
        let groups = fairness["groups"] as! [String: [String: Double]]
        #expect(groups["x"] == ["n": 3, "selection_rate": 1, "tpr": 1, "fpr": 1])
        #expect(groups["y"] == ["n": 1, "selection_rate": 0, "tpr": 0, "fpr": 0])
        #expect(fairness["demographic_parity_difference"] as? Double == 1)
        #expect(fairness["disparate_impact"] as? Double == 0)
        #expect(fairness["equalized_odds_difference"] as? Double == 1)
        #expect(fairness["equal_opportunity_difference"] as? Double == 1)
        let labels = first["labels"] as! [String: Any]
        #expect(labels["matched"] as? Int == 4 && labels["expired"] as? Int == 2)
        let index = { (o: [String: Any]) in out.firstIndex { ($0 as NSDictionary).isEqual(to: o) }! }
        #expect(out[index(reports[0]) - 1]["request_id"] as? String == "g")
        #expect(Self.isAlert(out[index(reports[1]) - 1]) && out[index(reports[1]) - 2]["request_id"] as? String == "i")
        // Nothing is lost: every line and the 4 events made (2 alerts, 2 reports).
        #expect(out.count == Self.handStream.count + 4)
    }

    /// A graceful stop in the middle of the join, then a run over the rest: the labels of
    /// predictions read before the restart still match, and the output equals one run's.
    @Test func aRestartInTheMiddleOfTheJoinChangesNothing() throws {
        let dir = try Driftwood.temporaryDirectory()
        let gen = try Self.python(["gen", "binary", "5", "in.jsonl"], in: dir)
        #expect(gen.code == 0, "\(gen.stderr)")
        let lines = try String(contentsOf: dir.appendingPathComponent("in.jsonl"), encoding: .utf8).split(separator: "\n")
        for name in ["whole", "parts"] {
            try Driftwood.write(
                """
                data_dir: \(name)-data
                inputs: [{type: stdin}]
                filters:
                  - {type: parse, format: json, remove_source: true, timestamp: {field: ts, formats: [iso8601]}}
                  - type: evaluate
                    id: request_id
                    prediction: score
                    label: actual
                    group_by: model
                    window: 200
                    report_every: 50
                    pending: {max: 250, ttl: 5m}
                    thresholds: {f1: 0.9}
                    fairness: {attribute: features.gender, min_group_size: 30, thresholds: {demographic_parity_difference: 0.1}}
                outputs: [{type: jsonl, path: \(name).jsonl}]
                """, to: "\(name).yml", in: dir)
        }
        let whole = try Driftwood.run(["run", "whole.yml"], stdin: Data((lines.joined(separator: "\n") + "\n").utf8), directory: dir)
        #expect(whole.code == 0, "\(whole.stderr)")
        // Cut where many predictions wait for their labels.
        for part in [lines[..<5_000], lines[5_000...]] {
            let run = try Driftwood.run(["run", "parts.yml"], stdin: Data((part.joined(separator: "\n") + "\n").utf8), directory: dir)
            #expect(run.code == 0, "\(run.stderr)")
        }
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("parts-data/state/evaluate_1").path))
        let a = try String(contentsOf: dir.appendingPathComponent("whole.jsonl"), encoding: .utf8)
        let b = try String(contentsOf: dir.appendingPathComponent("parts.jsonl"), encoding: .utf8)
        #expect(a.split(separator: "\n").count > lines.count + 40)
        #expect(a == b, "the restarted run differs from the uninterrupted one")
        // Labels after the cut found predictions from before it.
        let ids = Set(lines[..<5_000].compactMap { line -> String? in
            guard let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], o["score"] != nil else { return nil }
            return o["request_id"] as? String
        })
        let second = try Driftwood.jsonLines(dir.appendingPathComponent("parts.jsonl").path).suffix(from: 5_000)
        #expect(second.contains { $0["evaluation"] != nil && $0["event"] == nil && ids.contains($0["request_id"] as? String ?? "") })
    }
}
