import Foundation
import Testing
import TestSupport

/// `monitor` reports through the real binary against numpy, and the cost of new groups.
@Suite struct MonitorReportTests {
    @Test func reportsEqualNumpyAtTheirEvent() throws {
        let dir = try Driftwood.temporaryDirectory()
        let lines = (0..<2_000).map { i -> String in
            let model = i % 3 == 0 ? "b" : "a"
            let error = (i * 7) % 23 == 0 || (model == "a" && (900..<1_100).contains(i) && i % 5 == 0)
            let latency = Double((i * 13) % 97) + (model == "b" && i > 1_200 ? 80 : 0)
            return #"{"model":"\#(model)","level":"\#(error ? "ERROR" : "INFO")","latency_ms":\#(latency),"i":\#(i)}"#
        }
        try Driftwood.write(lines.joined(separator: "\n") + "\n", to: "input.jsonl", in: dir)
        try Driftwood.write(
            """
            inputs: [{type: stdin}]
            filters:
              - {type: parse, format: json, remove_source: true}
              - {type: monitor, window: 60, report_every: 30, group_by: model, latency: {statistic: p95}}
            outputs: [{type: jsonl, path: out.jsonl}]
            """, to: "p.yml", in: dir)
        let run = try Driftwood.run(["run", "p.yml"], stdin: Data((lines.joined(separator: "\n") + "\n").utf8), directory: dir)
        #expect(run.code == 0, "\(run.stderr)")
        let answer = try NumPy.run(
            """
            import json
            groups = {}
            out = []
            for l in open('input.jsonl'):
                e = json.loads(l)
                g = groups.setdefault(e['model'], {'n': 0, 'err': [], 'lat': []})
                g['n'] += 1; g['err'].append(e['level'] == 'ERROR'); g['lat'].append(e['latency_ms'])
                if g['n'] >= 60 and g['n'] % 30 == 0:
                    out.append({'i': e['i'], 'group': e['model'], 'events': g['n'], 'error_rate': float(np.mean(g['err'][-60:])),
                                'latency': float(np.percentile(np.array(g['lat'][-60:]), 95))})
            print(json.dumps(out))
            """, in: dir)
        let expected = try JSONSerialization.jsonObject(with: Data(answer.utf8)) as! [[String: Any]]
        let all = try Driftwood.jsonLines(dir.appendingPathComponent("out.jsonl").path)
        var reports: [([String: Any], Int)] = []
        var last = -1
        for e in all {
            if let i = e["i"] as? Int { last = i } else if (e["event"] as? [String: Any])?["kind"] as? String == "metric" { reports.append((e, last)) }
        }
        #expect(expected.count > 50 && reports.count == expected.count)
        for ((r, trigger), want) in zip(reports, expected) {
            #expect(trigger == want["i"] as! Int)
            #expect(Set(r.keys) == ["@timestamp", "event", "message", "monitor", "host"])
            #expect(r["event"] as! [String: String] == ["kind": "metric", "dataset": "driftwood.monitor"])
            let m = r["monitor"] as! [String: Any]
            #expect(Set(m.keys) == ["group", "window", "events", "error_rate", "latency"])
            #expect(m["group"] as? String == want["group"] as? String && m["window"] as? Int == 60)
            #expect(m["events"] as? Int == want["events"] as? Int)
            #expect(abs((m["error_rate"] as! Double) - (want["error_rate"] as! Double)) < 1e-9)
            let latency = m["latency"] as! [String: Any]
            #expect(latency["statistic"] as? String == "p95")
            #expect(abs((latency["value"] as! Double) - (want["latency"] as! Double)) < 1e-9)
        }
    }

