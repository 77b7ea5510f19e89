import DriftwoodCore
import Foundation
import Logging
import Synchronization
import Testing

@testable import DriftwoodStages

/// A chain of stateless filters followed by a stateful one keeps two workers; the stateful
/// filter sees every batch once, one at a time, in input order, and so do the outputs.
@Suite struct TurnstileTests {
    /// Emits `batches` batches of `size` events `{"n": i}`.
    final class CountingInput: Input, @unchecked Sendable {
        let batches: Int
        let size: Int
        init(batches: Int, size: Int) {
            self.batches = batches
            self.size = size
        }
        func run(emit: (inout EventBatch) -> Void) throws {
            var n = 0
            for _ in 0..<batches {
                var batch = EventBatch()
                for _ in 0..<size {
                    batch.events.append(Event(fields: try Fields(json: #"{"n":\#(n)}"#), origin: Origin(position: UInt64(n))))
                    n += 1
                }
                batch.acknowledgement = Acknowledgement(count: 1) {}
                emit(&batch)
            }
        }
        func stop() {}
    }

    /// Stateless work of uneven length, so the two workers finish batches out of order.
    final class UnevenFilter: Filter {
        var isStateless: Bool { true }
        func apply(_ event: consuming Event, into out: inout [Event]) {
            let n = event.fields.value(at: FieldPath("n")!)!.integer!
            var x = 0.0
            for k in 0..<Int((n * 7919) % 400) { x += sin(Double(k)) }
            if x == .infinity { event.tag("never") }
            out.append(event)
        }
    }

    /// Holds state: records what it sees, and notices two workers inside it at once.
    final class RecordingFilter: Filter, @unchecked Sendable {
        var seen: [Int64] = []
        let inside = Atomic<Int>(0)
        let overlaps = Atomic<Int>(0)
        func apply(_ event: consuming Event, into out: inout [Event]) {
            if inside.wrappingAdd(1, ordering: .acquiringAndReleasing).newValue > 1 {
                overlaps.wrappingAdd(1, ordering: .relaxed)
            }
            let n = event.fields.value(at: FieldPath("n")!)!.integer!
            seen.append(n)
            out.append(event)
            if n % 100 == 99 {  // an event of its own after its trigger, like an alert
                out.append(Event(fields: try! Fields(json: #"{"after":\#(n)}"#), origin: Origin(position: UInt64(n), derived: 1)))
            }
            inside.wrappingSubtract(1, ordering: .acquiringAndReleasing)
        }
    }

    final class CollectingOutput: Output, @unchecked Sendable {
        let lock = NSLock()
        var lines: [String] = []
        func write(_ batch: EventBatch) throws {
            lock.withLock { lines += batch.events.map(\.fields.json) }
            batch.acknowledgement?.settle(1)
        }
    }

    @Test func statefulTailRunsInOrderWhileThePrefixRunsOnTwoWorkers() throws {
        let recorder = RecordingFilter()
        let output = CollectingOutput()
        let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
        func chain() -> [Pipeline.FilterStage] {
            [
                Pipeline.FilterStage(id: "uneven", filter: UnevenFilter(), when: nil),
                Pipeline.FilterStage(id: "recorder", filter: RecordingFilter(), when: nil),
            ]
        }
        var first = chain()
        first[1] = Pipeline.FilterStage(id: "recorder", filter: recorder, when: nil)
        let pipeline = Pipeline(
            inputs: [("count", CountingInput(batches: 200, size: 50))], filters: first,
            outputs: [Pipeline.OutputStage(id: "collect", output: output, when: nil)],
            limits: Pipeline.Limits(maxEvents: 400), logger: logger, extraFilterWorkers: [chain()])
        #expect(pipeline.filterChains.count == 2)
        #expect(pipeline.turnstile != nil && pipeline.parallelStages == 1)
        // The second worker's stateful stage is the first chain's instance, not its own copy.
        #expect(pipeline.filterChains[1].stages[1].filter === recorder)
        pipeline.start()
        #expect(pipeline.wait(timeout: 60))
        #expect(recorder.seen == Array(0..<10_000))
        #expect(recorder.overlaps.load(ordering: .relaxed) == 0)
        var expected: [String] = []
        for n in 0..<10_000 {
            expected.append(#"{"n":\#(n)}"#)
            if n % 100 == 99 { expected.append(#"{"after":\#(n)}"#) }
        }
        #expect(output.lines == expected)
    }

    @Test func allStatelessChainsStillUseTwoWorkersWithoutATurnstile() {
        let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
        let pipeline = Pipeline(
            inputs: [], filters: [Pipeline.FilterStage(id: "u", filter: UnevenFilter(), when: nil)], outputs: [],
            logger: logger, extraFilterWorkers: [[Pipeline.FilterStage(id: "u", filter: UnevenFilter(), when: nil)]])
        #expect(pipeline.filterChains.count == 2 && pipeline.turnstile == nil)
        // A chain that starts with a stateful filter keeps one worker.
        let stateful = Pipeline(
            inputs: [], filters: [Pipeline.FilterStage(id: "r", filter: RecordingFilter(), when: nil)], outputs: [],
            logger: logger, extraFilterWorkers: [[Pipeline.FilterStage(id: "r", filter: RecordingFilter(), when: nil)]])
        #expect(stateful.filterChains.count == 1 && stateful.turnstile == nil)
    }
}
