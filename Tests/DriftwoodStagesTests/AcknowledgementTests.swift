import Dispatch
import Foundation
import Logging
import Synchronization
import Testing

@testable import DriftwoodCore
@testable import DriftwoodStages

/// The acknowledgement path through a real pipeline: an input batch is acknowledged exactly once,
/// and only after every output that got events from it has accepted them.
@Suite struct AcknowledgementTests {
    // MARK: Acknowledgement itself

    @Test func completesWhenEverythingOwedIsSettled() {
        let calls = Counter()
        let ack = Acknowledgement(count: 1) { calls.increment() }
        ack.add(2)
        #expect(ack.outstanding == 3)
        ack.settle(1)
        ack.add(0)
        ack.settle(0)
        #expect(ack.outstanding == 2 && calls.value == 0)
        ack.settle(2)
        #expect(ack.outstanding == 0 && calls.value == 1)
    }

    @Test func nothingOwedCompletesAtOnce() {
        let calls = Counter()
        _ = Acknowledgement(count: 0) { calls.increment() }
        #expect(calls.value == 1)
    }

    @Test func concurrentSettlesCompleteExactlyOnce() {
        for _ in 0..<20 {
            let calls = Counter()
            let ack = Acknowledgement(count: 800) { calls.increment() }
            DispatchQueue.concurrentPerform(iterations: 8) { _ in
                for _ in 0..<100 { ack.settle(1) }
            }
            #expect(calls.value == 1)
            #expect(ack.outstanding == 0)
        }
    }

    // MARK: Through the pipeline

