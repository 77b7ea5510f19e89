import Foundation
import Testing

/// The status page `/` and `/api/v1/status` through the real binary: the demo pipeline runs with
/// `--serve`, headless Chromium and headless Firefox draw the page, and what the page shows is
/// what the API says.
@Suite(.serialized) struct StatusPageTests {
    /// The demo replay has finished and `--serve` keeps the page up: every number the page shows
    /// (stages, models, alerts) equals `/api/v1/status`, the page asked nothing of any host but
    /// driftwood's, the console stayed clean, and the screenshot is kept; in both browsers.
    @Test(arguments: StatusFixtures.Browser.allCases)
    func pageShowsWhatTheStatusSays(in browser: StatusFixtures.Browser) throws {
        let dir = try Driftwood.temporaryDirectory()
        let pipeline = try StatusFixtures.demoPipeline(in: dir)
        let running = try Driftwood.Running(
            ["run", pipeline, "--serve", "--metrics-address", "127.0.0.1:0", "--data-dir", dir.appendingPathComponent("state").path],
            directory: dir)
        defer {
            kill(running.pid, SIGTERM)
            _ = running.wait(timeout: 30)
        }
        let base = try running.metricsBase()
        #expect(MetricsScrape.eventually(timeout: 60) { running.stderr.contains("still serving the status page") })
        // Rates settle at 0 once 10 s have passed without events: then nothing moves.
        var status: [String: Any] = [:]
        let settled = try MetricsScrape.eventually(timeout: 40) {
            status = try StatusFixtures.status(base)
            return StatusFixtures.stages(status).allSatisfy {
                StatusFixtures.number($0["rate_in"]) == 0 && StatusFixtures.number($0["rate_out"]) == 0
            }
        }
        #expect(settled, "rates never settled at 0 after the replay: \(StatusFixtures.stages(status))")
        let shot = try StatusFixtures.artifact(browser == .chromium ? "status-page.png" : "status-page-\(browser).png")
        let page = try StatusFixtures.probe(base + "/", screenshot: shot, browser: browser)
        print("status page screenshot: \(shot)")
        status = try StatusFixtures.status(base)
        let values = page["values"] as? [String: String] ?? [:]
        let texts = page["texts"] as? [String: String] ?? [:]

        #expect(values["status"] == status["status"] as? String)
        let stages = StatusFixtures.stages(status)
        #expect(stages.count >= 9)
        for stage in stages {
            let id = stage["id"] as! String
            for key in ["events_in", "events_out", "rate_in", "rate_out", "errors"] {
                #expect(
                    values["stage:\(id):\(key)"].flatMap(Double.init) == StatusFixtures.number(stage[key]),
                    "stage \(id) \(key): page \(values["stage:\(id):\(key)"] ?? "nil"), API \(stage[key] ?? "nil")")
            }
            if stage["kind"] as? String != "input" {
                #expect(values["stage:\(id):queue_events"].flatMap(Double.init) == StatusFixtures.number(stage["queue_events"]))
            }
            // Shown as a count with thousands separators.
            let events = Int(StatusFixtures.number(stage["events_out"]) ?? -1)
            #expect(texts["stage:\(id):events_out"] == events.formatted(.number.grouping(.automatic).locale(Locale(identifier: "en_US"))))
        }
        let models = StatusFixtures.models(status)
        #expect(Set(models.keys) == ["churn-predictor", "credit-scorer", "fraud-detector", "spam-filter"])
        for (group, model) in models {
            #expect((StatusFixtures.number(model["events"]) ?? 0) > 500)
            #expect(values["model:\(group):events"].flatMap(Double.init) == StatusFixtures.number(model["events"]))
            #expect(values["model:\(group):error_rate"].flatMap(Double.init) == StatusFixtures.number(model["error_rate"]))
            #expect(values["model:\(group):latency"].flatMap(Double.init) == StatusFixtures.number(model["latency"]))
            let drift = model["drift"] as? [String: Any]
            #expect(drift != nil, "\(group) has no drift")
            #expect(values["model:\(group):drift_max"].flatMap(Double.init) == StatusFixtures.number(drift?["max"]))
        }
        try Self.expectCharts(page, status: status)
        // Alerts: every one shown, with its state; those firing now first.
        let alerts = status["alerts"] as? [[String: Any]] ?? []
        #expect(!alerts.isEmpty)
        for (i, alert) in alerts.enumerated() {
            #expect(values["alert:\(i):state"] == alert["state"] as? String)
        }
        let firing = alerts.filter { $0["firing_now"] as? Bool == true }.count
        #expect(values["alerts:firing"] == String(firing))
        let order = (page["order"] as? [String] ?? []).filter { $0.hasPrefix("alert:") }
        let shownFiring = order.map { key in alerts[Int(key.split(separator: ":")[1])!]["firing_now"] as? Bool == true }
        #expect(shownFiring == shownFiring.sorted { $0 && !$1 }, "firing alerts are not shown first: \(shownFiring)")

