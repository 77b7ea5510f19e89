import TestSupport
import DriftwoodCore
import Foundation
import MetricsTestKit
import Testing

@testable import DriftwoodStages

/// The `drift` filter, event by event.
@Suite struct DriftFilterTests {
    /// Reference data: x ~ N(0, 1); c in A…E with shares 40/25/15/12/8 %.
    static func referenceLines() -> [String] {
        var r = SeededRandom(seed: 3)
        return (0..<5_000).map { i in
            let c = ["A", "A", "A", "A", "A", "A", "A", "A", "B", "B", "B", "B", "B", "C", "C", "C", "D", "D", "D", "E"][i % 20]
            return #"{"x":\#(r.normal()),"c":"\#(c)"}"#
        }
    }

    /// A drift filter with the first round's per-event score map and no reports, which these
    /// tests check event by event (`DriftReportTests` covers the default and reports).
    static func filter(_ yaml: String, factory: TestMetrics = TestMetrics()) throws -> DriftFilter {
        let yaml = yaml.replacingOccurrences(of: "{type: drift,", with: "{type: drift, annotate: scores, report_every: 0,")
        return DriftFilter(config: try FilterHarness.config(yaml), environment: FilterHarness.environment("drift_0"), factory: factory)
    }

    static func edges(_ path: String, _ feature: String) throws -> [Double] {
        let baseline = try Baseline.decode(Array(try Data(contentsOf: URL(fileURLWithPath: path))))
        guard case .numeric(let n) = baseline.feature(feature)!.distribution else { return [] }
        return n.edges
    }

