#if canImport(Glibc)
import Glibc
#endif
import DriftwoodCore
import Foundation
import Logging

/// Ships events to Elasticsearch as `_bulk` requests, as a chain:
/// batch (`write`, by `batch.*`) → encode (`BulkEncoder`, pure, on a filter worker) → compress
/// (libdeflate, on the filter worker too) → send (`HTTPConnection`, one sender thread and one
/// persistent connection per request in flight) → classify the answer (`ElasticsearchRetry`,
/// pure) → accept, retry (whole, or only the failed items), split, or dead-letter.
///
/// A pipeline batch's acknowledgement is settled once each of its events got 2xx, 409 on a
/// `create` with our id (already there), or a line in the dead-letter file. Memory is bounded:
/// `write` blocks while `concurrency` requests are out and one more is full and waiting, which
/// fills the engine's queues and stops the inputs — however long Elasticsearch is away.
public final class ElasticsearchOutput: Output, @unchecked Sendable {
    let config: ElasticsearchConfig
    let encoder: BulkEncoder
    let logger: Logger
    let deadLetters: DeadLetterFile
    let metrics: OutputMetrics
    /// Deliveries (items accepted or dead-lettered) and retried failures, for `/health`.
    let health: OutputHealth
    /// Ids are ours (fingerprint or template): a 409 on `create` means "already there".
    let idsAssigned: Bool
    let settings: HTTPConnection.Settings
    let timeoutNanoseconds: UInt64

    /// `/_bulk`, or `/<index>/_bulk` for a constant index, with `filter_path`.
    let bulkPath: String

    // Guarded by `mutex` (here and in ElasticsearchOutput+Sending.swift).
    var mutex = pthread_mutex_t()
    /// Senders wait here for work.
    var work = pthread_cond_t()
    /// `write` and `close` wait here for requests to finish.
    var progress = pthread_cond_t()
    /// The request being filled.
    var pending = BulkRequest()
    var pendingSince: UInt64 = 0
    /// Full requests, oldest first.
    var ready: [BulkRequest] = []
    /// Retries waiting for their backoff to pass.
    var delayed: [BulkRequest] = []
    var inFlight = 0
    var closing = false
    var stopping = false
    var templateState: TemplateState
    var hosts: HostPool
    var sendersRunning = 0

    enum TemplateState { case needed, installing, installed }

    public init(config: ElasticsearchConfig, environment: StageEnvironment) {
        self.config = config
        encoder = BulkEncoder(config: config)
        bulkPath = encoder.bulkPath
        logger = environment.logger
        deadLetters = DeadLetterFile(path: config.deadLetterFile(dataDir: environment.dataDir, outputID: environment.id))
        metrics = OutputMetrics(output: environment.id)
        health = environment.health ?? OutputHealth(output: environment.id)
        if case .auto = config.documentID { idsAssigned = false } else { idsAssigned = true }
        settings = HTTPConnection.Settings(
            connectTimeout: config.timeouts.connect, requestTimeout: config.timeouts.request, auth: config.auth,
            tls: config.tls)
        timeoutNanoseconds = UInt64(config.batch.timeout.seconds * 1e9)
        templateState = config.template == nil ? .installed : .needed
        hosts = HostPool(count: config.hosts.count, backoff: config.retry.backoff)
        pthread_mutex_init(&mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(&work, &attributes)
        pthread_cond_init(&progress, &attributes)
        pthread_condattr_destroy(&attributes)
        sendersRunning = config.concurrency
        for k in 0..<config.concurrency {
            let thread = Thread { [self] in runSender() }
            thread.name = "output \(environment.id) sender \(k)"
            thread.stackSize = 4 << 20
            thread.start()
        }
    }

    // MARK: Output

    /// Encodes and compresses the batch on the filter worker, so the output thread only batches.
    public func encode(_ batch: consuming EventBatch) -> EventBatch {
        batch.encoded = EncodedBulk(chunk: makeChunk(batch.events))
        batch.eventCount = batch.events.count
        // The events are in the body now: hand their buffers back to the inputs.
        Recycler.recycle(&batch.events)
        return batch
    }

    /// `write` returns once the events are queued for a request; they are delivered when
    /// Elasticsearch answers (`BulkChunk.resolve`).
    public var reportsDeliveries: Bool { true }

    /// Ids derive from origins unless Elasticsearch picks them (`document_id: auto`); a template
    /// id falls back to the fingerprint when its field is missing.
    public var usesFingerprints: Bool {
        if case .auto = config.documentID { return false }
        return true
    }

    public func write(_ batch: EventBatch) throws {
        let chunk = (batch.encoded as? EncodedBulk)?.chunk ?? makeChunk(batch.events)
        guard chunk.count > 0 else {
            batch.acknowledgement?.settle(1)
            return
        }
        chunk.acknowledgement = batch.acknowledgement
        chunk.health = health
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        add(chunk)
        // Backpressure: `concurrency` requests out (sending or waiting to retry) and one more
        // full one waiting is all this output holds; the engine's queues take the rest.
        while !stopping && ready.count + delayed.count + inFlight > config.concurrency {
            pthread_cond_wait(&progress, &mutex)
        }
    }

    public func flush() throws {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        if !pending.isEmpty && monotonicNow() >= pendingSince + timeoutNanoseconds { seal() }
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

    func makeChunk(_ events: [Event]) -> BulkChunk {
        let items = encoder.encode(events)
        let gzip = config.gzip && items.count > 0 ? BulkGzip.member(items.body, level: config.compressionLevel) : []
        return BulkChunk(items: items, gzip: gzip)
    }

    // MARK: Batching (under `mutex`)

    /// Adds a chunk to the request being filled, cutting requests by `batch.max_events` and
    /// `batch.max_bytes`. Chunks stay whole when they fit, so their gzip members can be sent as they are.
    private func add(_ chunk: BulkChunk) {
        let maxEvents = config.batch.maxEvents
        let maxBytes = config.batch.maxBytes
        func fits() -> Bool { pending.itemCount + chunk.count <= maxEvents && pending.bytes + chunk.byteCount <= maxBytes }
        if !pending.isEmpty && !fits() { seal() }
        if fits() {
            if pending.isEmpty {
                pendingSince = monotonicNow()
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
                pendingSince = monotonicNow()
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
        pending = BulkRequest()
        pthread_cond_signal(&work)
    }

    /// The next request to send now: a retry whose time has come, a full request, or the one
    /// being filled once `batch.timeout` has passed (or the output is closing).
    func takeRequest(now: UInt64) -> BulkRequest? {
        if let k = delayed.indices.filter({ delayed[$0].due <= now }).min(by: { delayed[$0].due < delayed[$1].due }) {
            return delayed.remove(at: k)
        }
        if !ready.isEmpty { return ready.removeFirst() }
        if !pending.isEmpty && (closing || now >= pendingSince + timeoutNanoseconds) {
            let request = pending
            pending = BulkRequest()
            return request
        }
        return nil
    }

    /// When a sender with nothing to do must look again.
    func nextWake() -> UInt64? {
        var wake = delayed.map(\.due).min()
        if !pending.isEmpty { wake = min(wake ?? .max, pendingSince + timeoutNanoseconds) }
        return wake
    }

    // MARK: Locking and time

    func withLock<R>(_ body: () -> R) -> R {
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
