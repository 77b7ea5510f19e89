import DriftwoodCore
import Logging

/// An input reads a source and hands events on in batches.
///
/// `run` is called on a thread of its own and may block in reads; it returns when the source is
/// finished (stdin at end of file, a `read`-mode file fully read) or soon after `stop()`.
public protocol Input: AnyObject, Sendable {
    /// Reads until the source ends or `stop()` is called, handing each batch to `emit`, which
    /// blocks while the pipeline is full and leaves the batch empty. A batch's `Acknowledgement`
    /// starts owing one delivery (the input's own hold, which the engine settles).
    func run(emit: (inout EventBatch) -> Void) throws
    /// Asks `run` to return soon (graceful shutdown): stop reading, keep what was read.
    func stop()
    /// Everything is delivered (or the process is about to exit): save what must survive a
    /// restart (a file input's checkpoints).
    func close()
}

extension Input {
    public func close() {}
}

/// A filter changes, drops or adds events. Filters are synchronous and run on the pipeline's
/// filter thread only, one event at a time, in file order.
public protocol Filter: AnyObject {
    /// Applies the filter to one event, appending what comes out (zero, one or more events:
    /// an alert follows its trigger) to `out`.
    func apply(_ event: consuming Event, into out: inout [Event])

    /// True when the filter keeps no state between events, so several copies may run on several
    /// threads at once (order is restored before the outputs). Windows (drift, monitor) are not.
    var isStateless: Bool { get }

    /// The top-level members `apply` may add or replace in the events it passes on (it never
    /// removes one, and passes on the event it got); nil when it may change anything. A stateful
    /// filter after this one may read its part of an event ahead of its turn when the two do not
    /// meet (`PreparingFilter`).
    var writesMembers: [[UInt8]]? { get }
}

extension Filter {
    public var isStateless: Bool { false }
    public var writesMembers: [[UInt8]]? { nil }
}

/// A stateful filter that can read what it needs from an event ahead of its turn: on the filter
/// worker that holds the batch, right after the stateless filters, while the event's bytes are
/// still in that core's cache. Its turn (in batch order, one batch at a time) then needs only
/// the few words read (`Preparation`) and its own state.
public protocol PreparingFilter: Filter {
    /// A reader of events for one worker thread (it keeps scratch memory of its own); nil when
    /// this filter's configuration does not fit a `Preparation`.
    func makePreparer() -> (any EventPreparer)?
    /// `apply`, given what a preparer of this filter read from this very event.
    func apply(_ event: consuming Event, prepared: Preparation, into out: inout [Event])
    /// The top-level members the preparation reads; nil when they are not known (a
    /// user-written condition), so only a filter that changes nothing may run before.
    var readsMembers: [[UInt8]]? { get }
    /// In the turn, before the events of `readings` come (`after` events from now): start
    /// loading the state they will touch (cache prefetch hints). Does nothing by default.
    func willApply(_ readings: UnsafeBufferPointer<Preparation>, after: Int)
}

extension PreparingFilter {
    public func willApply(_ readings: UnsafeBufferPointer<Preparation>, after: Int) {}
}

/// Reads one filter's part of events ahead of the filter's turn (`PreparingFilter`). Used by one
/// thread; touches no state of the filter.
public protocol EventPreparer: AnyObject {
    /// What the filter needs of each event, appended to `readings` in order: one dynamic call
    /// per chunk, the events read in place. (Mutable only so that they are read without a copy:
    /// an event borrowed through a pointer was copied, two retains and two releases, before each
    /// call that read it. A preparer changes nothing.)
    func prepare(_ events: UnsafeMutableBufferPointer<Event>, into readings: inout [Preparation])
}

/// What a `PreparingFilter` read from an event ahead of its turn: words whose meaning only that
/// filter knows (`more` for one that reads more than four: evaluate).
public struct Preparation: Sendable {
    public var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    public var more: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    public init() {}
}

/// An output delivers batches. It runs on a thread of its own.
public protocol Output: AnyObject, Sendable {
    /// Delivers a batch. Once every event in it is accepted (written, acknowledged by the server,
    /// or dead-lettered) the output settles one delivery on `batch.acknowledgement` and tells its
    /// `OutputHealth` (`StageEnvironment.health`); it may do so after returning (an HTTP output
    /// with requests in flight). Throwing means nothing was accepted: the engine tries the same
    /// batch again after a full-jitter backoff.
    func write(_ batch: EventBatch) throws
    /// Called when no batch came for a while, and before `close`: push out anything buffered.
    func flush() throws
    /// The pipeline is finished: flush and release resources.
    func close() throws

    /// Optional: turns a routed batch into what `write` sends (JSON lines, a `_bulk` body), on a
    /// filter worker thread, so encoding runs in parallel and the output's own thread only sends.
    /// Returns the batch with `encoded` set (and its events dropped when no longer needed), or
    /// the batch unchanged. Must not touch state that `write` uses.
    func encode(_ batch: consuming EventBatch) -> EventBatch

    /// True when the output derives ids from events' origins (`Origin.fingerprint`), so inputs
    /// must fill in what that needs (stdin hashes each line's content).
    var usesFingerprints: Bool { get }

}

extension Output {
    public func encode(_ batch: consuming EventBatch) -> EventBatch { batch }
    public var usesFingerprints: Bool { false }

    public func flush() throws {}
    public func close() throws { try flush() }
}

/// What a stage gets when it is built.
public struct StageEnvironment: Sendable {
    public let id: String
    public let pipelineName: String
    public let dataDir: String
    public let logger: Logger
    public let hostName: String
    /// Inputs: some output derives ids from origins, so fill in everything a fingerprint needs.
    public var fingerprints: Bool
    /// Outputs: where `/health` learns of deliveries and failures (nil for inputs and filters).
    public var health: OutputHealth?
    /// Inputs (`run --once`): a tail input reads every file it finds to its end, then finishes.
    public var once = false
    /// Inputs (`run --from-beginning`): the files found at the start are read from their start,
    /// whatever the checkpoints say (they are still written).
    public var ignoreCheckpoints = false

    public init(
        id: String, pipelineName: String, dataDir: String, logger: Logger, hostName: String, fingerprints: Bool = true,
        health: OutputHealth? = nil
    ) {
        self.id = id
        self.pipelineName = pipelineName
        self.dataDir = dataDir
        self.logger = logger
        self.hostName = hostName
        self.fingerprints = fingerprints
        self.health = health
    }
}
