import Dispatch
import Foundation
import DriftwoodCore
import Logging

/// What runs behind the filter queue at one time: the filters (one chain per worker), the
/// outputs with their queues, and the keeper of the filters' state. A reload replaces it as a
/// whole while nothing is in flight (`Pipeline.swap`); each batch is handled by one layout.
final class StageLayout: @unchecked Sendable {
    let filters: [Pipeline.FilterStage]
    /// One chain per filter worker.
    let chains: [FilterChain]
    /// With several workers and a stateful filter: the stateless filters before it run on every
    /// worker at once, and the rest (one shared instance of each) one batch at a time, in order.
    let parallelStages: Int
    let turnstile: Turnstile?
    let outputs: [OutputRun]
    let keeper: FilterStateKeeper?

    /// - Parameters:
    ///   - copies: the filters again for every further worker (separate instances); only the
    ///     stateless ones before the first stateful filter are taken from a copy.
    ///   - workers: how many filter workers there are (fixed for the run).
    ///   - firstSequence: the sequence number of the first batch this layout will see.
    init(
        filters: [Pipeline.FilterStage], copies: [[Pipeline.FilterStage]], workers: Int, firstSequence: UInt64,
        outputs: [OutputRun], keeper: FilterStateKeeper?
    ) {
        self.filters = filters
        let prefix = filters.prefix { $0.filter.isStateless }.count
        if workers <= 1 {
            chains = [FilterChain(filters)]
            parallelStages = prefix
        } else {
            let copies = copies.filter { $0.count == filters.count }
            // Without a copy for every further worker (a chain that starts with a stateful
            // filter), every stage runs in turn, on whichever worker holds the batch.
            let from = copies.count >= workers - 1 ? prefix : 0
            chains = (0..<workers).map { k in
                let own = k == 0 || from == 0 ? filters : Array(copies[k - 1].prefix(from)) + filters.dropFirst(from)
                return FilterChain(own, preparedFrom: from)
            }
            parallelStages = from
        }
        turnstile = chains.count > 1 && parallelStages < filters.count ? Turnstile(first: firstSequence) : nil
        self.outputs = outputs
        self.keeper = keeper
    }
}

/// One output running on its thread, with the queue in front of it.
final class OutputRun: @unchecked Sendable {
    let stage: Pipeline.OutputStage
    let queue: BatchQueue
    let metrics: StageMetrics
    /// Signalled once its thread has delivered everything and closed the output.
    let ended = DispatchSemaphore(value: 0)

    init(stage: Pipeline.OutputStage, limits: Pipeline.Limits) {
        self.stage = stage
        self.queue = BatchQueue(maxEvents: limits.maxEvents, maxBytes: limits.maxBytes)
        self.metrics = StageMetrics(stage: stage.id)
    }

    /// Waits until the thread has ended (for a replacement with the same id).
    func waitUntilEnded() {
        ended.wait()
        ended.signal()
    }
}

/// One input running on its thread.
final class InputRun: @unchecked Sendable {
    let id: String
    let input: any Input
    let metrics: StageMetrics
    /// Built to fill in what fingerprints need (some output derives ids from origins).
    let fingerprints: Bool
    /// Events it read, for the end-of-run summary.
    let eventsRead = EventCount()
    /// Signalled once `run` has returned.
    let ended = DispatchSemaphore(value: 0)
    /// The acknowledgements of batches it handed on that may still be owed deliveries.
    private var owed: [Acknowledgement] = []
    private let lock = NSLock()

    init(id: String, input: any Input, fingerprints: Bool) {
        self.id = id
        self.input = input
        self.fingerprints = fingerprints
        self.metrics = StageMetrics(stage: id)
    }

    /// Remembers a batch's acknowledgement, so a reload that retires this input can wait for
    /// its events to be delivered. Once a batch (a lock and an append); settled ones are
    /// dropped whenever 64 have gathered, so the list stays about as long as the queues.
    func handedOn(_ acknowledgement: Acknowledgement?) {
        guard let acknowledgement else { return }
        lock.withLock {
            if owed.count >= 64 { owed.removeAll { $0.outstanding == 0 } }
            owed.append(acknowledgement)
        }
    }

    /// Waits until `run` has returned and every batch it handed on is delivered (or `give up`
    /// says to stop waiting). Then its checkpoints cover everything it read.
    func waitUntilDelivered(giveUp: () -> Bool) {
        ended.wait()
        ended.signal()
        while !giveUp() {
            let left = lock.withLock { () -> Int in
                owed.removeAll { $0.outstanding == 0 }
                return owed.count
            }
            if left == 0 { return }
            Thread.sleep(forTimeInterval: 0.01)
        }
    }
}
