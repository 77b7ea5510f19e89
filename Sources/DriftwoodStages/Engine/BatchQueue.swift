#if canImport(Glibc)
import Glibc
#endif
import DriftwoodCore

/// A bounded queue of event batches between two stages, limited in events and in bytes.
/// A full queue blocks the producer (backpressure), so memory stays flat whatever the backlog.
/// Closing it lets the consumer drain what is left, then `pop` returns nil.
public final class BatchQueue: @unchecked Sendable {
    /// The most events held at once.
    public let maxEvents: Int
    /// The most bytes (of event data) held at once.
    public let maxBytes: Int

    // Guarded by `mutex`: plain pthread primitives, because the producer must block on a full queue.
    private var mutex = pthread_mutex_t()
    private var notEmpty = pthread_cond_t()
    private var notFull = pthread_cond_t()
    private var items: [(EventBatch, Int)] = []
    private var head = 0
    private var events = 0
    private var bytes = 0
    private var closed = false
    private var nextSequence: UInt64 = 0
    /// Pushes wait while set (a reload swapping the stages behind this queue).
    private var paused = false
    /// With `tracksConsumers`: pops (batches or time-outs) whose consumer has not called
    /// `finished()` yet.
    private var taken = 0
    private let tracksConsumers: Bool
    private var drained = pthread_cond_t()

    /// - Parameter tracksConsumers: every `pop` that returns a batch or times out must be
    ///   followed by `finished()` once the consumer is done with it, so `pauseAndDrain()` knows
    ///   when nothing taken from the queue is still being worked on.
    public init(maxEvents: Int, maxBytes: Int, tracksConsumers: Bool = false) {
        self.maxEvents = maxEvents
        self.maxBytes = maxBytes
        self.tracksConsumers = tracksConsumers
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&notEmpty, nil)
        pthread_cond_init(&notFull, nil)
        pthread_cond_init(&drained, nil)
    }

    deinit {
        pthread_mutex_destroy(&mutex)
        pthread_cond_destroy(&notEmpty)
        pthread_cond_destroy(&notFull)
        pthread_cond_destroy(&drained)
    }

    /// The sequence number the next batch pushed will get.
    var sequenceOfNextBatch: UInt64 {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return nextSequence
    }

    /// True once `close()` was called.
    var isClosed: Bool {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return closed
    }

    /// Holds every producer at its next push, then waits until the queue is empty and every
    /// consumer has finished what it took (`tracksConsumers`). Consumers never time out while
    /// the queue is paused and empty, so nothing runs behind the queue until `resume()`.
    func pauseAndDrain() {
        precondition(tracksConsumers)
        pthread_mutex_lock(&mutex)
        paused = true
        while events > 0 || taken > 0 { pthread_cond_wait(&drained, &mutex) }
        pthread_mutex_unlock(&mutex)
    }

    /// Lets producers push again after `pauseAndDrain()`.
    func resume() {
        pthread_mutex_lock(&mutex)
        paused = false
        pthread_cond_broadcast(&notFull)
        pthread_cond_broadcast(&notEmpty)
        pthread_mutex_unlock(&mutex)
    }

    /// A consumer is done with what its last `pop` returned (`tracksConsumers`).
    func finished() {
        pthread_mutex_lock(&mutex)
        taken -= 1
        if taken == 0 && events == 0 { pthread_cond_broadcast(&drained) }
        pthread_mutex_unlock(&mutex)
    }

    /// Events waiting now.
    public var depth: Int {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return events
    }

    /// Adds a batch, waiting while the queue is full. Returns false if the queue was closed.
    /// An empty queue always takes a batch, so one batch larger than the limits cannot deadlock.
    @discardableResult
    public func push(_ batch: EventBatch, bytes size: Int) -> Bool {
        var batch = batch
        return push(moving: &batch, bytes: size)
    }

    /// Like `push(_:bytes:)`, but moves the batch in (leaving `batch` empty), so the consumer
    /// owns its events outright and can change them without copying.
    @discardableResult
    public func push(moving batch: inout EventBatch, bytes size: Int) -> Bool {
        guard !batch.isEmpty else { return true }
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        while !closed && (paused || events > 0 && (events + batch.count > maxEvents || bytes + size > maxBytes)) {
            pthread_cond_wait(&notFull, &mutex)
        }
        guard !closed else { return false }
        var moved = EventBatch()
        swap(&moved, &batch)
        moved.sequence = nextSequence
        nextSequence += 1
        events += moved.count
        bytes += size
        items.append((moved, size))
        pthread_cond_signal(&notEmpty)
        return true
    }

    /// The result of waiting for a batch.
    public enum Pop {
        case batch(EventBatch)
        case timedOut
        case closed
    }

    /// Takes the oldest batch, waiting at most `timeout` seconds (forever when nil).
    public func pop(timeout: Double? = nil) -> Pop {
        var batch = EventBatch()
        switch pop(into: &batch, timeout: timeout) {
        case .batch: return .batch(batch)
        case .timedOut: return .timedOut
        case .closed: return .closed
        }
    }

    /// What `pop(into:timeout:)` found.
    public enum PopStatus {
        case batch, timedOut, closed
    }

    /// Moves the oldest batch into `batch` (uniquely owned, so filters can change its events in
    /// place without copying), waiting at most `timeout` seconds (forever when nil).
    public func pop(into batch: inout EventBatch, timeout: Double? = nil) -> PopStatus {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        if head == items.count && !closed, let timeout {
            var deadline = timespec()
            clock_gettime(CLOCK_REALTIME, &deadline)
            let ns = deadline.tv_nsec + Int(timeout * 1e9)
            deadline.tv_sec += ns / 1_000_000_000
            deadline.tv_nsec = ns % 1_000_000_000
            while head == items.count && !closed {
                // Paused: no time-out, so no consumer works behind the queue until `resume()`.
                if paused {
                    pthread_cond_wait(&notEmpty, &mutex)
                } else if pthread_cond_timedwait(&notEmpty, &mutex, &deadline) == ETIMEDOUT {
                    break
                }
            }
        } else {
            while head == items.count && !closed { pthread_cond_wait(&notEmpty, &mutex) }
        }
        guard head < items.count else {
            if closed { return .closed }
            if tracksConsumers { taken += 1 }
            return .timedOut
        }
        if tracksConsumers { taken += 1 }
        batch = EventBatch()
        swap(&batch, &items[head].0)
        let size = items[head].1
        head += 1
        if head > 64 && head * 2 > items.count {
            items.removeFirst(head)
            head = 0
        }
        events -= batch.count
        bytes -= size
        pthread_cond_broadcast(&notFull)
        return .batch
    }

    /// No more batches will come; waiting consumers wake up and drain.
    public func close() {
        pthread_mutex_lock(&mutex)
        closed = true
        pthread_cond_broadcast(&notEmpty)
        pthread_cond_broadcast(&notFull)
        pthread_mutex_unlock(&mutex)
    }
}
