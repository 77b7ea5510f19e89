import Dispatch
import Foundation
import Testing

@testable import DriftwoodCore
@testable import DriftwoodStages

/// The bounded queue between stages: backpressure by events and by bytes, draining on close.
@Suite struct BatchQueueTests {
    /// A batch of `n` events whose `message` fields are `tag-0`, `tag-1`, ….
    static func batch(_ n: Int, tag: String = "e") -> EventBatch {
        EventBatch(events: (0..<n).map { i in
            var f = Fields()
            f.set(.message, string: "\(tag)-\(i)")
            return Event(fields: f)
        })
    }

    static func messages(_ pop: BatchQueue.Pop) -> [String]? {
        guard case .batch(let b) = pop else { return nil }
        return b.events.map { $0.fields.value(at: .message)?.string ?? "?" }
    }

    /// Runs `body` on a thread of its own; the semaphore is signalled when it returns.
    static func background(_ body: @escaping @Sendable () -> Void) -> DispatchSemaphore {
        let done = DispatchSemaphore(value: 0)
        Thread {
            body()
            done.signal()
        }.start()
        return done
    }

    @Test func batchesComeOutInOrder() {
        let q = BatchQueue(maxEvents: 100, maxBytes: 1 << 20)
        #expect(q.push(Self.batch(2, tag: "a"), bytes: 10))
        #expect(q.push(Self.batch(1, tag: "b"), bytes: 10))
        #expect(q.depth == 3)
        #expect(Self.messages(q.pop()) == ["a-0", "a-1"])
        #expect(Self.messages(q.pop()) == ["b-0"])
        #expect(q.depth == 0)
    }

    @Test func fullQueueBlocksTheProducerUntilTheConsumerPops() {
        let q = BatchQueue(maxEvents: 4, maxBytes: 1 << 20)
        #expect(q.push(Self.batch(3), bytes: 1))
        let pushed = Self.background { q.push(Self.batch(2, tag: "late"), bytes: 1) }
        // 3 + 2 > 4: the producer must still be waiting after a generous pause.
        #expect(pushed.wait(timeout: .now() + 0.5) == .timedOut)
        #expect(q.depth == 3)
        #expect(Self.messages(q.pop()) == ["e-0", "e-1", "e-2"])
        #expect(pushed.wait(timeout: .now() + 10) == .success)
        #expect(Self.messages(q.pop()) == ["late-0", "late-1"])
    }

    @Test func byteLimitBlocksToo() {
        let q = BatchQueue(maxEvents: 1000, maxBytes: 100)
        #expect(q.push(Self.batch(1), bytes: 60))
        #expect(q.push(Self.batch(1), bytes: 40))  // exactly at the limit is fine
        let pushed = Self.background { q.push(Self.batch(1, tag: "late"), bytes: 1) }
        #expect(pushed.wait(timeout: .now() + 0.5) == .timedOut)
        _ = q.pop()  // frees 60 bytes
        #expect(pushed.wait(timeout: .now() + 10) == .success)
        #expect(q.depth == 2)
    }

    @Test func emptyQueueAcceptsOneOversizedBatch() {
        let q = BatchQueue(maxEvents: 2, maxBytes: 10)
        let first = Self.background { q.push(Self.batch(50), bytes: 5000) }
        #expect(first.wait(timeout: .now() + 10) == .success, "an oversized batch on an empty queue must not block")
        #expect(q.depth == 50)
        // The next one waits for it to go.
        let second = Self.background { q.push(Self.batch(1), bytes: 1) }
        #expect(second.wait(timeout: .now() + 0.3) == .timedOut)
        #expect(Self.messages(q.pop())?.count == 50)
        #expect(second.wait(timeout: .now() + 10) == .success)
    }

    @Test func emptyBatchIsNotQueued() {
        let q = BatchQueue(maxEvents: 1, maxBytes: 1)
        #expect(q.push(EventBatch(), bytes: 0))
        #expect(q.pop(timeout: 0.05).isTimedOut)
    }

