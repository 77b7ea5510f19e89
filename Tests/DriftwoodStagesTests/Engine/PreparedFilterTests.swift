import DriftwoodCore
import Foundation
import Logging
import MetricsTestKit
import TestSupport
import Testing

@testable import DriftwoodStages

/// Stateful filters that read their part of each event ahead of their turn (on the worker that
/// holds the batch) give exactly what they give reading it in their turn.
@Suite struct PreparedFilterTests {
    typealias Collecting = TurnstileTests.CollectingOutput

    /// Hands over prebuilt events in batches.
    final class LinesInput: Input, @unchecked Sendable {
        let lines: [String]
        let size: Int
        init(_ lines: [String], size: Int) {
            self.lines = lines
            self.size = size
        }
        func run(emit: (inout EventBatch) -> Void) throws {
            let events = FilterHarness.events(lines)
            var start = 0
            while start < events.count {
                var batch = EventBatch(events: Array(events[start..<min(start + size, events.count)]))
                batch.acknowledgement = Acknowledgement(count: 1) {}
                emit(&batch)
                start += size
            }
        }
        func stop() {}
    }

    /// Passes events on unchanged, on any worker.
    final class PassFilter: Filter {
        var isStateless: Bool { true }
        func apply(_ event: consuming Event, into out: inout [Event]) { out.append(event) }
    }

    /// Runs `lines` through the filters of `stages()` twice, in batches of 250: in turn (one chain,
    /// every filter reads the event itself) and ahead (a pipeline of two workers, the stateful
    /// filters at `prepared` reading on the worker before their turn); expects the same events in
    /// the same order, and returns them.
    static func expectSameInTurnAndAhead(
        _ lines: [String], prepared: [Int], _ stages: () throws -> [Pipeline.FilterStage]
    ) throws -> [String] {
        let alone = FilterChain(try stages())
        #expect(alone.ahead.isEmpty)
        var expected: [String] = []
        for start in stride(from: 0, to: lines.count, by: 250) {
            var batch = FilterHarness.events(Array(lines[start..<min(start + 250, lines.count)]))
            alone.run(&batch)
            expected += batch.map(\.fields.json)
        }

        let output = Collecting()
        let pipeline = Pipeline(
            inputs: [("lines", LinesInput(lines, size: 250))], filters: try stages(),
            outputs: [Pipeline.OutputStage(id: "collect", output: output, when: nil)],
            logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }, extraFilterWorkers: [try stages()])
        #expect(pipeline.turnstile != nil)
        #expect(pipeline.filterChains.allSatisfy { $0.ahead.map(\.stage) == prepared })
        pipeline.start()
        #expect(pipeline.wait(timeout: 60))

