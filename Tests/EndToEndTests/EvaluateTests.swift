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
}