    @Test(arguments: DriftMetric.allCases)
    func everyEventsScoresMatchNumpy(metric: DriftMetric) throws {
        let dir = try NumPy.directory()
        let baseline = try FilterHarness.baselineFile(Self.referenceLines(), features: ["x", "c"], in: dir)
        let filter = try Self.filter("  - {type: drift, baseline: \(baseline), metric: \(metric.rawValue), window: 150}")
        var r = SeededRandom(seed: 8)
        var lines: [String] = []
        for i in 0..<1_200 {
            let shift = i < 400 ? 0 : Double(i - 400) / 200
            var parts: [String] = []
            switch i % 13 {
            case 3: parts.append(#""x":"n/a""#)  // sometimes a string: not counted
            case 7: break  // missing
            default: parts.append(#""x":\#(r.normal() + shift)"#)
            }
            if i % 11 != 5 {
                // Unseen values (Z, Y) count as __other__; the mix shifts towards them.
                let pool = i < 600 ? ["A", "A", "B", "C", "D", "E", "A", "B"] : ["Z", "A", "Y", "B", "E", "Z"]
                parts.append(#""c":"\#(pool[Int.random(in: 0..<pool.count, using: &r)])""#)
            }
            parts.append(#""i":\#(i)"#)
            lines.append("{" + parts.joined(separator: ",") + "}")
        }
        let out = FilterHarness.run(filter, lines).map(FilterHarness.object)
        let events = out.filter { !FilterHarness.isAlert($0) }
        #expect(events.count == lines.count)
        try NumPy.write(lines.joined(separator: "\n"), to: "events.jsonl", in: dir)
        let script = """
            import json
            b = json.load(open("\(baseline)"))["features"]
            ex, px = np.array(b["x"]["edges"]), np.maximum(np.array(b["x"]["probabilities"]), 1e-4)
            cats = [k for k in b["c"]["probabilities"] if k != "__other__"]
            pc = np.maximum(np.array([b["c"]["probabilities"][k] for k in cats] + [b["c"]["probabilities"]["__other__"]]), 1e-4)
            W = 150
            def score(bins, e):
                a = np.maximum(np.bincount(bins[-W:], minlength=len(e)) / W, 1e-4)
                if "\(metric.rawValue)" == "psi": return float(np.sum((a - e) * np.log(a / e)))
                if "\(metric.rawValue)" == "kl": return float(np.sum(scipy.special.rel_entr(a, e)))
                m = (a + e) / 2
                return float(np.sqrt(0.5 * np.sum(scipy.special.rel_entr(a, m)) + 0.5 * np.sum(scipy.special.rel_entr(e, m))))
            xb, cb = [], []
            for line in open("events.jsonl"):
                ev = json.loads(line)
                counted = False
                x = ev.get("x")
                if isinstance(x, (int, float)):
                    xb.append(int(np.searchsorted(ex, x, side="left"))); counted = True
                if "c" in ev:
                    cb.append(cats.index(ev["c"]) if ev["c"] in cats else len(cats)); counted = True
                sx = repr(score(xb, px)) if counted and len(xb) >= W else "-"
                sc = repr(score(cb, pc)) if counted and len(cb) >= W else "-"
                print(sx, sc)
            """
        let rows = try NumPy.run(script, in: dir).split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        #expect(rows.count == events.count)
        var compared = 0
        var worst = 0.0
        for (event, row) in zip(events, rows) {
            let drift = event["drift"] as? [String: Any]
            let features = drift?["features"] as? [String: Double] ?? [:]
            for (k, name) in ["x", "c"].enumerated() {
                if row[k] == "-" {
                    #expect(features[name] == nil, "event \(event["i"]!): \(name) window not full yet")
                } else {
                    let ours = try #require(features[name], "event \(event["i"]!) lacks a score for \(name)")
                    worst = max(worst, abs(ours - Double(row[k])!))
                    compared += 1
                }
            }
            if let drift {
                let score = drift["score"] as! Double
                #expect(score == features.values.max()!)
                #expect(drift["metric"] as? String == metric.rawValue)
                let detected = score > metric.defaultThreshold
                #expect(drift["detected"] as? Bool == detected)
                #expect(((event["tags"] as? [String]) ?? []).contains("drift") == detected)
            }
        }
        #expect(compared > 1_800)
        #expect(worst <= 1e-9, "largest difference from numpy: \(worst)")
    }

    /// x in distribution, then shifted, then back: one firing alert, one resolved, each right
    /// after its trigger.
    @Test func alertFiresOnceAndResolves() throws {
        let dir = try NumPy.directory()
        let baseline = try FilterHarness.baselineFile(Self.referenceLines(), features: ["x", "c"], in: dir)
        let metrics = TestMetrics()
        let filter = try Self.filter(
            "  - {type: drift, baseline: \(baseline), features: [x], window: 100, threshold: 0.25}", factory: metrics)
        // One value per bin in turn: a window of them is exactly the baseline's uniform mix, so
        // the score moves one way only while shifted values come and go (no flapping at the
        // threshold to blur what this test checks).
        let edges = try Self.edges(baseline, "x")
        let perBin = [edges[0] - 1] + zip(edges, edges.dropFirst()).map { ($0 + $1) / 2 } + [edges.last! + 1]
        let lines = (0..<1_400).map { i in
            let x = (400..<800).contains(i) ? edges.last! + 2 : perBin[i % perBin.count]
            return #"{"@timestamp":"2026-01-01T00:\#(String(format: "%02d", i / 60 % 60)):\#(String(format: "%02d", i % 60)).000Z","x":\#(x)}"#
        }
        let out = FilterHarness.run(filter, lines)
        let objects = out.map(FilterHarness.object)
        let alertIndices = objects.indices.filter { FilterHarness.isAlert(objects[$0]) }
        #expect(alertIndices.count == 2, "\(alertIndices.map { (objects[$0 - 1]["x"]!, FilterHarness.alert(objects[$0])["value"]!, FilterHarness.alert(objects[$0])["state"]!) })")
        guard alertIndices.count == 2 else { return }
        let states = alertIndices.map { FilterHarness.alert(objects[$0])["state"] as? String }
        #expect(states == ["firing", "resolved"])
        // Scores of the events before each alert: the alert follows the first crossing.
        func score(_ k: Int) -> Double? { ((objects[k]["drift"] as? [String: Any])?["features"] as? [String: Double])?["x"] }
        let fire = alertIndices[0]
        let resolve = alertIndices[1]
        #expect(score(fire - 1)! > 0.25)
        #expect((0..<(fire - 1)).allSatisfy { score($0).map { $0 <= 0.25 } ?? true })
        #expect(score(resolve - 1)! <= 0.25)
        #expect(((fire + 1)..<(resolve - 1)).allSatisfy { score($0)! > 0.25 })
        #expect(((resolve + 1)..<objects.count).allSatisfy { score($0)! <= 0.25 })
        // The alert's shape and contents.
        for (k, state) in zip(alertIndices, ["firing", "resolved"]) {
            let o = objects[k]
            #expect(Set(o.keys) == ["@timestamp", "event", "message", "alert", "host"])
            #expect(o["@timestamp"] as? String == objects[k - 1]["@timestamp"] as? String)
            let a = FilterHarness.alert(o)
            #expect(Set(a.keys) == ["type", "state", "feature", "metric", "value", "threshold", "window"])
            #expect(a["type"] as? String == "MODEL_DRIFT_DETECTED" && a["state"] as? String == state)
            #expect(a["feature"] as? String == "x" && a["metric"] as? String == "psi")
            #expect(a["value"] as? Double == score(k - 1))
            #expect(a["threshold"] as? Double == 0.25 && a["window"] as? Int == 100)
            #expect((o["host"] as? [String: Any])?["name"] as? String == "test-host")
            #expect((o["message"] as? String)?.contains("psi drift") == true)
            // The trigger's origin, marked as derived.
            #expect(out[k].origin.position == out[k - 1].origin.position)
            #expect(out[k].origin.derived != 0 && out[k - 1].origin.derived == 0)
        }
        // Metrics: one alert counted; the gauge recorded at most once per 100 window updates (plus alerts).
        #expect(metrics.counterTotal(label: "driftwood_alerts_total", dimensions: [("type", "MODEL_DRIFT_DETECTED")]) == 1)
        let gauge = try metrics.expectGauge("driftwood_drift_score", [("feature", "x"), ("metric", "psi"), ("group", "")])
        #expect(gauge.values.count >= 12 && gauge.values.count <= 1_400 / 100 + 2)
        #expect(gauge.lastValue! <= 0.25)
    }

    @Test func groupByKeepsSeparateWindows() throws {
        let dir = try NumPy.directory()
        let baseline = try FilterHarness.baselineFile(Self.referenceLines(), features: ["x", "c"], in: dir)
        let grouped = try Self.filter("  - {type: drift, baseline: \(baseline), window: 80, group_by: model}")
        let alone = try Self.filter("  - {type: drift, baseline: \(baseline), window: 80}")
        let edges = try Self.edges(baseline, "x")
        let perBin = [edges[0] - 1] + zip(edges, edges.dropFirst()).map { ($0 + $1) / 2 } + [edges.last! + 1]
        var r = SeededRandom(seed: 4)
        var lines: [String] = []
        var linesOfA: [String] = []
        for i in 0..<900 {
            let line: String
            if i % 3 == 0 {
                line = #"{"model":"b","x":\#(r.normal() * 0.3 + 2),"c":"E","i":\#(i)}"#
            } else if i % 17 == 1 {
                line = #"{"x":\#(r.normal() + 5),"c":"Z","i":\#(i)}"#  // no model: not scored, not counted
            } else {
                // Model a follows the reference mix of c (A 40 %, B 25 %, C 15 %, D 15 %, E 5 %).
                let c = Array("AAAAAAAABBBBBCCCDDDE")[linesOfA.count % 20]
                // and its x visits the baseline's bins in turn: no drift, not even by chance.
                let x = perBin[linesOfA.count % perBin.count]
                line = #"{"model":"a","x":\#(x),"c":"\#(c)","i":\#(i)}"#
                linesOfA.append(line)
            }
            lines.append(line)
        }
        let out = FilterHarness.run(grouped, lines).map(FilterHarness.object)
        let expectedA = FilterHarness.run(alone, linesOfA).map(FilterHarness.object).filter { !FilterHarness.isAlert($0) }
        let gotA = out.filter { $0["model"] as? String == "a" }
        #expect(gotA.count == expectedA.count)
        for (g, e) in zip(gotA, expectedA) {
            #expect((g["drift"] as? NSDictionary) == (e["drift"] as? NSDictionary))
        }
        #expect(gotA.contains { $0["drift"] != nil })
        #expect(out.filter { $0["model"] == nil && !FilterHarness.isAlert($0) }.allSatisfy { $0["drift"] == nil })
        let alerts = out.filter(FilterHarness.isAlert).map(FilterHarness.alert)
        #expect(!alerts.isEmpty)
        #expect(alerts.allSatisfy { $0["group"] as? String == "b" && $0["state"] as? String == "firing" })
        #expect(Set(alerts.compactMap { $0["feature"] as? String }) == ["x", "c"])
    }

    @Test func eventsWithoutFeaturesPassUnchangedAndSkippedValuesAreCounted() throws {
        let dir = try NumPy.directory()
        let baseline = try FilterHarness.baselineFile(Self.referenceLines(), features: ["x", "c"], in: dir)
        let metrics = TestMetrics()
        let lines = (0..<300).map { i in
            switch i % 4 {
            case 0: #"{"x":"oops","n":\#(i)}"#
            case 1: #"{"n":\#(i)}"#
            case 2: #"{"x":null,"c":null,"n":\#(i)}"#
            default: #"{"x":0.5,"c":"A","n":\#(i)}"#
            }
        }
        do {
            let filter = try Self.filter("  - {type: drift, baseline: \(baseline), window: 10}", factory: metrics)
            // A constant value is far from the baseline: alerts follow, which this test leaves out.
            let out = FilterHarness.run(filter, lines).filter { $0.origin.derived == 0 }
            #expect(out.count == 300)
            for (k, event) in out.enumerated() where k % 4 != 3 {
                #expect(event.fields.json == (try Fields(json: lines[k])).json)
            }
            #expect(out.enumerated().filter { $0.offset % 4 == 3 }.dropFirst(9).allSatisfy { $0.element.fields.contains(FieldPath("drift")!) })
        }
        // Flushed when the filter goes away.
        func skipped(_ feature: String, _ reason: String) -> Int64 {
            metrics.counterTotal(
                label: "driftwood_drift_values_skipped_total",
                dimensions: [("stage", "drift_0"), ("feature", feature), ("reason", reason)])
        }
        #expect(skipped("x", "invalid") == 75)
        #expect(skipped("x", "missing") == 150)
        #expect(skipped("c", "missing") == 225)
        #expect(skipped("c", "invalid") == 0)
    }

    @Test func baselineProblemsAreConfigErrorsNamingTheFile() throws {
        let dir = try NumPy.directory()
        let empty = dir.appendingPathComponent("empty.json").path
        try Data().write(to: URL(fileURLWithPath: empty))
        let broken = dir.appendingPathComponent("broken.json").path
        try Data("{\"version\": 1, \"features\": {\"x\": ".utf8).write(to: URL(fileURLWithPath: broken))
        let good = try FilterHarness.baselineFile(Self.referenceLines(), features: ["x", "c"], in: dir)
        let missing = dir.appendingPathComponent("nope.json").path

        let e1 = FilterHarness.errors("  - type: drift\n    baseline: \(empty)")
        #expect(e1 == ["p.yml:4:15: filters[0].baseline (drift): \(empty): the file is empty (write one with `driftwood baseline`)"])
        let e2 = FilterHarness.errors("  - type: drift\n    baseline: \(broken)")
        #expect(e2.count == 1 && e2[0].hasPrefix("p.yml:4:15: filters[0].baseline (drift): \(broken): not valid JSON"))
        let e3 = FilterHarness.errors("  - {type: drift, baseline: \(missing)}")
        #expect(e3.count == 1 && e3[0].contains("filters[0].baseline (drift): cannot read \(missing): no such file"))
        let e4 = FilterHarness.errors("  - {type: drift, baseline: \(good), features: [x, cc], metric: psx, window: 0}")
        #expect(e4.contains { $0.contains("filters[0].features (drift): 'cc' is not in the baseline \(good) (did you mean 'c'?); it has: x, c") })
        #expect(e4.contains { $0.contains("filters[0].metric (drift): expected one of psi, kl, js, found 'psx' (did you mean 'psi'?)") })
        #expect(e4.contains { $0.contains("filters[0].window (drift): must be at least 1") })
        let e6 = FilterHarness.errors("  - {type: drift, baseline: \(good), threshold: 0.1, resolve_below: 0.2}")
        #expect(e6.count == 1 && e6[0].contains("filters[0].resolve_below (drift): must not be above threshold (0.1)"))
        let e5 = FilterHarness.errors("  - {type: drift}")
        #expect(e5 == ["p.yml:3:5: filters[0] (drift): missing required key 'baseline'"])
        // Defaults.
        let config: DriftConfig = try FilterHarness.config("  - {type: drift, baseline: \(good), metric: js}")
        #expect(config.features == ["x", "c"] && config.threshold == 0.1 && config.window == 1000 && config.groupBy == nil)
        #expect(config.resolveBelow == 0.1)
    }
}
