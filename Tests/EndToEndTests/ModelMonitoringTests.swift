import Foundation
import Testing

/// `driftwood baseline`, then `driftwood run` with `drift` and `monitor`, through the real binary.
@Suite struct ModelMonitoringTests {
    /// Reference lines: x spread over 0…100, c mostly A/B/C, model a or b.
    static func referenceLines(_ n: Int) -> [String] {
        (0..<n).map { i in
            let x = Double((i * 37) % 1000) / 10
            let c = ["A", "A", "B", "C", "A", "B"][i % 6]
            return #"{"model":"\#(i % 2 == 0 ? "a" : "b")","x":\#(x),"c":"\#(c)","level":"INFO","latency_ms":\#(5 + i % 10)}"#
        }
    }

    static func gzip(_ text: String, to path: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["gzip", "-c"]
        let inPipe = Pipe()
        let out = FileManager.default.createFile(atPath: path, contents: nil)
        #expect(out)
        process.standardInput = inPipe
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try process.run()
        inPipe.fileHandleForWriting.write(Data(text.utf8))
        try inPipe.fileHandleForWriting.close()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }

    @Test func baselineThenDriftAndMonitorAlertsInTheStream() throws {
        let dir = try Driftwood.temporaryDirectory()
        let reference = Self.referenceLines(2_000)
        try Driftwood.write(reference[..<1_000].joined(separator: "\n") + "\n", to: "ref-1.jsonl", in: dir)
        try Self.gzip(reference[1_000...].joined(separator: "\n") + "\n", to: dir.appendingPathComponent("ref-2.log").path)
        let made = try Driftwood.run(
            ["baseline", "--input", "ref-1.jsonl", "--input", "ref-2.log", "--features", "x,c", "--bins", "5",
             "--output", "baseline.json"], directory: dir)
        #expect(made.code == 0, "\(made.stderr)")
        #expect(made.stderr.contains("2000 lines"))
        let baseline = try JSONSerialization.jsonObject(
            with: Data(contentsOf: dir.appendingPathComponent("baseline.json"))) as! [String: Any]
        #expect(baseline["version"] as? Int == 1)
        let features = baseline["features"] as! [String: [String: Any]]
        #expect(features["x"]?["type"] as? String == "numeric")
        #expect((features["x"]?["edges"] as? [Double])?.count == 4)
        #expect(features["x"]?["count"] as? Int == 2_000)
        #expect(features["c"]?["type"] as? String == "categorical")
        #expect((features["c"]?["probabilities"] as? [String: Double])?["A"] == 1_001.0 / 2_000)

        try Driftwood.write(
            """
            inputs:
              - type: stdin
            filters:
              - {type: parse, format: json, remove_source: true}
              - {type: drift, baseline: baseline.json, window: 100, group_by: model, resolve_below: 0.1, annotate: scores, report_every: 0}
              - {type: monitor, window: 50, group_by: model, error_rate: {resolve_below: 0.02}, report_every: 0}
            outputs:
              - {type: jsonl, path: out/all.jsonl}
              - {type: jsonl, path: out/alerts.jsonl, when: 'event.kind == "alert"'}
            """, to: "p.yml", in: dir)
        // Model b drifts (x near 100, c all Z) for a while; model a has an error burst.
        var lines: [String] = []
        for i in 0..<3_000 {
            let model = i % 2 == 0 ? "a" : "b"
            var x = Double((i * 37) % 1000) / 10
            var c = ["A", "A", "B", "C", "A", "B"][(i / 2) % 6]
            if model == "b" && (800..<1_600).contains(i) {
                x = 95 + Double(i % 50) / 10
                c = "Z"
            }
            let error = model == "a" && (2_000..<2_200).contains(i) && i % 3 == 0
            lines.append(
                error
                    ? #"{"model":"\#(model)","x":\#(x),"c":"\#(c)","level":"ERROR","error":"timeout","i":\#(i)}"#
                    : #"{"model":"\#(model)","x":\#(x),"c":"\#(c)","level":"INFO","latency_ms":7,"i":\#(i)}"#)
        }
        let run = try Driftwood.run(["run", "p.yml"], stdin: Data((lines.joined(separator: "\n") + "\n").utf8), directory: dir)
        #expect(run.code == 0, "\(run.stderr)")
        let alerts = try Driftwood.jsonLines(dir.appendingPathComponent("out/alerts.jsonl").path)
        let summary = alerts.map { a -> String in
            let alert = a["alert"] as! [String: Any]
            return "\(alert["type"]!) \(alert["state"]!) \(alert["group"]!) \(alert["feature"] ?? "-")"
        }
        #expect(summary.filter { $0.hasPrefix("MODEL_DRIFT_DETECTED firing b") }.count == 2, "\(summary)")
        #expect(summary.filter { $0.hasPrefix("MODEL_DRIFT_DETECTED resolved b") }.count == 2, "\(summary)")
        #expect(!summary.contains { $0.hasPrefix("MODEL_DRIFT_DETECTED") && $0.contains(" a ") }, "\(summary)")
        #expect(summary.contains("HIGH_ERROR_RATE firing a -") && summary.contains("HIGH_ERROR_RATE resolved a -"), "\(summary)")
        #expect(!summary.contains { $0.hasPrefix("HIGH_LATENCY") })
        for a in alerts {
            #expect(Set(a.keys) == ["@timestamp", "event", "message", "alert", "host"])
        }
        // In the full stream every alert comes right after an event of its group, and every
        // input line is there once, in order.
        let all = try Driftwood.jsonLines(dir.appendingPathComponent("out/all.jsonl").path)
        #expect(all.count == 3_000 + alerts.count)
        var next = 0
        for (k, event) in all.enumerated() {
            if (event["event"] as? [String: Any])?["kind"] as? String == "alert" {
                let group = (event["alert"] as! [String: Any])["group"] as? String
                #expect(k > 0 && all[k - 1]["model"] as? String == group)
            } else {
                #expect(event["i"] as? Int == next)
                next += 1
            }
        }
        // Events of a full window carry their scores.
        let scored = all.filter { $0["drift"] != nil }
        #expect(scored.count > 2_500)
        #expect(scored.allSatisfy { (($0["drift"] as! [String: Any])["features"] as! [String: Double]).count == 2 })
    }

    @Test func checkNamesAnEmptyOrBrokenBaselineAndExits2() throws {
        let dir = try Driftwood.temporaryDirectory()
        try Driftwood.write("", to: "empty.json", in: dir)
        try Driftwood.write("{\"version\": 1, \"features\": {\"x\": {\"type\": \"numeric\"", to: "broken.json", in: dir)
        let pipeline = try Driftwood.write(
            """
            inputs:
              - type: stdin
            filters:
              - type: drift
                baseline: empty.json
              - type: drift
                baseline: broken.json
            outputs:
              - type: stdout
            """, to: "p.yml", in: dir)
        let result = try Driftwood.run(["check", pipeline], directory: dir)
        #expect(result.code == 2)
        #expect(result.stderr.contains("p.yml:5:15: filters[0].baseline (drift): \(dir.path)/empty.json: the file is empty"), "\(result.stderr)")
        #expect(result.stderr.contains("p.yml:7:15: filters[1].baseline (drift): \(dir.path)/broken.json: not valid JSON"), "\(result.stderr)")
        #expect(result.stderr.contains("2 errors"))
        let run = try Driftwood.run(["run", pipeline], directory: dir)
        #expect(run.code == 2)
    }

    @Test func baselineCommandErrorsAndEveryFieldMode() throws {
        let dir = try Driftwood.temporaryDirectory()
        try Driftwood.write(Self.referenceLines(500).joined(separator: "\n") + "\n", to: "ref.jsonl", in: dir)
        #expect(try Driftwood.run(["baseline"], directory: dir).code == 2)
        #expect(try Driftwood.run(["baseline", "--input", "ref.jsonl", "--bins", "1"], directory: dir).code == 2)
        let missing = try Driftwood.run(["baseline", "--input", "nope.jsonl"], directory: dir)
        #expect(missing.code == 1 && missing.stderr.contains("nope.jsonl"))
        let empty = try Driftwood.run(["baseline", "--input", "ref.jsonl", "--features", "x,y.z"], directory: dir)
        #expect(empty.code == 1 && empty.stderr.contains("no values in the input for: y.z"))
        // Without --features: every scalar leaf but identifiers and levels, to stdout; few-valued
        // numbers are categories.
        let every = try Driftwood.run(["baseline", "--input", "ref.jsonl"], directory: dir)
        #expect(every.code == 0, "\(every.stderr)")
        let baseline = try JSONSerialization.jsonObject(with: Data(every.stdout.utf8)) as! [String: Any]
        let features = baseline["features"] as! [String: [String: Any]]
        #expect(Set(features.keys) == ["x", "c", "latency_ms"])
        #expect(every.stderr.contains("left out model: an identifier") && every.stderr.contains("left out level: a log level"))
        #expect(features["x"]?["type"] as? String == "numeric")
        #expect(features["latency_ms"]?["type"] as? String == "categorical")
    }
}
