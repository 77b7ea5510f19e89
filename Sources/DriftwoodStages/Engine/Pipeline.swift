import DriftwoodCore
import Foundation
import Logging
import Synchronization

/// The pipeline engine: inputs → bounded queue → filters → one bounded queue per output → outputs.
///
/// Each input and each output runs on a thread of its own (they block in reads and writes); the
/// filters run in order on the filter workers. Events move in batches. Acknowledgements follow
/// the events: after the filters, each batch's groups owe one delivery per (event, output) pair,
/// and an output settles its share once it has accepted a batch.
///
/// What runs behind the filter queue (filters, outputs, the filters' state keeper) is one
/// `StageLayout`; a reload (`swap`) replaces it, and the inputs, while nothing is in flight.
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

    let limits: Limits
    let logger: Logger
    let filterQueue: BatchQueue
    let sequencer: Sequencer
    /// Filter worker threads (fixed for the run).
    let workers: Int
    let stateDirectory: String?
    let stateInterval: Double

    // Guarded by `lock`.
    let lock = NSLock()
    var layout: StageLayout
    var inputRuns: [InputRun]
    /// Inputs whose `run` has not returned, plus one per reload in progress: when it reaches
    /// zero, the filter queue closes.
    var liveInputs = 0
    /// Output threads not ended yet.
    var liveOutputs = 0
    /// Filter workers not ended yet.
    var liveWorkers = 0
    var filtersEnded = false
    var started = false
    var stopping = false
    /// Events removed by the filters of layouts a reload replaced.
    var droppedByReplacedFilters = 0

    let failed = Atomic<Bool>(false)
    private let done = DispatchSemaphore(value: 0)
    /// One reload at a time.
    let reloading = NSLock()

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
        self.limits = limits
        self.logger = logger
        let prefix = filters.prefix { $0.filter.isStateless }.count
        let copies = prefix > 0 ? extraFilterWorkers.filter { $0.count == filters.count } : []
        workers = 1 + copies.count
        sequencer = Sequencer(window: 2 * workers)
        filterQueue = BatchQueue(maxEvents: limits.maxEvents, maxBytes: limits.maxBytes, tracksConsumers: true)
        self.stateDirectory = stateDirectory
        self.stateInterval = stateInterval
        let keeper = FilterStateKeeper(stages: filters, directory: stateDirectory, interval: stateInterval, logger: logger)
        layout = StageLayout(
            filters: filters, copies: copies, workers: workers, firstSequence: 0,
            outputs: outputs.map { OutputRun(stage: $0, limits: limits) },
            keeper: keeper)
        let fingerprints = outputs.contains { $0.output.usesFingerprints }
        inputRuns = inputs.map { InputRun(id: $0.id, input: $0.input, fingerprints: fingerprints) }
    }

    /// Starts every thread and returns at once; `wait()` blocks until the pipeline has finished.
    public func start() {
        let (inputs, layout) = lock.withLock { () -> ([InputRun], StageLayout) in
            started = true
            liveInputs = inputRuns.count
            liveOutputs = self.layout.outputs.count
            liveWorkers = workers
            return (inputRuns, self.layout)
        }
        layout.keeper?.restore()
        for run in inputs { startInput(run) }
        if inputs.isEmpty { filterQueue.close() }
        for k in 0..<workers {
            startThread(name: "filters \(k)") { [self] in runFilters(worker: k) }
        }
        for run in layout.outputs { startOutput(run, after: nil) }
        if layout.outputs.isEmpty { done.signal() }
    }

    func startInput(_ run: InputRun) {
        startThread(name: "in \(run.id)") { [self] in
            do {
                try run.input.run { batch in
                    // An input's events in are the events it read, all handed on.
                    run.metrics.eventsIn(batch.count)
                    run.metrics.eventsOut(batch.count)
                    run.eventsRead.add(batch.count)
                    run.handedOn(batch.acknowledgement)
                    filterQueue.push(moving: &batch, bytes: Self.byteCount(batch))
                }
            } catch {
                logger.error("input stopped on an error", metadata: ["stage": "\(run.id)", "error": "\(error)"])
                failed.store(true, ordering: .relaxed)
            }
            run.ended.signal()
            inputEnded()
        }
    }

    /// One input (or a reload) is done: the last one closes the filter queue.
    func inputEnded() {
        let last = lock.withLock { () -> Bool in
            liveInputs -= 1
            return liveInputs == 0
        }
        if last { filterQueue.close() }
    }

    /// Starts an output's thread; with `after`, it delivers only once that run (the output this
    /// one replaces, with the same id) has delivered everything and closed.
    func startOutput(_ run: OutputRun, after previous: OutputRun?) {
        startThread(name: "out \(run.stage.id)") { [self] in
            previous?.waitUntilEnded()
            runOutput(run)
            run.ended.signal()
            let (last, inputs) = lock.withLock { () -> (Bool, [InputRun]) in
                liveOutputs -= 1
                return (liveOutputs == 0 && filtersEnded, inputRuns)
            }
            if last {
                for run in inputs { run.input.close() }
                done.signal()
            }
        }
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

    /// Graceful stop: inputs stop reading; what was read drains through to the outputs. A reload
    /// in progress finishes its swap first or gives up before it (it checks `stopping`).
    public func stop() {
        let inputs = lock.withLock { () -> [InputRun] in
            stopping = true
            return inputRuns
        }
        for run in inputs { run.input.stop() }
    }

    var current: StageLayout { lock.withLock { layout } }

    /// Events waiting in the queue in front of each stage (the filter queue under "filters").
    public func queueDepths() -> [String: Int] {
        var d = ["filters": filterQueue.depth]
        for run in current.outputs { d[run.stage.id] = run.queue.depth }
        return d
    }

    /// Events a queue between two stages holds at most.
    public var queueCapacity: Int { filterQueue.maxEvents }

    /// Each input's id, the input, and the events it read so far, in pipeline order.
    public var inputsRead: [(id: String, input: any Input, events: Int)] {
        lock.withLock { inputRuns }.map { ($0.id, $0.input, $0.eventsRead.value) }
    }

    /// The filters now running, in order.
    public var filters: [FilterStage] { current.filters }

    /// One chain per filter worker.
    var filterChains: [FilterChain] { current.chains }
    var turnstile: Turnstile? { current.turnstile }
    var parallelStages: Int { current.parallelStages }

    /// Events the filters removed (net of the events they added, batch by batch).
    public var eventsDroppedByFilters: Int {
        let (layout, replaced) = lock.withLock { (self.layout, droppedByReplacedFilters) }
        return replaced + layout.chains.reduce(0) { $0 + $1.droppedTotal.value }
    }

    /// Each output's health, in pipeline order.
    public var outputHealth: [OutputHealth] { current.outputs.map(\.stage.health) }

    /// Runs the filters over a batch in file order.
    public func runFilterChain(_ batch: inout [Event]) {
        current.chains[0].run(&batch)
    }

    static func byteCount(_ batch: EventBatch) -> Int {
        if let encoded = batch.encoded { return encoded.byteCount }
        var n = 0
        batch.events.withUnsafeBufferPointer { events in
            for i in events.indices { n += events[i].fields.byteCount }
        }
        return n
    }

    /// Names the calling thread for the kernel (`top -H`, `ps -L`, `perf`; 15 bytes kept).
    /// `pthread_setname_np` is a GNU extension the Glibc module does not bring in.
    static func nameThisThread(_ name: String) {
        #if os(Linux)
        typealias SetName = @convention(c) (pthread_t, UnsafePointer<CChar>) -> Int32
        guard let symbol = dlsym(nil, "pthread_setname_np") else { return }
        let setName = unsafeBitCast(symbol, to: SetName.self)
        _ = String(decoding: Array(name.utf8.prefix(15)), as: UTF8.self).withCString { setName(pthread_self(), $0) }
        #endif
    }

    /// The thread is named for the kernel too (`nameThisThread`).
    func startThread(name: String, _ body: @escaping @Sendable () -> Void) {
        let thread = Thread {
            Self.nameThisThread(name)
            body()
        }
        thread.name = name
        thread.stackSize = 8 << 20
        thread.start()
    }
}
