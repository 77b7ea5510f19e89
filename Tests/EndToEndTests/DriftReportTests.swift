import Foundation
import Testing
import TestSupport

/// `drift` score reports, annotation modes, importance and distributions through the real
/// binary, checked against numpy/scipy recomputing every window at the event it belongs to.
@Suite struct DriftReportTests {
    /// Two models; b drifts (x high, c unseen "Z" or "Y") for a while, then comes back.
    static func lines(_ n: Int) -> [String] {
        (0..<n).map { i in
            let model = i % 3 == 0 ? "b" : "a"
            var x = Double((i * 37) % 1000) / 10
            var c = ["A", "A", "B", "C", "A", "B"][(i / 3) % 6]
            if model == "b" && (600..<1_500).contains(i) {
                x = 90 + Double(i % 100) / 10
                c = i % 2 == 0 ? "Z" : "Y"
            }
            return #"{"model":"\#(model)","x":\#(x),"c":"\#(c)","i":\#(i)}"#
        }
    }

    static let reference = """
        import json, sys
        cfg = json.load(open('cfg.json'))
        base = json.load(open('baseline.json'))
        lines = [json.loads(l) for l in open('input.jsonl')]
        eps = 1e-4
        names = cfg['features']
        def keys(f): return [k for k in base['features'][f]['probabilities'] if k != '__other__']
        def bin_of(f, v):
            b = base['features'][f]
            if b['type'] == 'numeric': return int(np.searchsorted(np.array(b['edges']), v, side='left'))
            k = keys(f)
            return k.index(v) if v in k else len(k)
        def expected(f):
            b = base['features'][f]
            if b['type'] == 'numeric': return np.array(b['probabilities'], dtype=float)
            return np.array([b['probabilities'][k] for k in keys(f)] + [b['probabilities']['__other__']], dtype=float)
        def score(a, e):
            a = np.clip(a, eps, None); e = np.clip(e, eps, None)
            if cfg['metric'] == 'psi': return float(np.sum((a - e) * np.log(a / e)))
            if cfg['metric'] == 'kl': return float(np.sum(scipy.special.rel_entr(a, e)))
            m = (a + e) / 2
            return float(np.sqrt(0.5 * np.sum(scipy.special.rel_entr(a, m)) + 0.5 * np.sum(scipy.special.rel_entr(e, m))))
        w = np.array([cfg['importance'][f] for f in names], dtype=float); w = w / w.sum()
        groups = {}
        reports, events, alerts = [], [], []
        for line in lines:
            g = groups.setdefault(line['model'], {'scored': 0, 'bins': {f: [] for f in names}, 'firing': False})
            g['scored'] += 1
            for f in names: g['bins'][f].append(bin_of(f, line[f]))
            ev = {'i': line['i'], 'scores': None, 'over': []}
            if g['scored'] >= cfg['window']:
                scores, current = {}, {}
                for f in names:
                    e = expected(f)
                    a = np.bincount(np.array(g['bins'][f][-cfg['window']:]), minlength=len(e)) / cfg['window']
                    scores[f] = score(a, e); current[f] = a.tolist()
                weighted = float(np.dot(w, [scores[f] for f in names]))
                ev['scores'] = scores
                ev['over'] = [f for f in names if scores[f] > cfg['threshold']]
                now = weighted > cfg['weighted_threshold']
                if now != g['firing']:
                    g['firing'] = now
                    alerts.append({'i': line['i'], 'state': 'firing' if now else 'resolved', 'value': weighted})
                if g['scored'] % cfg['report_every'] == 0:
                    mx = max(names, key=lambda f: (scores[f], -names.index(f)))
                    reports.append({'i': line['i'], 'group': line['model'], 'scored': g['scored'], 'features': scores,
                        'weighted': weighted, 'max': scores[mx], 'max_feature': mx,
                        'detected': bool(ev['over']) or weighted > cfg['weighted_threshold'],
                        'current': {f: current[f] for f in cfg['distributions']}})
            events.append(ev)
        print(json.dumps({'reports': reports, 'events': events, 'alerts': alerts}))
        """

    struct Case: Sendable, CustomStringConvertible {
        let metric: String
        let threshold: Double
        let annotate: String
        var description: String { "\(metric) \(annotate)" }
    }

