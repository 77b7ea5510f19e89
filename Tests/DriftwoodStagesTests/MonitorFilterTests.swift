import TestSupport
import DriftwoodCore
import Foundation
import MetricsTestKit
import Testing

@testable import DriftwoodStages

/// The `monitor` filter: error rate and latency over sliding windows, with alerts.
@Suite struct MonitorFilterTests {
    static func filter(_ yaml: String, factory: TestMetrics = TestMetrics()) throws -> MonitorFilter {
        MonitorFilter(config: try FilterHarness.config(yaml), environment: FilterHarness.environment("monitor_0"), factory: factory)
    }

    @Test func errorRateAlertFiresOnceAndResolves() throws {
        let metrics = TestMetrics()
        let filter = try Self.filter("  - {type: monitor, window: 50}", factory: metrics)
        // 1 error in 50 normally (2%), a burst of 1 in 3, then normal again.
        var isError: [Bool] = []
        var lines: [String] = []
        for i in 0..<600 {
            let error = (200..<260).contains(i) ? i % 3 == 0 : i % 50 == 7
            isError.append(error)
            if error && i % 2 == 0 {
                lines.append(#"{"level":"ERROR","latency_ms":5,"i":\#(i)}"#)
            } else if error {
                lines.append(#"{"level":"INFO","error":"timeout","latency_ms":5,"i":\#(i)}"#)  // exists(error)
            } else {
                lines.append(#"{"level":"INFO","latency_ms":5,"i":\#(i)}"#)
            }
        }
        // The rate of every full window, and where it first crosses 0.05 and comes back.
        var rates: [Double?] = []
        for i in isError.indices {
            rates.append(i < 49 ? nil : Double(isError[(i - 49)...i].filter { $0 }.count) / 50)
        }
        let fireAt = rates.firstIndex { ($0 ?? 0) > 0.05 }!
        let resolveAt = rates[fireAt...].firstIndex { $0! <= 0.05 }!
        let out = FilterHarness.run(filter, lines)
        let objects = out.map(FilterHarness.object)
        let alerts = objects.indices.filter { FilterHarness.isAlert(objects[$0]) }
        #expect(alerts.count == 2)
        guard alerts.count == 2 else { return }
        #expect(objects[alerts[0] - 1]["i"] as? Int == fireAt)
        #expect(objects[alerts[1] - 1]["i"] as? Int == resolveAt)
        let fired = FilterHarness.alert(objects[alerts[0]])
        #expect(fired["type"] as? String == "HIGH_ERROR_RATE" && fired["state"] as? String == "firing")
        #expect(fired["metric"] as? String == "error_rate" && fired["feature"] == nil && fired["group"] == nil)
        #expect(fired["value"] as? Double == rates[fireAt]! && fired["threshold"] as? Double == 0.05)
        #expect(FilterHarness.alert(objects[alerts[1]])["state"] as? String == "resolved")
        #expect(Set(objects[alerts[0]].keys) == ["@timestamp", "event", "message", "alert", "host"])
        // The events themselves are untouched.
        #expect(out.filter { $0.origin.derived == 0 }.map(\.fields.json) == FilterHarness.events(lines).map(\.fields.json))
        #expect(metrics.counterTotal(label: "driftwood_alerts_total", dimensions: [("type", "HIGH_ERROR_RATE")]) == 1)
        let gauge = try metrics.expectGauge("driftwood_model_error_rate", [("group", "")])
        #expect(gauge.values.count <= 600 / 50 + 3 && gauge.values.count >= 10)
    }

    @Test(arguments: ["p95", "p99", "mean"])
    func latencyAlertValueIsTheWindowStatistic(statistic: String) throws {
        let filter = try Self.filter(
            "  - {type: monitor, window: 100, latency: {field: t.ms, statistic: \(statistic), threshold: 30}}")
        var r = SeededRandom(seed: 12)
        // Normal latencies are 5…20 ms, slow ones 100…200 ms: a slow value entering the window is
        // never below the one leaving, so the statistic crosses the threshold once each way.
        let normal = (0..<97).map { _ in (Double.random(in: 5...20, using: &r) * 10).rounded() / 10 }
        let slow = (0..<89).map { _ in Double.random(in: 100...200, using: &r).rounded() }
        var latencies: [Double] = []
        var lines: [String] = []
        for i in 0..<1_000 {
            let ms = (300..<450).contains(i) ? slow[i % slow.count] : normal[i % normal.count]
            latencies.append(ms)
            // Some events carry no latency (or a string): not counted in the latency window.
            if i % 9 == 4 {
                lines.append(#"{"level":"INFO","t":{"ms":"slow"}}"#)
                latencies.removeLast()
            } else {
                lines.append(#"{"level":"INFO","t":{"ms":\#(ms)},"n":\#(latencies.count)}"#)
            }
        }
        let objects = FilterHarness.run(filter, lines).map(FilterHarness.object)
        let alerts = objects.indices.filter { FilterHarness.isAlert(objects[$0]) }
        #expect(alerts.count == 2)
        guard let first = alerts.first else { return }
        let a = FilterHarness.alert(objects[first])
        #expect(a["type"] as? String == "HIGH_LATENCY" && a["metric"] as? String == "latency_\(statistic)")
        #expect(a["feature"] as? String == "t.ms" && a["window"] as? Int == 100)
        // numpy on the window of the trigger: the 100 latencies up to it.
        let n = objects[first - 1]["n"] as! Int
        let dir = try NumPy.directory()
        try NumPy.write(Array(latencies[(n - 100)..<n]), to: "w.txt", in: dir)
        let function = statistic == "mean" ? "np.mean(w)" : "np.quantile(w, \(statistic == "p95" ? 0.95 : 0.99))"
        let numpy = NumPy.doubles(try NumPy.run("w = np.loadtxt('w.txt')\nprint(repr(float(\(function))))", in: dir))
        let value = try #require(a["value"] as? Double)
        #expect(abs(value - numpy[0]) <= 1e-9)
        #expect(value > 30)
    }

    @Test func groupByWindowsAreSeparateAndAlertsAreNotCounted() throws {
        let filter = try Self.filter("  - {type: monitor, window: 40, report_every: 0, group_by: model, error_rate: {when: 'status >= 500', threshold: 0.2}}")
        var lines: [String] = []
        for i in 0..<400 {
            // Model b fails half the time; a never; events without a model are not counted.
            if i % 2 == 0 {
                lines.append(#"{"model":"a","status":200,"latency_ms":3}"#)
            } else if i % 10 == 1 {
                lines.append(#"{"status":503}"#)
            } else {
                lines.append(#"{"model":"b","status":\#(i % 4 == 1 ? 503 : 200),"latency_ms":3}"#)
            }
        }
        // An upstream alert (with a status that would count as an error) passes and is not counted.
        lines.insert(#"{"event":{"kind":"alert"},"model":"a","status":500}"#, at: 100)
        let objects = FilterHarness.run(filter, lines).map(FilterHarness.object)
        #expect(objects.count - objects.filter { FilterHarness.isAlert($0) && $0["model"] == nil }.count == lines.count)
        let alerts = objects.filter(FilterHarness.isAlert).map(FilterHarness.alert).filter { $0["type"] as? String == "HIGH_ERROR_RATE" }
        #expect(alerts.count == 1)
        #expect(alerts.first?["group"] as? String == "b")
        #expect((alerts.first?["value"] as? Double ?? 0) > 0.2)
    }

    @Test func configDefaultsAndErrors() throws {
        let config: MonitorConfig = try FilterHarness.config("  - {type: monitor}")
        #expect(config.window == 1000 && config.errorRate.threshold == 0.05 && config.latency.threshold == 1000)
        #expect(config.latency.field.text == "latency_ms" && config.latency.statistic == .mean)
        #expect(config.errorRate.when.source == #"level == "ERROR" or exists(error)"#)
        let errors = FilterHarness.errors(
            "  - {type: monitor, window: -1, error_rate: {when: 'level ==', threshold: 2}, latency: {statistic: p90, feild: x}}")
        #expect(errors.contains { $0.contains("filters[0].window (monitor): must be at least 1") })
        #expect(errors.contains { $0.contains("filters[0].error_rate.when (monitor): bad condition at column") })
        #expect(errors.contains { $0.contains("filters[0].error_rate.threshold (monitor): must be between 0 and 1") })
        #expect(errors.contains { $0.contains("filters[0].latency.statistic (monitor): expected one of mean, p95, p99") })
        #expect(errors.contains { $0.contains("filters[0].latency (monitor): unknown key 'feild' (did you mean 'field'?)") })
    }

    /// A rate hovering at the threshold fires once, not on every wobble, with resolve_below.
    @Test func resolveBelowKeepsAWobblingRateFromFlapping() throws {
        // Window 10 over bursts of three errors every 11 events: the window holds two or three
        // of them, so the rate wobbles between 0.2 and 0.3 around 0.25, then falls to 0.
        var pattern: [Bool] = []
        for _ in 0..<5 { pattern += [false, false, false, false, false, false, false, false, true, true, true] }
        let flags = [Bool](repeating: false, count: 10) + pattern + [Bool](repeating: false, count: 20)
        let lines = flags.map { $0 ? #"{"level":"ERROR"}"# : #"{"level":"INFO"}"# }
        var rates: [Double] = []
        for i in flags.indices where i >= 9 { rates.append(Double(flags[(i - 9)...i].filter { $0 }.count) / 10) }
        // Without hysteresis the rate crosses 0.2 several times each way.
        let crossings = zip([0] + rates, rates).filter { ($0 > 0.25) != ($1 > 0.25) }.count
        #expect(crossings >= 4)
        func alerts(_ yaml: String) throws -> [String] {
            let filter = try Self.filter(yaml)
            return FilterHarness.run(filter, lines).map(FilterHarness.object).filter(FilterHarness.isAlert).map {
                FilterHarness.alert($0)["state"] as! String
            }
        }
        let plain = try alerts("  - {type: monitor, window: 10, error_rate: {threshold: 0.25}}")
        #expect(plain.count == crossings)
        let steady = try alerts("  - {type: monitor, window: 10, error_rate: {threshold: 0.25, resolve_below: 0.05}}")
        #expect(steady == ["firing", "resolved"])
        let errors = FilterHarness.errors("  - {type: monitor, error_rate: {threshold: 0.1, resolve_below: 0.2}}")
        #expect(errors.contains { $0.contains("filters[0].error_rate.resolve_below (monitor): must not be above threshold (0.1)") })
    }

    /// The default error condition is answered from the filter's own pass over the event; it
    /// must agree with the condition evaluator on every shape of `level` and `error`.
    @Test func defaultErrorConditionFastPathAgreesWithTheEvaluator() throws {
        let levels = [
            #""level":"ERROR""#, #""level":"error""#, #""level":"\u0045RROR""#, #""level":"ERROR ""#, #""level":5"#,
            #""level":null"#, #""level":{"name":"ERROR"}"#, #""level":["ERROR"]"#, #""level_":"ERROR""#, "",
        ]
        let errors = [#""error":"timeout""#, #""error":null"#, #""error":{}"#, #""error":false"#, #""errors":1"#, "", "", ""]
        var lines: [String] = []
        var rng = SeededRandom(seed: 7)
        for i in 0..<2000 {
            // One `level` shape and one `error` shape (a key given twice is another question).
            let a = levels[rng.below(levels.count)]
            let b = errors[rng.below(errors.count)]
            let members = [a, b, #""i":\#(i)"#].filter { !$0.isEmpty }
            lines.append("{" + members.joined(separator: ",") + "}")
        }
        func errorAlerts(_ when: String?) throws -> [String] {
            let rate = when.map { "error_rate: {when: '\($0)', threshold: 0.3}" } ?? "error_rate: {threshold: 0.3}"
            let filter = try Self.filter("  - {type: monitor, window: 20, \(rate)}")
            return FilterHarness.run(filter, lines).map(FilterHarness.object).filter(FilterHarness.isAlert).map {
                let a = FilterHarness.alert($0)
                return "\(a["state"]!) \(a["value"]!)"
            }
        }
        let fast = try errorAlerts(nil)
        let evaluated = try errorAlerts(#"exists(error) or level == "ERROR""#)
        #expect(!fast.isEmpty)
        #expect(fast == evaluated)
    }
}