        let requests = page["requests"] as? [String] ?? []
        #expect(requests.contains(base + "/api/v1/status"))
        #expect(requests.allSatisfy { $0.hasPrefix(base + "/") }, "the page asked elsewhere: \(requests)")
        #expect((page["console_errors"] as? [String] ?? ["?"]).isEmpty, "console: \(page["console_errors"] ?? "")")
        let size = (try? FileManager.default.attributesOfItem(atPath: shot)[.size] as? Int) ?? 0
        #expect(size > 20_000, "screenshot \(shot) is \(size) bytes")
    }

    /// Every chart of every model drew the run's history (as many points as the history the
    /// page read holds values), the prediction's histogram is the newest report's, bin by bin,
    /// and the evaluate filter's performance and fairness charts carry their values and threshold
    /// lines.
    static func expectCharts(_ page: [String: Any], status: [String: Any]) throws {
        let values = page["values"] as? [String: String] ?? [:]
        let texts = page["texts"] as? [String: String] ?? [:]
        // The page drew from an earlier answer: its history is a prefix of this one's (the ring
        // is far from its hour, so no step has fallen out).
        let steps = try #require(values["history:steps"].flatMap(Int.init))
        #expect(steps >= 1)
        let history = status["history"] as? [String: Any] ?? [:]
        let historyModels = history["models"] as? [String: [String: Any]] ?? [:]
        func drawn(_ series: Any?) -> Int { (series as? [Any] ?? []).prefix(steps).filter { $0 is NSNumber }.count }
        func points(_ key: String) -> Int? { values[key].flatMap(Int.init) }
        #expect(points("chart:pipeline:rate") == drawn(history["rate_in"]))
        let models = StatusFixtures.models(status)
        for (group, model) in models {
            let h = historyModels[group] ?? [:]
            for series in ["error_rate", "latency", "drift_max"] {
                let n = points("chart:\(group):\(series)")
                #expect(n == drawn(h[series]), "\(group) \(series): \(n ?? -1) points drawn, \(drawn(h[series])) in the history")
                #expect((n ?? 0) >= 1, "\(group) \(series) drew nothing")
            }
            let features = (model["drift"] as? [String: Any])?["features"] as? [String: Any] ?? [:]
            #expect(points("chart:\(group):drift_features") == min(5, features.keys.filter { !$0.hasPrefix("_") }.count))
            // The demo lists `distributions: [prediction]`: each bin of the newest report, drawn.
            let prediction = try #require(
                (model["distributions"] as? [String: [String: Any]])?["prediction"], "\(group) has no prediction histogram")
            let current = prediction["current"] as? [Double] ?? []
            #expect(current.count == (prediction["baseline"] as? [Double] ?? []).count && current.count >= 2)
            #expect(abs(current.reduce(0, +) - 1) < 1e-9)
            #expect(points("chart:\(group):distribution:prediction") == current.count)
            for (i, share) in current.enumerated() {
                #expect(values["chart:\(group):distribution:prediction:\(i)"].flatMap(Double.init) == share, "\(group) bin \(i)")
            }
        }
        // evaluate runs for fraud-detector only: five performance metrics, four fairness ones,
        // each over the run's history, f1 and demographic parity against their thresholds.
        let fraud = try #require(models["fraud-detector"])
        let evaluation = try #require(fraud["evaluation"] as? [String: Any])
        let metrics = evaluation["metrics"] as? [String: Double] ?? [:]
        #expect(Set(metrics.keys) == ["accuracy", "precision", "recall", "f1", "auc"])
        let h = historyModels["fraud-detector"] ?? [:]
        for (metric, value) in metrics {
            #expect(values["model:fraud-detector:performance:\(metric)"].flatMap(Double.init) == value)
            let n = points("chart:fraud-detector:performance:\(metric)")
            #expect(n == drawn((h["performance"] as? [String: Any])?[metric]) && (n ?? 0) >= 1, "\(metric): \(n ?? -1) points")
        }
        let fairness = try #require((evaluation["fairness"] as? [String: [String: Double]])?["features.channel"])
        #expect(fairness.count == 4)
        let fairnessHistory = ((h["fairness"] as? [String: Any])?["features.channel"] as? [String: Any]) ?? [:]
        for (metric, value) in fairness {
            #expect(values["model:fraud-detector:fairness:features.channel:\(metric)"].flatMap(Double.init) == value)
            let n = points("chart:fraud-detector:fairness:features.channel:\(metric)")
            #expect(n == drawn(fairnessHistory[metric]) && (n ?? 0) >= 1, "\(metric): \(n ?? -1) points")
        }
        let thresholds = fraud["thresholds"] as? [String: Double] ?? [:]
        #expect(thresholds["f1"] == 0.6 && thresholds["demographic_parity_difference"] == 0.4, "\(thresholds)")
        #expect(texts["chart:fraud-detector:performance:f1"]?.contains("limit 0.600") == true)
        #expect(texts["chart:fraud-detector:fairness:features.channel:demographic_parity_difference"]?.contains("limit 0.400") == true)
        #expect(texts["chart:fraud-detector:performance:accuracy"]?.contains("limit") == false)
    }

    /// The page with 20 models and a full hour of history (360 steps): the page's own bytes from
    /// driftwood's `/`, and a status of that size served beside it (an hour of history cannot be
    /// waited for in a test). Every card draws the whole hour, without a console error. How fast
    /// the first screen is painted is measured by `bench/status_draw.py`, not here.
    @Test func drawsTwentyModelsAndAnHour() throws {
        let dir = try Driftwood.temporaryDirectory()
        let pipeline = try StatusFixtures.demoPipeline(in: dir)
        let running = try Driftwood.Running(
            ["run", pipeline, "--serve", "--metrics-address", "127.0.0.1:0", "--data-dir", dir.appendingPathComponent("state").path],
            directory: dir)
        defer {
            kill(running.pid, SIGTERM)
            _ = running.wait(timeout: 30)
        }
        let base = try running.metricsBase()
        #expect(MetricsScrape.eventually(timeout: 60) { running.stderr.contains("still serving the status page") })
        let site = dir.appendingPathComponent("site")
        try FileManager.default.createDirectory(at: site.appendingPathComponent("api/v1"), withIntermediateDirectories: true)
        try HTTP.request("GET", base + "/").body.write(to: site.appendingPathComponent("index.html"))
        var status = try StatusFixtures.status(base)
        status = Self.scaled(status, models: 20, steps: 360)
        let body = try JSONSerialization.data(withJSONObject: status)
        try body.write(to: site.appendingPathComponent("api/v1/status"))
        #expect(body.count > 500_000)
        let server = try LocalServer(
            name: "static", executable: "/usr/bin/env",
            arguments: [
                "python3", "-c",
                "import http.server,json,sys,functools;h=functools.partial(http.server.SimpleHTTPRequestHandler,directory=sys.argv[1]);s=http.server.ThreadingHTTPServer(('127.0.0.1',0),h);print(json.dumps({'url':'http://127.0.0.1:%d'%s.server_address[1]}),flush=True);s.serve_forever()",
                site.path,
            ], keepStdinOpen: false)
        defer { server.stop() }
        for run in 0..<2 {
            let page = try StatusFixtures.probe(server.url + "/", screenshot: try StatusFixtures.artifact("status-page-20-models-\(run).png"))
            #expect(StatusFixtures.number(page["first_draw_ms"]).map { $0 > 0 } == true, "\(page["first_draw_ms"] ?? "nil")")
            let values = page["values"] as? [String: String] ?? [:]
            #expect(values.keys.filter { $0.hasSuffix(":events") && $0.hasPrefix("model:") }.count == 20)
            // Every card drew the whole hour, the last one too.
            for key in ["chart:model-00:error_rate", "chart:model-19:drift_max", "chart:model-19:performance:f1",
                        "chart:model-19:fairness:features.channel:disparate_impact"] {
                #expect(values[key] == "360", "\(key): \(values[key] ?? "nil") values drawn")
            }
            #expect((page["console_errors"] as? [String] ?? ["?"]).isEmpty)
        }
    }

    /// The status of the demo grown to `models` models, each a copy of fraud-detector (the one
    /// with the most charts: drift, the prediction's histogram, evaluate's five performance and
    /// four fairness metrics), and `steps` history steps of every series it draws (its last
    /// values, with some noise).
    static func scaled(_ status: [String: Any], models: Int, steps: Int) -> [String: Any] {
        var status = status
        let source = StatusFixtures.models(status)["fraud-detector"]!
        let evaluation = source["evaluation"] as? [String: Any] ?? [:]
        let metrics = (evaluation["metrics"] as? [String: Any] ?? [:]).keys
        let fairness = (evaluation["fairness"] as? [String: [String: Any]] ?? [:]).mapValues { Array($0.keys) }
        var grown: [String: Any] = [:]
        for k in 0..<models { grown[String(format: "model-%02d", k)] = source }
        status["models"] = grown
        let now = Date().timeIntervalSince1970
        // Whole seconds and six decimals, as driftwood writes them (an answer of the same size).
        let t = (0..<steps).map { (now - Double(steps - 1 - $0) * 10).rounded() }
        func series(_ base: Double) -> [Double] {
            (0..<steps).map { (base * (1 + 0.3 * sin(Double($0) / 7)) * 1e6).rounded() / 1e6 }
        }
        var historyModels: [String: Any] = [:]
        for name in grown.keys {
            historyModels[name] = [
                "rate": series(30), "error_rate": series(0.03), "latency": series(40), "drift_max": series(0.1),
                "performance": Dictionary(uniqueKeysWithValues: metrics.map { ($0, series(0.7)) }),
                "fairness": fairness.mapValues { names in Dictionary(uniqueKeysWithValues: names.map { ($0, series(0.2)) }) },
            ]
        }
        status["history"] = ["t": t, "rate_in": series(120), "rate_out": series(120), "models": historyModels]
        return status
    }
}
