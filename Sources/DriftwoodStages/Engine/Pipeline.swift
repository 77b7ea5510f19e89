import DriftwoodCore
import Foundation
import Logging
import Synchronization

/// The pipeline engine: inputs → bounded queue → filters → one bounded queue per output → outputs.
///
/// Each input and each output runs on a thread of its own (they block in reads and writes); the
/// filters run in order on one filter thread. Events move in batches. Acknowledgements follow the
/// events: after the filters, each batch's groups owe one delivery per (event, output) pair, and
/// an output settles its share once it has accepted a batch.
public final class Pipeline: @unchecked Sendable {
    /// A filter and the condition that selects its events.
    public struct FilterStage {
        public let id: String
        public let filter: any Filter
        public let when: Condition?
        public init(id: String, filter: any Filter, when: Condition?) {
            self.id = id
            self.filter = filter
            self.when = when
        }
    }

    /// An output and the condition that selects its events.
    public struct OutputStage: Sendable {
        public let id: String
        public let output: any Output
        public let when: Condition?
        /// How long the output may sit idle before `flush()` is called.
        public let flushInterval: Double
        /// Deliveries and failures, for `/health`.
        public let health: OutputHealth
        public init(
            id: String, output: any Output, when: Condition?, flushInterval: Double = 1, health: OutputHealth? = nil
        ) {
            self.id = id
            self.output = output
            self.when = when
            self.flushInterval = flushInterval
            self.health = health ?? OutputHealth(output: id)
        }
    }

    /// Queue limits between stages.
    public struct Limits: Sendable {
        public var maxEvents: Int
        public var maxBytes: Int
        public init(maxEvents: Int = 4096, maxBytes: Int = 8 << 20) {
            self.maxEvents = maxEvents
            self.maxBytes = maxBytes
        }
    }

    let inputs: [(id: String, input: any Input)]
    let filters: [FilterStage]
    /// One chain per filter worker: several only when the chain starts with stateless filters.
    let filterChains: [FilterChain]
    /// With several workers and a stateful filter: the stateless filters before it run on every
    /// worker at once, and the rest (one shared instance of each) one batch at a time, in order.
    let parallelStages: Int
    let turnstile: Turnstile?
    let sequencer: Sequencer
    let outputs: [OutputStage]
    let logger: Logger
    let filterQueue: BatchQueue
    let outputQueues: [BatchQueue]
    let metrics: [String: StageMetrics]
    /// Events each input read, in input order (the end-of-run summary).
    let eventsRead: [EventCount]
    /// Saves and restores the windows of the filters that keep state across restarts.
    let stateKeeper: FilterStateKeeper?
    private let failed = Atomic<Bool>(false)
    private let done = DispatchSemaphore(value: 0)

    /// - Parameter extraFilterWorkers: further copies of the filter chain (separate instances),
    ///   run on threads of their own. When some filter holds state, only the stateless filters
    ///   before the first such one are taken from a copy; the rest are the first chain's own
    ///   instances, which run in batch order behind a turnstile (drift windows, monitor counts).
    /// - Parameter stateDirectory: where `PersistentFilter`s keep their state (`<data_dir>/state`);
    ///   nil: their state is not saved. `stateInterval`: seconds between two saves under load.
    public init(
        inputs: [(id: String, input: any Input)], filters: [FilterStage], outputs: [OutputStage],
        limits: Limits = Limits(), logger: Logger, extraFilterWorkers: [[FilterStage]] = [],
        stateDirectory: String? = nil, stateInterval: Double = 1
    ) {
        self.inputs = inputs
        self.filters = filters
        let prefix = filters.prefix { $0.filter.isStateless }.count
        let parallel = prefix > 0 ? extraFilterWorkers.filter { $0.count == filters.count } : []
        self.filterChains =
            [FilterChain(filters, preparedFrom: parallel.isEmpty ? nil : prefix)]
            + parallel.map { FilterChain(Array($0.prefix(prefix)) + filters.dropFirst(prefix), preparedFrom: prefix) }
        self.parallelStages = prefix
        self.turnstile = prefix < filters.count && filterChains.count > 1 ? Turnstile() : nil
        self.sequencer = Sequencer(window: 2 * filterChains.count)
        self.outputs = outputs
        self.logger = logger
        self.filterQueue = BatchQueue(maxEvents: limits.maxEvents, maxBytes: limits.maxBytes)
        self.outputQueues = outputs.map { _ in BatchQueue(maxEvents: limits.maxEvents, maxBytes: limits.maxBytes) }
        var metrics: [String: StageMetrics] = [:]
        for id in inputs.map(\.id) + filters.map(\.id) + outputs.map(\.id) { metrics[id] = StageMetrics(stage: id) }
        self.metrics = metrics
        self.eventsRead = inputs.map { _ in EventCount() }
        stateKeeper = FilterStateKeeper(stages: filters, directory: stateDirectory, interval: stateInterval, logger: logger)
    }