    @Test func closeLetsTheConsumerDrainThenReportsClosed() {
        let q = BatchQueue(maxEvents: 100, maxBytes: 1 << 20)
        q.push(Self.batch(1, tag: "a"), bytes: 1)
        q.push(Self.batch(1, tag: "b"), bytes: 1)
        q.close()
        #expect(!q.push(Self.batch(1, tag: "c"), bytes: 1), "a closed queue refuses batches")
        #expect(Self.messages(q.pop()) == ["a-0"])
        #expect(Self.messages(q.pop(timeout: 0.01)) == ["b-0"])
        #expect(q.pop().isClosed)
        #expect(q.pop(timeout: 0.01).isClosed)
    }

    @Test func closeWakesAWaitingConsumer() {
        let q = BatchQueue(maxEvents: 100, maxBytes: 1 << 20)
        let result = ResultBox()
        let done = Self.background { result.set(q.pop()) }
        #expect(done.wait(timeout: .now() + 0.3) == .timedOut)
        q.close()
        #expect(done.wait(timeout: .now() + 10) == .success)
        #expect(result.get()?.isClosed == true)
    }

    @Test func closeReleasesABlockedProducer() {
        let q = BatchQueue(maxEvents: 1, maxBytes: 1 << 20)
        q.push(Self.batch(1), bytes: 1)
        let accepted = ResultBox()
        let done = Self.background { accepted.set(q.push(Self.batch(1), bytes: 1) ? .timedOut : .closed) }
        #expect(done.wait(timeout: .now() + 0.3) == .timedOut)
        q.close()
        #expect(done.wait(timeout: .now() + 10) == .success)
        #expect(accepted.get()?.isClosed == true, "push returns false once the queue is closed")
        #expect(Self.messages(q.pop())?.count == 1)  // what was queued still drains
        #expect(q.pop().isClosed)
    }

    @Test func popTimesOut() {
        let q = BatchQueue(maxEvents: 100, maxBytes: 1 << 20)
        let start = ContinuousClock.now
        #expect(q.pop(timeout: 0.2).isTimedOut)
        let waited = ContinuousClock.now - start
        #expect(waited >= .milliseconds(150), "returned after \(waited)")
        #expect(waited < .seconds(5))
    }

    @Test func popWithTimeoutReturnsABatchThatArrivesWhileWaiting() {
        let q = BatchQueue(maxEvents: 100, maxBytes: 1 << 20)
        let result = ResultBox()
        let done = Self.background { result.set(q.pop(timeout: 10)) }
        Thread.sleep(forTimeInterval: 0.1)
        q.push(Self.batch(1, tag: "x"), bytes: 1)
        #expect(done.wait(timeout: .now() + 10) == .success)
        #expect(result.get().flatMap(Self.messages) == ["x-0"])
    }

    @Test func manyProducersAndOneConsumerLoseNothing() {
        let q = BatchQueue(maxEvents: 8, maxBytes: 1 << 20)
        let producers = (0..<4).map { p in
            Self.background {
                for b in 0..<50 { q.push(Self.batch(3, tag: "p\(p)b\(b)"), bytes: 10) }
            }
        }
        var seen: [String] = []
        let closer = Self.background {
            for p in producers { p.wait() }
            q.close()
        }
        while case .batch(let b) = q.pop() {
            #expect(q.depth <= 8)
            seen += b.events.map { $0.fields.value(at: .message)!.string! }
        }
        closer.wait()
        #expect(seen.count == 4 * 50 * 3)
        #expect(Set(seen).count == seen.count)
        // Each producer's batches stay in its order.
        for p in 0..<4 {
            let mine = seen.filter { $0.hasPrefix("p\(p)b") }
            let expected = (0..<50).flatMap { b in (0..<3).map { "p\(p)b\(b)-\($0)" } }
            #expect(mine == expected)
        }
    }
}

extension BatchQueue.Pop {
    var isTimedOut: Bool {
        if case .timedOut = self { return true }
        return false
    }
    var isClosed: Bool {
        if case .closed = self { return true }
        return false
    }
}

/// A value handed from a background thread to the test.
final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var value: BatchQueue.Pop?
    func set(_ v: BatchQueue.Pop) { lock.withLock { value = v } }
    func get() -> BatchQueue.Pop? { lock.withLock { value } }
}