        #expect(output.lines.count == expected.count)
        let first = zip(output.lines, expected).enumerated().first { $0.element.0 != $0.element.1 }
        #expect(first == nil, "first difference at \(first?.offset ?? -1):\n\(first?.element.0 ?? "")\n\(first?.element.1 ?? "")")
        return expected
    }

    /// Model logs with everything the two filters look at: three models (group_by), a drift
    /// episode in one of them, an error burst, missing, null and non-numeric values, an event
    /// that already has a `drift` member, escaped keys, alerts from upstream.
    static func lines() -> [String] {
        var r = SeededRandom(seed: 11)
        var lines: [String] = []
        for i in 0..<6_000 {
            let model = ["fraud", "churn", "credit"][i % 3]
            let shift = model == "fraud" && (2_000..<3_500).contains(i) ? 2.5 : 0
            let x: String
            switch i % 97 {
            case 5: x = "null"
            case 6: x = #""n/a""#
            case 7: x = "[1]"
            default: x = "\(r.normal() + shift)"
            }
            let c = ["A", "A", "B", "C", "D", "E", "F"][i % 7]
            let level = (3_000..<3_300).contains(i) && i % 4 == 0 ? "ERROR" : "INFO"
            // `@timestamp` set: an alert takes its trigger's (without one it would be the time now).
            var line = #"{"@timestamp":"2026-11-24T10:00:\#(String(format: "%02d", i % 60)).000Z","model":"\#(model)","x":\#(x),"c":"\#(c)","level":"\#(level)","latency_ms":\#(Double(i % 50) * 3)"#
            if i % 500 == 13 { line += #","drift":{"old":true}"# }
            if i % 700 == 21 { line += #","err\u006fr":"escaped key""# }
            if i % 900 == 2 { line += #","event":{"kind":"alert"}"# }
            lines.append(line + "}")
        }
        return lines
    }

    static func stages(baseline: String, monitor: String) throws -> [Pipeline.FilterStage] {
        let drift = DriftFilter(
            config: try FilterHarness.config(
                "  - {type: drift, baseline: \(baseline), features: [x, c], window: 200, group_by: model, annotate: scores}"),
            environment: FilterHarness.environment("drift_0"), factory: TestMetrics())
        let monitor = MonitorFilter(
            config: try FilterHarness.config(monitor), environment: FilterHarness.environment("monitor_0"),
            factory: TestMetrics())
        return [
            Pipeline.FilterStage(id: "pass", filter: PassFilter(), when: nil),
            Pipeline.FilterStage(id: "drift_0", filter: drift, when: nil),
            Pipeline.FilterStage(id: "monitor_0", filter: monitor, when: nil),
        ]
    }

    @Test(arguments: [
        "  - {type: monitor, window: 100, group_by: model, error_rate: {threshold: 0.1}, latency: {threshold: 70}}",
        "  - {type: monitor, window: 100, error_rate: {when: 'level == \"ERROR\"', threshold: 0.1}}",
    ])
    func preparedAheadGivesTheSameEventsAsInTurn(monitor: String) throws {
        let dir = try NumPy.directory()
        let baseline = try FilterHarness.baselineFile(DriftFilterTests.referenceLines(), features: ["x", "c"], in: dir)
        // drift always; monitor when what it reads is known not to be what drift writes.
        let expected = try Self.expectSameInTurnAndAhead(
            Self.lines(), prepared: monitor.contains("when:") ? [1] : [1, 2]
        ) { try Self.stages(baseline: baseline, monitor: monitor) }
        // Not vacuous: events were scored, alerts raised, the existing drift member replaced.
        #expect(expected.filter { $0.contains(#""drift":{"metric""#) }.count > 5_000)
        #expect(expected.contains { $0.contains("MODEL_DRIFT_DETECTED") })
        #expect(expected.contains { $0.contains("HIGH_ERROR_RATE") })
        #expect(expected.filter { $0.contains(#""old":true"#) }.count < 3)  // of 12: scored ones were replaced
    }

    /// Predictions and labels by `request_id`: most labels a few lines late, some never, some
    /// twice, some before their prediction; ids missing or null, scores that are not numbers,
    /// labels that are neither class, alerts from upstream, lines without a time.
    static func evaluateLines() -> [String] {
        var r = SeededRandom(seed: 23)
        var lines: [String] = []
        var waiting: [(id: Int, truth: Int)] = []
        for i in 0..<6_000 {
            let model = ["fraud", "churn"][i % 2]
            let time = i % 401 == 9 ? "" : #""@timestamp":"2026-11-24T10:\#(String(format: "%02d", i / 100 % 60)):\#(String(format: "%02d", i % 60)).000Z","#
            let channel = r.pick(["web", "api", "pos"])
            // One channel of fraud is mostly predicted positive past the middle: fairness moves.
            let p = model == "fraud" && i > 3_000 && channel == "pos" ? 0.7 + 0.3 * r.normal().magnitude / 4 : Double(r.below(1000)) / 1000
            let id = i % 307 == 3 ? "" : i % 311 == 4 ? #""request_id":null,"# : #""request_id":"r\#(i)","#
            let prediction = i % 211 == 7 ? #""high""# : "\(p)"
            lines.append(#"{\#(time)\#(id)"model":"\#(model)","features":{"channel":"\#(channel)"},"prediction":\#(prediction)}"#)
            // Churn's labels turn against its predictions in the last third: its F1 falls.
            let truth = r.chance(Int(p * 100)) ? 1 : 0
            waiting.append((i, model == "churn" && i > 4_000 ? 1 - truth : truth))
            if i % 900 == 5 { lines.append(#"{"event":{"kind":"alert"},"request_id":"r\#(i)","label":1}"#) }
            if i % 250 == 11 { lines.append(#"{"request_id":"early\#(i)","label":1}"#) }
            if i % 250 == 12 { lines.append(#"{"request_id":"early\#(i - 1)","prediction":0.9}"#) }
            while waiting.count > 4 + r.below(30) {
                let (j, truth) = waiting.removeFirst()
                if r.chance(10) { continue }  // never labelled
                let label = j % 173 == 1 ? #""maybe""# : "\(truth)"
                lines.append(#"{"@timestamp":"2026-11-24T10:\#(String(format: "%02d", i / 100 % 60)):\#(String(format: "%02d", i % 60)).500Z","request_id":"r\#(j)","label":\#(label)}"#)
                if j % 97 == 0 { lines.append(#"{"request_id":"r\#(j)","label":\#(truth)}"#) }
            }
        }
        return lines
    }

    @Test func evaluatePreparedAheadGivesTheSameEventsAsInTurn() throws {
        func stages() throws -> [Pipeline.FilterStage] {
            let config: EvaluateConfig = try FilterHarness.config(
                """
                  - type: evaluate
                    id: request_id
                    group_by: model
                    window: 200
                    report_every: 100
                    thresholds: {f1: 0.6}
                    pending: {max: 40, ttl: 30s}
                    fairness: {attribute: features.channel, min_group_size: 20, thresholds: {demographic_parity_difference: 0.2}}
                """)
            return [
                Pipeline.FilterStage(id: "pass", filter: PassFilter(), when: nil),
                Pipeline.FilterStage(
                    id: "evaluate_0", filter: EvaluateFilter(config: config, environment: FilterHarness.environment("evaluate_0")),
                    when: nil),
            ]
        }
        let expected = try Self.expectSameInTurnAndAhead(Self.evaluateLines(), prepared: [1], stages)
        // Not vacuous: pairs were completed and reported, alerts raised.
        #expect(expected.filter { $0.contains(#""evaluation":{"prediction""#) }.count > 3_000)
        #expect(expected.filter { $0.contains(#""kind":"metric""#) }.count > 20)
        #expect(expected.contains { $0.contains("MODEL_PERFORMANCE_DEGRADED") })
        #expect(expected.contains { $0.contains("FAIRNESS_VIOLATION") })
    }

    @Test func onlyFiltersWhoseReadsNoEarlierFilterWritesArePrepared() throws {
        let dir = try NumPy.directory()
        let baseline = try FilterHarness.baselineFile(DriftFilterTests.referenceLines(), features: ["x", "c"], in: dir)
        var stages = try Self.stages(baseline: baseline, monitor: "  - {type: monitor, window: 100}")
        #expect(FilterChain(stages, preparedFrom: 1).ahead.map(\.stage) == [1, 2])
        // A filter that may change anything comes first in the turn: nothing after it is read ahead.
        stages.insert(Pipeline.FilterStage(id: "recorder", filter: TurnstileTests.RecordingFilter(), when: nil), at: 1)
        #expect(FilterChain(stages, preparedFrom: 1).ahead.isEmpty)
        // A monitor that reads `drift` (its latency field) after drift, which writes it.
        let reader = try Self.stages(baseline: baseline, monitor: "  - {type: monitor, window: 100, latency: {field: drift.score}}")
        #expect(FilterChain(reader, preparedFrom: 1).ahead.map(\.stage) == [1])
        // Without a split (one worker, `driftwood test`), every filter reads in its turn.
        #expect(FilterChain(reader).ahead.isEmpty)
    }
}