    /// Starts every thread and returns at once; `wait()` blocks until the pipeline has finished.
    public func start() {
        stateKeeper?.restore()
        let inputsLeft = Atomic<Int>(inputs.count)
        for (k, (id, input)) in inputs.enumerated() {
            let m = metrics[id]!
            let read = eventsRead[k]
            startThread(name: "input \(id)") { [self] in
                do {
                    try input.run { batch in
                        // An input's events in are the events it read, all handed on.
                        m.eventsIn(batch.count)
                        m.eventsOut(batch.count)
                        read.add(batch.count)
                        filterQueue.push(moving: &batch, bytes: Self.byteCount(batch))
                    }
                } catch {
                    logger.error("input stopped on an error", metadata: ["stage": "\(id)", "error": "\(error)"])
                    failed.store(true, ordering: .relaxed)
                }
                if inputsLeft.wrappingSubtract(1, ordering: .acquiringAndReleasing).newValue == 0 {
                    filterQueue.close()
                }
            }
        }
        if inputs.isEmpty { filterQueue.close() }
        let workersLeft = Atomic<Int>(filterChains.count)
        for chain in filterChains {
            startThread(name: "filters") { [self] in
                runFilters(chain)
                if workersLeft.wrappingSubtract(1, ordering: .acquiringAndReleasing).newValue == 0 {
                    stateKeeper?.finish()
                    for queue in outputQueues { queue.close() }
                }
            }
        }
        let outputsLeft = Atomic<Int>(outputs.count)
        for (k, stage) in outputs.enumerated() {
            startThread(name: "output \(stage.id)") { [self] in
                runOutput(stage, queue: outputQueues[k])
                if outputsLeft.wrappingSubtract(1, ordering: .acquiringAndReleasing).newValue == 0 {
                    for (_, input) in inputs { input.close() }
                    done.signal()
                }
            }
        }
        if outputs.isEmpty { done.signal() }
    }

    /// Blocks until every input has finished and every output has delivered and closed, or until
    /// `timeout` seconds pass. Returns false on a time-out.
    public func wait(timeout: Double? = nil) -> Bool {
        guard let timeout else {
            done.wait()
            done.signal()
            return true
        }
        if done.wait(timeout: .now() + timeout) == .timedOut { return false }
        done.signal()
        return true
    }

    /// True when some stage stopped on an error.
    public var hasFailed: Bool { failed.load(ordering: .relaxed) }

    /// Graceful stop: inputs stop reading; what was read drains through to the outputs.
    public func stop() {
        for (_, input) in inputs { input.stop() }
    }

    /// Events waiting in the queue in front of each stage (the filter queue under "filters").
    public func queueDepths() -> [String: Int] {
        var d = ["filters": filterQueue.depth]
        for (k, stage) in outputs.enumerated() { d[stage.id] = outputQueues[k].depth }
        return d
    }

    /// Each input's id, the input, and the events it read so far, in pipeline order.
    public var inputsRead: [(id: String, input: any Input, events: Int)] {
        inputs.enumerated().map { ($1.id, $1.input, eventsRead[$0].value) }
    }

    /// Events the filters removed (net of the events they added, batch by batch).
    public var eventsDroppedByFilters: Int { filterChains.reduce(0) { $0 + $1.droppedTotal.value } }

    /// Each output's health, in pipeline order.
    public var outputHealth: [OutputHealth] { outputs.map(\.health) }

    // MARK: Threads

    private func runFilters(_ chain: FilterChain) {
        var scratch: [Event] = []
        var batch = EventBatch()
        let keeper = stateKeeper
        // With state to save, an idle pipeline still saves it, so checkpoints can move.
        let timeout = keeper.map { min($0.interval, 0.25) }
        while true {
            let status = filterQueue.pop(into: &batch, timeout: timeout)
            if status == .closed { break }
            if status == .timedOut {
                if let turnstile { turnstile.whenFree { keeper?.idle() } } else { keeper?.idle() }
                continue
            }
            if let turnstile {
                chain.run(&batch.events, scratch: &scratch, stages: 0..<parallelStages)
                turnstile.pass(batch.sequence) {
                    chain.run(&batch.events, scratch: &scratch, stages: parallelStages..<filters.count)
                    keeper?.afterBatch(batch.acknowledgement)
                }
            } else {
                chain.run(&batch.events, scratch: &scratch)
                keeper?.afterBatch(batch.acknowledgement)
            }
            let routed = route(&batch)
            sequencer.submit(routed) { deliver($0) }
        }
    }

