#if canImport(Glibc)
import Glibc
#endif
import DriftwoodCore
import Foundation
import Logging

/// The delivery path every HTTP output shares, as a chain:
/// batch (`write`, by `batch.*`) → encode (`DeliveryTarget.encode`, pure, on a filter worker) →
/// compress (libdeflate, on the filter worker too) → send (`HTTPConnection`, one sender thread and
/// one persistent connection per request in flight) → classify the answer
/// (`DeliveryTarget.classify`, pure) → accept, retry (whole, or only the failed items) with
/// full-jitter backoff, split, or dead-letter.
///
/// A pipeline batch's acknowledgement is settled once each of its events is accepted or has a
/// line in the dead-letter file, exactly once. Memory is bounded: `write` blocks while
/// `concurrency` requests are out and one more is full and waiting, which fills the engine's
/// queues and stops the inputs — however long the server is away.
public class HTTPDeliveryOutput: Output, @unchecked Sendable {
    let target: any DeliveryTarget
    let options: DeliveryOptions
    let logger: Logger
    let deadLetters: DeadLetterFile
    let metrics: OutputMetrics
    /// Deliveries (items accepted or dead-lettered) and retried failures, for `/health`.
    let health: OutputHealth
    let timeoutNanoseconds: UInt64
    /// `batch.idle` (at most the timeout).
    let idleNanoseconds: UInt64

    // Guarded by `mutex` (here and in HTTPDelivery+Sending.swift).
    var mutex = pthread_mutex_t()
    /// Senders wait here for work.
    var work = pthread_cond_t()
    /// `write` and `close` wait here for requests to finish.
    var progress = pthread_cond_t()
    /// The request being filled.
    var pending = DeliveryRequest()
    var pendingSince: UInt64 = 0
    /// When the last chunk went into `pending`.
    var pendingAdded: UInt64 = 0
    /// Full requests, oldest first.
    var ready: [DeliveryRequest] = []
    /// Retries waiting for their backoff to pass.
    var delayed: [DeliveryRequest] = []
    var inFlight = 0
    var closing = false
    var stopping = false
    var preparation: Preparation = .needed
    var hosts: HostPool
    var sendersRunning = 0

    /// `DeliveryTarget.prepare`: not yet run, running on one sender, done.
    enum Preparation { case needed, running, done }