    @Test(arguments: [1, 2])
    func everyBatchIsAcknowledgedOnceAfterEveryOutputThatGotItAcceptedIt(filterWorkers: Int) throws {
        // Batch k: its lines' levels and routes. Routes: a → output A; b → A and B; none → nowhere.
        var batches: [[(level: String, route: String)]] = []
        for k in 0..<60 {
            switch k % 6 {
            case 0: batches.append([("INFO", "a"), ("INFO", "b"), ("DEBUG", "b")])
            case 1: batches.append([("DEBUG", "a"), ("DEBUG", "b")])  // all dropped
            case 2: batches.append([("INFO", "none"), ("WARN", "none")])  // routed to no output
            case 3: batches.append([("INFO", "a")])  // A only
            case 4: batches.append([("DEBUG", "a"), ("ERROR", "b"), ("INFO", "none")])
            default: batches.append((0..<7).map { ("INFO", $0 % 2 == 0 ? "a" : "b") })
            }
        }
        let h = try Harness(batches: batches, outputs: [
            .init(id: "A", when: #"route == "a" or route == "b""#, delay: 0.002),
            .init(id: "B", when: #"route == "b""#),
        ], filterWorkers: filterWorkers)
        #expect(h.pipeline.wait(timeout: 60), "the pipeline did not finish")
        let r = h.recorder.snapshot()
        #expect(r.violations.isEmpty, "\(r.violations)")
        #expect(r.acks == Dictionary(uniqueKeysWithValues: (0..<60).map { ($0, 1) }))
        // Every surviving event reached exactly the outputs whose `when` matched, in input order
        // (with two filter workers too).
        let survivors = batches.enumerated().flatMap { k, lines in
            lines.enumerated().filter { $0.element.level != "DEBUG" }.map { (key: "\(k).\($0.offset)", route: $0.element.route) }
        }
        #expect(r.events["A"] == survivors.filter { $0.route != "none" }.map(\.key))
        #expect(r.events["B"] == survivors.filter { $0.route == "b" }.map(\.key))
    }

    @Test func acknowledgementWaitsForTheSlowerOutput() throws {
        // B holds its first batch until the gate opens; its small queue fills, so the filter
        // thread blocks handing later batches to B while A keeps accepting them.
        let gate = DispatchSemaphore(value: 0)
        let h = try Harness(
            batches: Array(repeating: [("INFO", "b")], count: 12), outputs: [.init(id: "A"), .init(id: "B", gate: gate)],
            maxEvents: 2)
        #expect(h.recorder.waitForAccept("A", timeout: 30), "output A never accepted a batch")
        Thread.sleep(forTimeInterval: 0.5)
        let early = h.recorder.snapshot()
        #expect(early.events["A", default: []].count >= 2, "A kept accepting while B was stuck")
        #expect(early.acks.isEmpty, "acknowledged while output B still held the batch: \(early.acks)")
        // /health: B holds events and delivered none for longer than the limit; A is fine.
        let limit = Duration.milliseconds(200)
        let stuck = h.pipeline.outputHealth[1].report(unhealthyAfter: limit)
        #expect(stuck.state == .blocked && stuck.eventsDelivered == 0 && stuck.eventsPending > 0, "\(stuck)")
        let moving = h.pipeline.outputHealth[0].report(unhealthyAfter: limit)
        #expect(moving.state == .ok && moving.eventsDelivered >= 2 && moving.eventsPending == 0, "\(moving)")
        gate.signal()
        #expect(h.pipeline.wait(timeout: 30))
        let r = h.recorder.snapshot()
        #expect(r.acks == Dictionary(uniqueKeysWithValues: (0..<12).map { ($0, 1) }))
        #expect(r.violations.isEmpty, "\(r.violations)")
        for health in h.pipeline.outputHealth {
            let done = health.report(unhealthyAfter: limit)
            #expect(done.state == .ok && done.eventsDelivered == 12 && done.lastDelivery != nil, "\(done)")
        }
    }

    @Test func batchWhoseEventsAreAllDroppedIsAcknowledged() throws {
        let h = try Harness(batches: [[("DEBUG", "a")], [("DEBUG", "b"), ("DEBUG", "a")]], outputs: [.init(id: "A")])
        #expect(h.pipeline.wait(timeout: 30))
        let r = h.recorder.snapshot()
        #expect(r.acks == [0: 1, 1: 1])
        #expect(r.attempts["A", default: 0] == 0, "no output saw a write")
    }

    @Test func batchRoutedToNoOutputIsAcknowledged() throws {
        let h = try Harness(
            batches: [[("INFO", "none")], [("INFO", "a")]],
            outputs: [.init(id: "A", when: #"route == "a""#), .init(id: "B", when: #"route == "b""#)])
        #expect(h.pipeline.wait(timeout: 30))
        let r = h.recorder.snapshot()
        #expect(r.acks == [0: 1, 1: 1])
        #expect(r.events["A"] == ["1.0"] && r.events["B", default: []].isEmpty)
    }

    @Test func failedWriteIsRetriedWithTheSameBatchAndAcknowledgedOnlyAfterSuccess() throws {
        let h = try Harness(
            batches: [[("INFO", "a"), ("ERROR", "a")], [("INFO", "a")]],
            outputs: [.init(id: "A", failures: 1), .init(id: "B")])
        #expect(h.pipeline.wait(timeout: 30))
        let r = h.recorder.snapshot()
        #expect(r.violations.isEmpty, "\(r.violations)")
        #expect(r.acks == [0: 1, 1: 1])
        #expect(r.attempts["A"] == 3 && r.attempts["B"] == 2)
        #expect(r.failed["A"] == [["0.0", "0.1"]])
        #expect(r.events["A"] == ["0.0", "0.1", "1.0"], "the same batch again, nothing lost or reordered")
        // The failure is over once the retry went through: each event counted once.
        let a = h.pipeline.outputHealth[0].report(unhealthyAfter: .seconds(60))
        #expect(a.state == .ok && a.lastError == nil && a.eventsDelivered == 3 && a.eventsPending == 0, "\(a)")
    }
}

// MARK: Test stages

/// Builds a pipeline with a test input, the real parse and drop filters, and test outputs.
struct Harness {
    struct OutputSpec {
        var id: String
        var when: String? = nil
        var delay: Double = 0
        var failures: Int = 0
        var gate: DispatchSemaphore? = nil
    }

    let recorder: Recorder
    let pipeline: Pipeline

    init(
        batches: [[(level: String, route: String)]], outputs: [OutputSpec], maxEvents: Int = 6, filterWorkers: Int = 1
    ) throws {
        let recorder = Recorder()
        self.recorder = recorder
        let config = try PipelineConfig.load(
            text: """
                inputs: [{type: stdin}]
                filters:
                  - {type: parse, format: json, remove_source: true}
                  - {type: drop, when: 'level == "DEBUG"'}
                outputs: [{type: stdout}]
                """, file: "ack.yml", environment: [:], catalog: StageCatalog.descriptors)
        let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
        let filters = try PipelineBuilder.filters(config, logger: logger, hostName: "test-host")
        for (k, lines) in batches.enumerated() {
            let survivors = lines.filter { $0.level != "DEBUG" }
            var owed: Set<String> = []
            for o in outputs {
                let condition = try o.when.map { try Condition($0) }
                if survivors.contains(where: { line in
                    condition?.matches(try! Fields(json: #"{"route":"\#(line.route)"}"#)) ?? true
                }) { owed.insert(o.id) }
            }
            recorder.owe(batch: k, outputs: owed)
        }
        let lines = batches.enumerated().map { k, lines in
            lines.enumerated().map { i, l in #"{"batch":\#(k),"key":"\#(k).\#(i)","level":"\#(l.level)","route":"\#(l.route)"}"# }
        }
        let stages = try outputs.map { o in
            // An output tells its own health of deliveries (the engine only counts what it hands over).
            let health = OutputHealth(output: o.id)
            return Pipeline.OutputStage(
                id: o.id,
                output: RecordingOutput(
                    id: o.id, recorder: recorder, delay: o.delay, failures: o.failures, gate: o.gate, health: health),
                when: try o.when.map { try Condition($0) }, flushInterval: 0.05, health: health)
        }
        pipeline = Pipeline(
            inputs: [("lines", LinesInput(batches: lines, recorder: recorder))], filters: filters, outputs: stages,
            limits: Pipeline.Limits(maxEvents: maxEvents, maxBytes: 1 << 20), logger: logger,
            extraFilterWorkers: try (1..<filterWorkers).map { _ in
                try PipelineBuilder.filters(config, logger: logger, hostName: "test-host")
            })
        #expect(pipeline.filterChains.count == filterWorkers)
        pipeline.start()
    }
}

/// Emits each list of lines as one batch; each batch's acknowledgement reports to the recorder.
final class LinesInput: Input {
    let batches: [[String]]
    let recorder: Recorder
    init(batches: [[String]], recorder: Recorder) {
        self.batches = batches
        self.recorder = recorder
    }

    func run(emit: (inout EventBatch) -> Void) throws {
        let builder = LineEventBuilder(inputType: "stdin", hostName: "test-host")
        let timestamp = Array(#""2026-11-24T10:00:00.000Z""#.utf8)
        for (k, lines) in batches.enumerated() {
            var batch = EventBatch()
            for line in lines {
                let fields = Array(line.utf8).withUnsafeBufferPointer { builder.make(line: $0, timestamp: timestamp) }
                batch.events.append(Event(fields: fields))
            }
            let recorder = self.recorder
            batch.acknowledgement = Acknowledgement(count: 1) { recorder.acknowledged(batch: k) }
            emit(&batch)
        }
    }

    func stop() {}
}

struct WriteFailed: Error {}

/// Records what it accepts, then settles; can be slow, gated, or fail its first writes.
final class RecordingOutput: Output, @unchecked Sendable {
    let id: String
    let recorder: Recorder
    let delay: Double
    let gate: DispatchSemaphore?
    let health: OutputHealth?
    private var failuresLeft: Int  // the output's own thread only

    init(id: String, recorder: Recorder, delay: Double, failures: Int, gate: DispatchSemaphore?, health: OutputHealth? = nil) {
        self.id = id
        self.health = health
        self.recorder = recorder
        self.delay = delay
        self.failuresLeft = failures
        self.gate = gate
    }

    func write(_ batch: EventBatch) throws {
        let keys = batch.events.map { $0.fields.value(at: FieldPath("key")!)?.string ?? "?" }
        let numbers = Set(batch.events.compactMap { $0.fields.value(at: FieldPath("batch")!)?.integer }.map(Int.init))
        recorder.attempt(id)
        if delay > 0 { Thread.sleep(forTimeInterval: delay) }
        if let gate {  // a latch: once open, it stays open
            gate.wait()
            gate.signal()
        }
        if failuresLeft > 0 {
            failuresLeft -= 1
            recorder.failed(id, keys: keys)
            throw WriteFailed()
        }
        recorder.accepted(id, keys: keys, batches: numbers)
        batch.acknowledgement?.settle(1)
        health?.delivered(batch.count)
    }
}

/// What the stages did, from every thread.
final class Recorder: Sendable {
    struct State {
        var owed: [Int: Set<String>] = [:]
        var acceptedBatches: [String: Set<Int>] = [:]
        var events: [String: [String]] = [:]
        var failed: [String: [[String]]] = [:]
        var attempts: [String: Int] = [:]
        var acks: [Int: Int] = [:]
        var violations: [String] = []
    }

    private let state = Mutex(State())
    private let acceptedSignal = DispatchSemaphore(value: 0)

    func owe(batch: Int, outputs: Set<String>) { state.withLock { $0.owed[batch] = outputs } }
    func attempt(_ id: String) { state.withLock { $0.attempts[id, default: 0] += 1 } }
    func failed(_ id: String, keys: [String]) { state.withLock { $0.failed[id, default: []].append(keys) } }

    func accepted(_ id: String, keys: [String], batches: Set<Int>) {
        state.withLock {
            $0.events[id, default: []] += keys
            $0.acceptedBatches[id, default: []].formUnion(batches)
        }
        acceptedSignal.signal()
    }

    /// Called by an acknowledgement: every output the batch owed must have accepted it already.
    func acknowledged(batch k: Int) {
        state.withLock { s in
            s.acks[k, default: 0] += 1
            for id in s.owed[k] ?? [] where !(s.acceptedBatches[id]?.contains(k) ?? false) {
                s.violations.append("batch \(k) acknowledged before output \(id) accepted it")
            }
        }
    }

    func waitForAccept(_ id: String, timeout: Double) -> Bool {
        let deadline = DispatchTime.now() + timeout
        while acceptedSignal.wait(timeout: deadline) == .success {
            if state.withLock({ $0.acceptedBatches[id] != nil }) { return true }
        }
        return false
    }

    func snapshot() -> State { state.withLock { $0 } }
}

final class Counter: Sendable {
    private let n = Atomic<Int>(0)
    func increment() { n.wrappingAdd(1, ordering: .relaxed) }
    var value: Int { n.load(ordering: .relaxed) }
}