    /// A filtered batch split per output (by each output's `when`) and encoded by each output
    /// that encodes ahead, still on the filter worker's thread.
    struct RoutedBatch: Sendable {
        var sequence: UInt64
        var acknowledgement: Acknowledgement?
        var parts: [EventBatch]
    }

    /// Takes the batch (leaving `batch` empty).
    private func route(_ batch: inout EventBatch) -> RoutedBatch {
        let sequence = batch.sequence
        let acknowledgement = batch.acknowledgement
        var parts: [EventBatch] = []
        parts.reserveCapacity(outputs.count)
        for (k, stage) in outputs.enumerated() {
            var part: EventBatch
            if let when = stage.when {
                part = EventBatch(events: batch.events.filter { when.matches($0.fields) }, acknowledgement: acknowledgement)
            } else if k == outputs.count - 1 {
                // The last output takes the batch itself, so its events are uniquely owned and an
                // output that encodes ahead can recycle their buffers.
                part = EventBatch()
                swap(&part, &batch)
            } else {
                part = batch
            }
            part.eventCount = part.events.count
            if part.isEmpty {
                parts.append(part)
            } else {
                parts.append(stage.output.encode(consume part))
            }
        }
        batch = EventBatch()
        return RoutedBatch(sequence: sequence, acknowledgement: acknowledgement, parts: parts)
    }

    /// Hands the parts to the outputs, in order. The batch owes one delivery per output that gets
    /// events; they are owed before the input's hold is settled, so the count cannot reach zero early.
    private func deliver(_ routed: consuming RoutedBatch) {
        let acknowledgement = routed.acknowledgement
        acknowledgement?.add(routed.parts.filter { !$0.isEmpty }.count)
        for k in outputs.indices where !routed.parts[k].isEmpty {
            let size = Self.byteCount(routed.parts[k])
            outputQueues[k].push(moving: &routed.parts[k], bytes: size)
        }
        acknowledgement?.settle(1)
    }

    /// Runs the filters over a batch in file order.
    public func runFilterChain(_ batch: inout [Event], scratch: inout [Event]) {
        filterChains[0].run(&batch, scratch: &scratch)
    }

    private func runOutput(_ stage: OutputStage, queue: BatchQueue) {
        let m = metrics[stage.id]!
        var backoff = 0.1
        loop: while true {
            switch queue.pop(timeout: stage.flushInterval) {
            case .batch(let batch):
                m.eventsIn(batch.count)
                stage.health.received(batch.count)
                while true {
                    do {
                        try stage.output.write(batch)
                        break
                    } catch {
                        // Keep the batch: at-least-once delivery retries until it is accepted.
                        logger.error(
                            "output failed; retrying", metadata: ["stage": "\(stage.id)", "error": "\(error)"])
                        stage.health.failed("\(error)")
                        Thread.sleep(forTimeInterval: backoff)
                        backoff = min(backoff * 2, 30)
                    }
                }
                backoff = 0.1
                m.eventsOut(batch.count)
                if !stage.output.reportsDeliveries { stage.health.delivered(batch.count) }
            case .timedOut:
                do { try stage.output.flush() } catch {
                    logger.error("flush failed", metadata: ["stage": "\(stage.id)", "error": "\(error)"])
                    stage.health.failed("flush failed: \(error)")
                }
            case .closed:
                break loop
            }
        }
        do { try stage.output.close() } catch {
            logger.error("close failed", metadata: ["stage": "\(stage.id)", "error": "\(error)"])
            failed.store(true, ordering: .relaxed)
        }
    }

    static func byteCount(_ batch: EventBatch) -> Int {
        if let encoded = batch.encoded { return encoded.byteCount }
        var n = 0
        batch.events.withUnsafeBufferPointer { events in
            for i in events.indices { n += events[i].fields.byteCount }
        }
        return n
    }

    private func startThread(name: String, _ body: @escaping @Sendable () -> Void) {
        let thread = Thread(block: body)
        thread.name = name
        thread.stackSize = 8 << 20
        thread.start()
    }
}