    /// 20,000 new groups in drift and monitor: each new group used to copy the label map of
    /// every gauge family (4½ minutes in a debug build); now a new group costs the same however
    /// many there are.
    @Test func twentyThousandNewGroupsAreCheap() throws {
        let dir = try Driftwood.temporaryDirectory()
        try Driftwood.write((0..<2_000).map { #"{"x":\#(Double($0 % 100))}"# }.joined(separator: "\n") + "\n", to: "ref.jsonl", in: dir)
        #expect(try Driftwood.run(["baseline", "--input", "ref.jsonl", "--output", "b.json"], directory: dir).code == 0)
        try Driftwood.write(
            """
            inputs: [{type: stdin}]
            filters:
              - {type: parse, format: json, remove_source: true}
              - {type: drift, baseline: b.json, window: 10, group_by: model, max_groups: 20000}
              - {type: monitor, window: 10, group_by: model, max_groups: 20000}
            outputs: [{type: jsonl, path: out.jsonl}]
            """, to: "p.yml", in: dir)
        let input = (0..<20_000).map { #"{"model":"m\#($0)","x":\#(Double($0 % 100)),"latency_ms":5}"# }.joined(separator: "\n") + "\n"
        let started = Date()
        let run = try Driftwood.run(["run", "p.yml"], stdin: Data(input.utf8), directory: dir, timeout: 90)
        let seconds = Date().timeIntervalSince(started)
        #expect(run.code == 0, "\(run.stderr)")
        #expect(seconds < 60, "20,000 new groups took \(seconds) s")
        #expect(FileLogs.lineCount(dir.appendingPathComponent("out.jsonl").path) == 20_000)
    }

    /// The per-group gauges reach `/metrics`: scores per feature and the weighted one, the
    /// distribution of the listed feature per bin (its value equal to the last report's), and
    /// the monitor's error rate.
    @Test func groupGaugesAreExported() throws {
        let dir = try Driftwood.temporaryDirectory()
        try Driftwood.write(ModelMonitoringTests.referenceLines(1_000).joined(separator: "\n") + "\n", to: "ref.jsonl", in: dir)
        #expect(try Driftwood.run(["baseline", "--input", "ref.jsonl", "--features", "x,c", "--bins", "4", "--output", "b.json"], directory: dir).code == 0)
        try Driftwood.write(
            """
            inputs: [{type: stdin}]
            filters:
              - {type: parse, format: json, remove_source: true}
              - {type: drift, baseline: b.json, window: 50, report_every: 50, group_by: model, distributions: [c]}
              - {type: monitor, window: 50, group_by: model}
            outputs: [{type: jsonl, path: out.jsonl}]
            """, to: "p.yml", in: dir)
        let running = try Driftwood.Running(["run", "p.yml", "--metrics-address", "127.0.0.1:0"], directory: dir)
        defer { _ = running.wait(timeout: 0) }
        let base = try running.metricsBase()
        let input = (0..<400).map { i in #"{"model":"\#(i % 2 == 0 ? "a" : "b")","x":\#(Double(i % 100)),"c":"\#(["A", "B", "Z"][i % 3])","level":"INFO"}"# }
        _ = running.feed(Data((input.joined(separator: "\n") + "\n").utf8), close: false)
        var m: [String: Double] = [:]
        let settled = try MetricsScrape.eventually(timeout: 30) {
            m = try MetricsScrape.metrics(base)
            return m[#"driftwood_feature_distribution{feature="c",group="b",bin="__other__"}"#] != nil
                && FileLogs.lineCount(dir.appendingPathComponent("out.jsonl").path) >= 400
        }
        #expect(settled, "\(m.keys.sorted())")
        let reports = try Driftwood.jsonLines(dir.appendingPathComponent("out.jsonl").path)
            .filter { (($0["drift"] as? [String: Any])?["group"] as? String) == "b" }.map { $0["drift"] as! [String: Any] }
        let last = try #require(reports.last)
        let current = ((last["distributions"] as! [String: [String: Any]])["c"]!["current"] as! [Double])
        let categories = ((last["distributions"] as! [String: [String: Any]])["c"]!["categories"] as! [String])
        for (k, category) in categories.enumerated() {
            #expect(m[#"driftwood_feature_distribution{feature="c",group="b",bin="\#(category)"}"#] == current[k])
        }
        let weighted = try #require(m[#"driftwood_drift_score{feature="_weighted",metric="psi",group="b"}"#])
        #expect(abs(weighted - (last["weighted"] as! Double)) < 1e-9)  // the report writes 10 decimals
        #expect(m[#"driftwood_drift_score{feature="x",metric="psi",group="a"}"#] != nil)
        #expect(m[#"driftwood_model_error_rate{group="a"}"#] == 0)
        // x is not listed under distributions: no series for it.
        #expect(!m.keys.contains { $0.hasPrefix("driftwood_feature_distribution{feature=\"x\"") })
        kill(running.pid, SIGTERM)
        #expect(running.wait(timeout: 30) == 0)
    }
}