    @Test(arguments: [
        Case(metric: "psi", threshold: 0.2, annotate: "drifting"), Case(metric: "kl", threshold: 0.1, annotate: "scores"),
        Case(metric: "js", threshold: 0.1, annotate: "none"),
    ])
    func reportsEqualNumpyAtTheirEvent(_ c: Case) throws {
        let dir = try Driftwood.temporaryDirectory()
        let input = Self.lines(2_400)
        try Driftwood.write(ModelMonitoringTests.referenceLines(3_000).joined(separator: "\n") + "\n", to: "ref.jsonl", in: dir)
        let made = try Driftwood.run(
            ["baseline", "--input", "ref.jsonl", "--features", "x,c", "--bins", "8", "--output", "baseline.json"], directory: dir)
        #expect(made.code == 0, "\(made.stderr)")
        let window = 120
        let every = 60
        try Driftwood.write(
            """
            inputs:
              - type: stdin
            filters:
              - {type: parse, format: json, remove_source: true}
              - type: drift
                baseline: baseline.json
                features: [x, c]
                metric: \(c.metric)
                window: \(window)
                report_every: \(every)
                group_by: model
                annotate: \(c.annotate)
                importance: {x: 3, c: 1}
                weighted_threshold: \(c.threshold)
                distributions: [x, c]
            outputs:
              - {type: jsonl, path: out/all.jsonl}
            """, to: "p.yml", in: dir)
        try Driftwood.write(input.joined(separator: "\n") + "\n", to: "input.jsonl", in: dir)
        let run = try Driftwood.run(["run", "p.yml"], stdin: Data((input.joined(separator: "\n") + "\n").utf8), directory: dir)
        #expect(run.code == 0, "\(run.stderr)")

        let cfg: [String: Any] = [
            "metric": c.metric, "window": window, "report_every": every, "threshold": c.threshold,
            "weighted_threshold": c.threshold, "features": ["x", "c"], "importance": ["x": 3, "c": 1],
            "distributions": ["x", "c"],
        ]
        try JSONSerialization.data(withJSONObject: cfg).write(to: dir.appendingPathComponent("cfg.json"))
        let answer = try JSONSerialization.jsonObject(with: Data(try NumPy.run(Self.reference, in: dir).utf8)) as! [String: Any]
        let expectedReports = answer["reports"] as! [[String: Any]]
        let expectedEvents = answer["events"] as! [[String: Any]]
        let expectedAlerts = answer["alerts"] as! [[String: Any]]
        let baseline = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("baseline.json"))) as! [String: Any]
        let baseFeatures = baseline["features"] as! [String: [String: Any]]

        let all = try Driftwood.jsonLines(dir.appendingPathComponent("out/all.jsonl").path)
        func kind(_ e: [String: Any]) -> String? { (e["event"] as? [String: Any])?["kind"] as? String }
        // Reports: as many as numpy's, each right after its trigger, carrying exactly these members.
        var reports: [([String: Any], Int)] = []
        var lastEvent = -1
        for e in all {
            if kind(e) == "metric" { reports.append((e, lastEvent)) } else if kind(e) == nil { lastEvent = e["i"] as! Int }
        }
        #expect(expectedReports.count > 30)
        #expect(reports.count == expectedReports.count)
        for ((report, trigger), want) in zip(reports, expectedReports) {
            #expect(trigger == want["i"] as! Int)
            #expect(Set(report.keys) == ["@timestamp", "event", "message", "drift", "host"])
            #expect(report["event"] as! [String: String] == ["kind": "metric", "dataset": "driftwood.drift"])
            let d = report["drift"] as! [String: Any]
            #expect(
                Set(d.keys) == [
                    "metric", "window", "group", "scored", "max", "max_feature", "weighted", "detected", "features",
                    "distributions",
                ])
            #expect(d["metric"] as? String == c.metric && d["window"] as? Int == window)
            #expect(d["group"] as? String == want["group"] as? String)
            #expect(d["scored"] as? Int == want["scored"] as? Int)
            let scores = d["features"] as! [String: Double]
            let wantScores = want["features"] as! [String: Double]
            for f in ["x", "c"] { #expect(abs(scores[f]! - wantScores[f]!) < 1e-9, "\(f) at \(trigger)") }
            #expect(abs((d["weighted"] as! Double) - (want["weighted"] as! Double)) < 1e-9)
            #expect(abs((d["max"] as! Double) - (want["max"] as! Double)) < 1e-9)
            #expect(d["max_feature"] as? String == want["max_feature"] as? String)
            #expect(d["detected"] as? Bool == want["detected"] as? Bool)
            #expect((report["message"] as! String).hasPrefix("\(c.metric) drift of \(want["group"]!): max "))
            // Distributions: numpy's histogram of the window on the baseline's bins.
            let dist = d["distributions"] as! [String: [String: Any]]
            let wantCurrent = want["current"] as! [String: [Double]]
            let x = dist["x"]!
            #expect(x["edges"] as? [Double] == baseFeatures["x"]!["edges"] as? [Double])
            #expect(x["baseline"] as? [Double] == baseFeatures["x"]!["probabilities"] as? [Double])
            let cat = dist["c"]!
            let probabilities = baseFeatures["c"]!["probabilities"] as! [String: Double]
            let categories = cat["categories"] as! [String]
            #expect(categories.last == "__other__" && Set(categories) == Set(probabilities.keys))
            #expect((cat["baseline"] as! [Double]) == categories.map { probabilities[$0]! })
            for (f, h) in [("x", x), ("c", cat)] {
                let current = h["current"] as! [Double]
                #expect(current.count == wantCurrent[f]!.count)
                for (a, b) in zip(current, wantCurrent[f]!) { #expect(abs(a - b) < 1e-12) }
            }
        }
        // Unseen categories land in __other__ while b drifts.
        #expect(reports.contains { r in
            let d = r.0["drift"] as! [String: Any]
            return ((d["distributions"] as! [String: [String: Any]])["c"]!["current"] as! [Double]).last! > 0.5
        })
        // The weighted score's alerts, with alert.feature _weighted, where numpy crosses the threshold.
        let weightedAlerts = all.filter { kind($0) == "alert" && (($0["alert"] as! [String: Any])["feature"] as? String) == "_weighted" }
        #expect(weightedAlerts.count == expectedAlerts.count && !expectedAlerts.isEmpty)
        for (a, want) in zip(weightedAlerts, expectedAlerts) {
            let alert = a["alert"] as! [String: Any]
            #expect(alert["state"] as? String == want["state"] as? String)
            #expect(abs((alert["value"] as! Double) - (want["value"] as! Double)) < 1e-9)
        }
        // Events, by annotate mode.
        let events = all.filter { kind($0) == nil }
        #expect(events.count == input.count)
        var drifting = 0
        for (e, want) in zip(events, expectedEvents) {
            let tags = e["tags"] as? [String] ?? []
            let over = want["over"] as! [String]
            switch c.annotate {
            case "drifting":
                if over.isEmpty {
                    #expect(e["drift"] == nil && !tags.contains("drift"))
                } else {
                    drifting += 1
                    #expect(e["drift"] as? [String: [String]] == ["features": over])
                    #expect(tags.contains("drift"))
                }
            case "scores":
                if let wantScores = want["scores"] as? [String: Double] {
                    let d = e["drift"] as! [String: Any]
                    let scores = d["features"] as! [String: Double]
                    for f in ["x", "c"] { #expect(abs(scores[f]! - wantScores[f]!) < 1e-9) }
                    #expect(d["detected"] as? Bool == !over.isEmpty)
                    if !over.isEmpty { drifting += 1 }
                } else {
                    #expect(e["drift"] == nil)
                }
            default:
                #expect(e["drift"] == nil && !tags.contains("drift"))
                if !over.isEmpty { drifting += 1 }
            }
        }
        #expect(drifting > 100)
    }

    @Test func reportsComeAtWindowThenEveryReportEvery() throws {
        let dir = try Driftwood.temporaryDirectory()
        try Driftwood.write(ModelMonitoringTests.referenceLines(1_000).joined(separator: "\n") + "\n", to: "ref.jsonl", in: dir)
        #expect(try Driftwood.run(["baseline", "--input", "ref.jsonl", "--features", "x", "--output", "b.json"], directory: dir).code == 0)
        try Driftwood.write(
            """
            inputs: [{type: stdin}]
            filters:
              - {type: parse, format: json, remove_source: true}
              - {type: drift, baseline: b.json, window: 500, report_every: 250}
              - {type: drift, id: quiet, baseline: b.json, window: 100, report_every: 0}
            outputs: [{type: jsonl, path: out.jsonl}]
            """, to: "p.yml", in: dir)
        let input = (0..<1_600).map { #"{"x":\#(Double($0 % 100)),"i":\#($0)}"# }.joined(separator: "\n") + "\n"
        let run = try Driftwood.run(["run", "p.yml"], stdin: Data(input.utf8), directory: dir)
        #expect(run.code == 0, "\(run.stderr)")
        let all = try Driftwood.jsonLines(dir.appendingPathComponent("out.jsonl").path)
        let reports = all.filter { ($0["event"] as? [String: Any])?["kind"] as? String == "metric" }
        #expect(reports.map { ($0["drift"] as! [String: Any])["scored"] as! Int } == [500, 750, 1_000, 1_250, 1_500])
        #expect(reports.allSatisfy { ($0["drift"] as! [String: Any])["group"] == nil })
        #expect(reports.allSatisfy { ($0["drift"] as! [String: Any])["distributions"] == nil })
    }

    @Test func badImportanceDistributionsAndWindowsAreConfigErrors() throws {
        let dir = try Driftwood.temporaryDirectory()
        try Driftwood.write(ModelMonitoringTests.referenceLines(500).joined(separator: "\n") + "\n", to: "ref.jsonl", in: dir)
        #expect(try Driftwood.run(["baseline", "--input", "ref.jsonl", "--features", "x,c", "--output", "b.json"], directory: dir).code == 0)
        try Driftwood.write(
            """
            inputs: [{type: stdin}]
            filters:
              - type: drift
                baseline: b.json
                importance: {x: -2, y: 1}
                distributions: [x, prediction]
              - type: drift
                baseline: b.json
                importance: {x: 0, c: 0}
              - type: drift
                baseline: b.json
                window: 1000000000
              - type: monitor
                window: 1000000000
            outputs: [{type: stdout}]
            """, to: "p.yml", in: dir)
        let check = try Driftwood.run(["check", "p.yml"], directory: dir)
        #expect(check.code == 2)
        let e = check.stderr
        #expect(e.contains("p.yml:5:21: filters[0].importance.x (drift): weight -2.0 must be a number at least 0"), "\(e)")
        #expect(e.contains("p.yml:5:28: filters[0].importance.y (drift): 'y' is not a watched feature"), "\(e)")
        #expect(e.contains("p.yml:6:20: filters[0].distributions (drift): 'prediction' is not a watched feature"), "\(e)")
        #expect(e.contains("p.yml:9:17: filters[1].importance (drift): weights c: 0.0, x: 0.0 must not all be 0"), "\(e)")
        #expect(
            e.contains(
                "p.yml:12:13: filters[2].window (drift): window 1000000000 × max_groups 1 × 2 features would hold more than 100000000 values"),
            "\(e)")
        #expect(e.contains("p.yml:14:13: filters[3].window (monitor): window 1000000000 × max_groups 1 × 2 windows"), "\(e)")
    }

    @Test func baselineImportanceIsStoredAndUsedAndOldBaselinesLoad() throws {
        let dir = try Driftwood.temporaryDirectory()
        try Driftwood.write(ModelMonitoringTests.referenceLines(1_000).joined(separator: "\n") + "\n", to: "ref.jsonl", in: dir)
        try Driftwood.write(#"{"x": 0.75, "c": 0.25}"#, to: "shap.json", in: dir)
        let made = try Driftwood.run(
            ["baseline", "--input", "ref.jsonl", "--features", "x,c", "--importance", "shap.json", "--output", "b.json"],
            directory: dir)
        #expect(made.code == 0, "\(made.stderr)")
        let baseline = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("b.json"))) as! [String: Any]
        #expect(baseline["importance"] as? [String: Double] == ["x": 0.75, "c": 0.25])
        // A baseline of the first round (no importance) loads; weights are then equal.
        var old = baseline
        old.removeValue(forKey: "importance")
        try JSONSerialization.data(withJSONObject: old).write(to: dir.appendingPathComponent("old.json"))
        let bad = try Driftwood.run(["baseline", "--input", "ref.jsonl", "--importance", "nope.json"], directory: dir)
        #expect(bad.code == 1 && bad.stderr.contains("nope.json"))
        try Driftwood.write(#"{"zzz": 1}"#, to: "bad.json", in: dir)
        let unknown = try Driftwood.run(["baseline", "--input", "ref.jsonl", "--features", "x", "--importance", "bad.json"], directory: dir)
        #expect(unknown.code == 1 && unknown.stderr.contains("'zzz' is not a profiled feature"))
        try Driftwood.write(
            """
            inputs: [{type: stdin}]
            filters:
              - {type: parse, format: json, remove_source: true}
              - {type: drift, id: stored, baseline: b.json, window: 100}
              - {type: drift, id: old, baseline: old.json, window: 100}
            outputs: [{type: jsonl, path: out.jsonl}]
            """, to: "p.yml", in: dir)
        let input = (0..<300).map { #"{"x":\#(Double(($0 * 7) % 100)),"c":"\#(["A", "B", "Z"][$0 % 3])"}"# }.joined(separator: "\n") + "\n"
        let run = try Driftwood.run(["run", "p.yml"], stdin: Data(input.utf8), directory: dir)
        #expect(run.code == 0, "\(run.stderr)")
        let reports = try Driftwood.jsonLines(dir.appendingPathComponent("out.jsonl").path)
            .filter { ($0["event"] as? [String: Any])?["kind"] as? String == "metric" }
            .map { $0["drift"] as! [String: Any] }
        #expect(reports.count == 6)
        // At each trigger the later filter's report comes first (the earlier one's passes it after).
        for pair in stride(from: 0, to: reports.count, by: 2) {
            let (old, stored) = (reports[pair], reports[pair + 1])
            #expect(old["scored"] as? Int == stored["scored"] as? Int)
            let s = stored["features"] as! [String: Double]
            #expect(abs((stored["weighted"] as! Double) - (0.75 * s["x"]! + 0.25 * s["c"]!)) < 1e-9)
            let o = old["features"] as! [String: Double]
            #expect(abs((old["weighted"] as! Double) - (o["x"]! + o["c"]!) / 2) < 1e-9)
            #expect(abs(s["x"]! - s["c"]!) > 0.01)  // the weights make a difference
        }
    }
}
