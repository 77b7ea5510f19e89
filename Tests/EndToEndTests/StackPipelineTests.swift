import Foundation
import Testing

/// What `docker compose up` shows, without Docker: the compose stack's log writer
/// (deploy/writer/write_model_logs.py) produces logs in which the filters of
/// pipelines/model-logs-to-es.yml find the drift episode and the error burst and nothing else,
/// `evaluate` joins every label it writes and sees fraud-detector's F1 fall in the drift, and
/// every field they emit is mapped by templates/model-logs.json.
@Suite struct StackPipelineTests {
    /// Lines the writer makes in `--fast` mode: 300 virtual seconds at 25 lines/s with a 200 s
    /// episode cycle, so drift runs 60-120 s, the error burst 140-160 s, and the second cycle's
    /// normal traffic 200-260 s lets the alerts resolve.
    static let rate = 25.0
    static let period = 200.0
    static let lines = 7_500
    static let start = "2026-11-24T10:00:00"

    struct Written {
        let directory: URL
        let files: [String: String]
    }

    /// Runs the writer into a fresh directory and returns every file it wrote, by name.
    static func write(maxBytes: String) throws -> Written {
        let dir = try Driftwood.temporaryDirectory()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", StackFiles.url("deploy/writer/write_model_logs.py").path, "--dir", dir.path, "--fast",
            "--lines", "\(lines)", "--rate", "\(rate)", "--period", "\(period)", "--seed", "7", "--start", start,
            "--max-bytes", maxBytes,
        ]
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "write_model_logs.py failed:\n\(stderr)")
        var files: [String: String] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: dir.path) {
            files[name] = try String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)
        }
        return Written(directory: dir, files: files)
    }

    @Test func writerAppendsOneFilePerModelAndRotatesByRenaming() throws {
        // With this seed the models write 420-800 KiB each: 416KiB rotates every file exactly
        // once, so no generation is replaced and every line is still there.
        let written = try Self.write(maxBytes: "416KiB")
        for model in ["fraud-detector", "churn-predictor", "credit-scorer", "spam-filter"] {
            #expect(written.files["\(model).log"] != nil, "no \(model).log")
            #expect(written.files["\(model).log.1"] != nil, "\(model).log was not rotated at 416KiB")
            #expect((written.files["\(model).log.1"]?.utf8.count ?? 0) <= 416 << 10)
        }
        let predictions = written.files.filter { !$0.key.hasPrefix("ground_truth.log") }
        let all = predictions.values.flatMap { $0.split(separator: "\n") }
        #expect(all.count == Self.lines)
        var json = 0
        for line in all where line.hasPrefix("{") {
            let event = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            for key in ["ts", "level", "model", "features", "latency_ms"] {
                #expect(event[key] != nil, "a line without \(key): \(line)")
            }
            json += 1
        }
        // About one line in 500 is plain text, for driftwood's _parse_failure path.
        #expect(json < all.count && json > all.count * 99 / 100)
        for (name, text) in predictions where name.hasSuffix(".log") || name.hasSuffix(".log.1") {
            let models = Set(
                text.split(separator: "\n").filter { $0.hasPrefix("{") }.map { line in
                    ((try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any])?["model"] as? String
                        ?? "?"
                })
            #expect(models.count == 1 && name.hasPrefix(models.first ?? "?"), "\(name) holds \(models.sorted())")
        }
        // Ground truth for fraud-detector's predictions, in ground_truth.log: each for a
        // prediction written before it, 5 s to 4 min later, in time order; about one in ten never.
        let objects = { (text: String) in
            text.split(separator: "\n").compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] }
        }
        var predicted: [String: String] = [:]
        for event in predictions.values.flatMap(objects) where event["model"] as? String == "fraud-detector" && event["level"] as? String == "INFO" {
            predicted[event["request_id"] as? String ?? "?"] = event["ts"] as? String
        }
        let truth = objects(written.files["ground_truth.log"] ?? "")
        #expect(truth.count > predicted.count * 7 / 10 && truth.count < predicted.count * 9 / 10, "\(truth.count) labels for \(predicted.count)")
        #expect(truth.map { $0["ts"] as? String ?? "" } == truth.map { $0["ts"] as? String ?? "" }.sorted())
        for label in truth {
            #expect(label["msg"] as? String == "ground_truth" && label["model"] as? String == "fraud-detector" && label["actual"] is Int)
            let made = predicted[label["request_id"] as? String ?? "?"]
            #expect(made != nil && made! < label["ts"] as? String ?? "", "a label before or without its prediction: \(label)")
        }
    }

    /// Runs the filters of pipelines/model-logs-to-es.yml (its file input swapped for stdin)
    /// over the writer's lines with `driftwood test`, from the repository root.
    static func filtered() throws -> [[String: Any]] {
        let written = try write(maxBytes: "64MiB")
        // Each model's lines in the order written; the windows are per model, so the models
        // need not interleave.
        let input = written.files.keys.sorted().filter { $0.hasSuffix(".log") }.map { written.files[$0]! }.joined()
        let inputFile = try Driftwood.write(input, to: "input.jsonl", in: written.directory)
        let pipeline = try StackFiles.replacingInputs(
            of: StackFiles.text("pipelines/model-logs-to-es.yml"), with: "  - type: stdin")
        let pipelineFile = try Driftwood.write(pipeline, to: "model-logs-stdin.yml", in: written.directory)
        let result = try Driftwood.run(
            ["test", pipelineFile, "--input", inputFile], directory: Driftwood.packageRoot,
            environment: [
                "DRIFTWOOD_DATA_DIR": written.directory.appendingPathComponent("data").path,
                "DRIFTWOOD_METRICS_ADDRESS": "127.0.0.1:0",  // tests run in parallel: never a fixed port
            ])
        #expect(result.code == 0, "\(result.stderr)")
        return try result.stdout.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    @Test func theEpisodesRaiseTheirAlertsAndNormalTrafficNone() throws {
        let events = try Self.filtered()
        #expect(events.count > Self.lines)
        let alerts = events.compactMap { $0["alert"] as? [String: Any] }.map { alert in
            (
                type: alert["type"] as? String ?? "?", state: alert["state"] as? String ?? "?",
                group: alert["group"] as? String ?? "?"
            )
        }
        let timestamps = events.filter { $0["alert"] != nil }.compactMap { $0["@timestamp"] as? String }
        func count(_ type: String, _ state: String, _ group: String) -> Int {
            alerts.filter { $0.type == type && $0.state == state && $0.group == group }.count
        }
        #expect(count("MODEL_DRIFT_DETECTED", "firing", "fraud-detector") >= 1, "\(alerts)")
        #expect(count("MODEL_DRIFT_DETECTED", "resolved", "fraud-detector") >= 1, "\(alerts)")
        #expect(count("HIGH_ERROR_RATE", "firing", "churn-predictor") == 1, "\(alerts)")
        #expect(count("HIGH_ERROR_RATE", "resolved", "churn-predictor") == 1, "\(alerts)")
        #expect(count("HIGH_LATENCY", "firing", "churn-predictor") == 1, "\(alerts)")
        #expect(count("HIGH_LATENCY", "resolved", "churn-predictor") == 1, "\(alerts)")
        // Only the models in an episode alert, and none before the first episode (60 s in).
        let others = alerts.filter { $0.group != "fraud-detector" && $0.group != "churn-predictor" }
        #expect(others.isEmpty, "false alarms: \(others)")
        #expect(
            !(alerts.contains { $0.type == "MODEL_DRIFT_DETECTED" && $0.group == "churn-predictor" }),
            "churn-predictor's inputs never drift: \(alerts)")
        #expect(timestamps.allSatisfy { $0 >= "2026-11-24T10:01:00" }, "alerts in normal traffic: \(timestamps)")
        // Every label is joined (none expires: a line that is not JSON keeps today's read time,
        // which must not move evaluate's event time), and the drift, in which fraud is no commoner
        // while the model scores most requests high, brings its F1 under 0.7.
        let labels = events.filter { $0["actual"] != nil && $0["event"] == nil }
        #expect(!labels.isEmpty && labels.allSatisfy { $0["evaluation"] != nil }, "\(labels.filter { $0["evaluation"] == nil }.count) of \(labels.count) labels not joined")
        let reports = events.filter { ($0["event"] as? [String: Any])?["dataset"] as? String == "driftwood.evaluate" }
        #expect(!reports.isEmpty && reports.allSatisfy { ($0["evaluation"] as? [String: Any])?["group"] as? String == "fraud-detector" })
        #expect(count("MODEL_PERFORMANCE_DEGRADED", "firing", "fraud-detector") == 1, "\(alerts)")
        // The ECS renames took place, and the version was looked up.
        let info = try #require(events.first { ($0["log"] as? [String: Any])?["level"] as? String == "INFO" })
        #expect((info["log"] as? [String: Any])?["logger"] as? String == "model_server")
        #expect(info["message"] as? String == "prediction")
        #expect(info["level"] == nil && info["logger"] == nil && info["msg"] == nil && info["ts"] == nil)
        #expect(["1.4.2", "2.0.1", "0.9.7", "3.1.0"].contains(info["model_version"] as? String ?? ""))
    }

    /// Every field the pipeline emits has a mapping in the index template its output uses:
    /// explicitly, or by a dynamic template's `path_match` — templates/model-logs.json for events
    /// and alerts, templates/model-metrics.json for reports (drift.features.*).
    @Test func theTemplateMapsEveryFieldThePipelineEmits() throws {
        var leaves: [Bool: Set<String>] = [false: [], true: []]
        func walk(_ object: [String: Any], prefix: String, report: Bool) {
            for (key, value) in object {
                let path = prefix.isEmpty ? key : "\(prefix).\(key)"
                if let nested = value as? [String: Any] {
                    // Kept whole, not indexed (`enabled: false` in the template): keyed by bins
                    // and by the fairness attribute's values, a field per key would grow the
                    // mapping without bound.
                    if ["drift.distributions", "evaluation.fairness.groups", "evaluation.fairness.excluded"].contains(path) {
                        leaves[report]!.insert(path)
                        continue
                    }
                    walk(nested, prefix: path, report: report)
                } else {
                    leaves[report]!.insert(path)
                }
            }
        }
        for event in try Self.filtered() {
            walk(event, prefix: "", report: (event["event"] as? [String: Any])?["kind"] as? String == "metric")
        }
        #expect(leaves[false]!.contains("drift.features") && leaves[false]!.contains("alert.type") && leaves[false]!.contains("features.amount"))
        #expect(leaves[true]!.contains("drift.max") && leaves[true]!.contains("drift.features.features.amount") && leaves[true]!.contains("monitor.error_rate"))
        for (report, file) in [(false, "templates/model-logs.json"), (true, "templates/model-metrics.json")] {
            let template = try StackFiles.json(file)
            let mapped = StackFiles.mappedFields(ofTemplate: template)
            let globs = StackFiles.dynamicPathMatches(ofTemplate: template)
            for field in leaves[report]!.sorted() {
                let covered = mapped.contains(field) || globs.contains { StackFiles.glob($0, matches: field) }
                #expect(covered, "\(file) has no mapping for \(field)")
            }
        }
    }
}