    public init(target: any DeliveryTarget, options: DeliveryOptions, environment: StageEnvironment) {
        self.target = target
        self.options = options
        logger = environment.logger
        deadLetters = DeadLetterFile(path: options.deadLetterPath)
        metrics = OutputMetrics(output: environment.id)
        health = environment.health ?? OutputHealth(output: environment.id)
        timeoutNanoseconds = UInt64(options.batch.timeout.seconds * 1e9)
        idleNanoseconds = min(timeoutNanoseconds, UInt64(options.batch.idle.seconds * 1e9))
        hosts = HostPool(count: options.endpoints.count, backoff: options.retry.backoff)
        pthread_mutex_init(&mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(&work, &attributes)
        pthread_cond_init(&progress, &attributes)
        pthread_condattr_destroy(&attributes)
        sendersRunning = options.concurrency
        for k in 0..<options.concurrency {
            let thread = Thread { [self] in runSender() }
            thread.name = "output \(environment.id) sender \(k)"
            thread.stackSize = 4 << 20
            thread.start()
        }
    }

    // MARK: Output

    /// Encodes and compresses the batch on the filter worker, so the output thread only batches.
    public func encode(_ batch: consuming EventBatch) -> EventBatch {
        batch.encoded = EncodedDelivery(chunk: makeChunk(batch.events))
        batch.eventCount = batch.events.count
        // The events are in the body now: hand their buffers back to the inputs.
        Recycler.recycle(&batch.events)
        return batch
    }

    public var usesFingerprints: Bool { options.usesFingerprints }

    /// Returns once the events are queued for a request; they are settled when the server has
    /// taken them (`DeliveryChunk.resolve`), and counted as delivered then.
    public func write(_ batch: EventBatch) throws {
        let chunk = (batch.encoded as? EncodedDelivery)?.chunk ?? makeChunk(batch.events)
        submit(chunk, acknowledgement: batch.acknowledgement, events: batch.count)
    }

    /// Queues the chunk's items for requests; `acknowledgement` (owing one delivery) is settled
    /// once every item is accepted or dead-lettered. Events of the batch that made no item (an
    /// output that takes only some events) count as delivered at once.
    func submit(_ chunk: DeliveryChunk, acknowledgement: Acknowledgement?, events: Int) {
        if events > chunk.count { health.delivered(events - chunk.count) }
        guard chunk.count > 0 else {
            acknowledgement?.settle(1)
            return
        }
        chunk.acknowledgement = acknowledgement
        // Items sent again on the output's own account (no events behind them) are not deliveries.
        chunk.health = events > 0 ? health : nil
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        add(chunk)
        // Backpressure: `concurrency` requests out (sending or waiting to retry) and one more
        // full one waiting is all this output holds; the engine's queues take the rest.
        while !stopping && ready.count + delayed.count + inFlight > options.concurrency {
            pthread_cond_wait(&progress, &mutex)
        }
    }

    public func flush() throws {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        if !pending.isEmpty && isDue(now: monotonicNow()) { seal() }
    }

    /// Sends what is left and waits until every event is delivered or dead-lettered.
    public func close() throws {
        pthread_mutex_lock(&mutex)
        closing = true
        if !pending.isEmpty { seal() }
        pthread_cond_broadcast(&work)
        while !(ready.isEmpty && delayed.isEmpty && inFlight == 0 && pending.isEmpty) {
            pthread_cond_wait(&progress, &mutex)
        }
        stopping = true
        pthread_cond_broadcast(&work)
        while sendersRunning > 0 { pthread_cond_wait(&progress, &mutex) }
        pthread_mutex_unlock(&mutex)
        deadLetters.close()
    }

    func makeChunk(_ events: [Event]) -> DeliveryChunk {
        let items = target.encode(events)
        // Members sent back to back only make a body when the items are (NDJSON).
        let ahead = options.gzip && items.count > 0 && target.framing.isConcatenated
        return DeliveryChunk(items: items, gzip: ahead ? Gzip.member(items.body, level: options.compressionLevel) : [])
    }

    // MARK: Batching (under `mutex`)

    /// Adds a chunk to the request being filled, cutting requests by `batch.max_events` and
    /// `batch.max_bytes`. Chunks stay whole when they fit, so their gzip members can be sent as they are.
    private func add(_ chunk: DeliveryChunk) {
        let maxEvents = options.batch.maxEvents
        let maxBytes = options.batch.maxBytes
        func fits() -> Bool { pending.itemCount + chunk.count <= maxEvents && pending.bytes + chunk.byteCount <= maxBytes }
        if !pending.isEmpty && !fits() { seal() }
        pendingAdded = monotonicNow()
        if fits() {
            if pending.isEmpty {
                pendingSince = pendingAdded
                // A sender must arm its `batch.timeout` timer for the new request.
                pthread_cond_signal(&work)
            }
            pending.append(chunk)
        } else {
            // The chunk alone is over a limit: cut it into runs of items (at least one each).
            var start = 0
            while start < chunk.count {
                var end = start
                var bytes = 0
                while end < chunk.count && end - start < maxEvents {
                    let size = chunk.items.range(of: end).count
                    if end > start && bytes + size > maxBytes { break }
                    bytes += size
                    end += 1
                }
                pendingSince = pendingAdded
                pthread_cond_signal(&work)
                pending.append(chunk, end - start == chunk.count ? .all : .range(start..<end))
                start = end
                if start < chunk.count { seal() }
            }
        }
        if pending.itemCount >= maxEvents || pending.bytes >= maxBytes { seal() }
    }

    /// The request being filled is complete: a sender may take it.
    private func seal() {
        guard !pending.isEmpty else { return }
        ready.append(pending)
        pending = DeliveryRequest()
        pthread_cond_signal(&work)
    }

    /// The request being filled may go out: its first event has waited `batch.timeout`, or no
    /// event has come for `batch.idle`.
    @inline(__always)
    func isDue(now: UInt64) -> Bool {
        now >= pendingSince + timeoutNanoseconds || now >= pendingAdded + idleNanoseconds
    }

    /// The next request to send now: a retry whose time has come, a full request, or the one
    /// being filled once it is due (`isDue`, or the output is closing).
    func takeRequest(now: UInt64) -> DeliveryRequest? {
        if let k = delayed.indices.filter({ delayed[$0].due <= now }).min(by: { delayed[$0].due < delayed[$1].due }) {
            return delayed.remove(at: k)
        }
        if !ready.isEmpty { return ready.removeFirst() }
        if !pending.isEmpty && (closing || isDue(now: now)) {
            let request = pending
            pending = DeliveryRequest()
            return request
        }
        return nil
    }

    /// When a sender with nothing to do must look again.
    func nextWake() -> UInt64? {
        var wake = delayed.map(\.due).min()
        if !pending.isEmpty {
            wake = min(wake ?? .max, pendingSince + timeoutNanoseconds, pendingAdded + idleNanoseconds)
        }
        return wake
    }

    // MARK: Locking and time

    public func withLock<R>(_ body: () -> R) -> R {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return body()
    }

    /// Waits on `condition` (with `mutex` held) until signalled or until `deadline` (monotonic ns).
    func wait(_ condition: UnsafeMutablePointer<pthread_cond_t>, until deadline: UInt64?) {
        guard let deadline else {
            pthread_cond_wait(condition, &mutex)
            return
        }
        var ts = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
        pthread_cond_timedwait(condition, &mutex, &ts)
    }
}

/// Nanoseconds on the monotonic clock.
@inline(__always)
func monotonicNow() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}
