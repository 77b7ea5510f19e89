#if canImport(Glibc)
import Glibc
#endif
import DriftwoodCore
import Logging

/// The sending end of the chain: sender threads take requests, send them over their own
/// connection, classify the answer and act on it (accept, retry, split, dead-letter).
extension HTTPDeliveryOutput {
    func runSender() {
        let connection = HTTPConnection(settings: options.connection)
        var buffers = SendBuffers()
        pthread_mutex_lock(&mutex)
        while true {
            if preparation == .needed && !stopping {
                preparation = .running
                pthread_mutex_unlock(&mutex)
                let prepared = target.prepare(connection, delivery: self)
                pthread_mutex_lock(&mutex)
                preparation = prepared ? .done : .needed
                pthread_cond_broadcast(&work)
                continue
            }
            if stopping { break }
            if preparation == .done, let request = takeRequest(now: monotonicNow()) {
                inFlight += 1
                pthread_mutex_unlock(&mutex)
                send(request, on: connection, buffers: &buffers)
                pthread_mutex_lock(&mutex)
                inFlight -= 1
                pthread_cond_broadcast(&progress)
                continue
            }
            wait(&work, until: preparation == .done ? nextWake() : nil)
        }
        sendersRunning -= 1
        pthread_cond_broadcast(&progress)
        pthread_mutex_unlock(&mutex)
    }

    /// A sender's reusable body buffers.
    struct SendBuffers {
        var plain: [UInt8] = []
        var wire: [UInt8] = []
    }

    /// Sends one request and acts on the answer.
    func send(_ request: DeliveryRequest, on connection: HTTPConnection, buffers: inout SendBuffers) {
        let gzip = options.gzip
        buffers.wire.removeAll(keepingCapacity: true)
        if gzip && request.isWholeGzipChunks {
            for part in request.parts { buffers.wire.append(contentsOf: part.chunk.gzip) }
        } else if gzip {
            buffers.plain.removeAll(keepingCapacity: true)
            request.appendBody(to: &buffers.plain, framing: target.framing)
            Gzip.append(buffers.plain, level: options.compressionLevel, to: &buffers.wire)
        } else {
            request.appendBody(to: &buffers.wire, framing: target.framing)
        }
        let host = withLock { hosts.pick(now: monotonicNow()) }
        let (method, url) = target.request(base: options.endpoints[host])
        let started = monotonicNow()
        let result = buffers.wire.withUnsafeBytes {
            connection.send(
                method, url: url, body: $0, contentType: target.contentType, gzip: gzip,
                maxAnswerBytes: target.maxAnswerBytes(itemCount: request.itemCount))
        }
        metrics.request(nanoseconds: Int64(monotonicNow() - started))
        metrics.sent(bytes: buffers.wire.count, gzip: gzip)
        let answer = HTTPAnswer(result)
        target.observe(answer, health: health)
        let verdict = target.classify(answer, itemCount: request.itemCount)
        if case .retry(let failure) = verdict, failure.hostFault {
            hostFailed(host, failure)
        } else {
            withLock { hosts.succeeded(host) }
        }
        handle(verdict, for: request, host: host)
    }

    func handle(_ verdict: DeliveryVerdict, for request: DeliveryRequest, host: Int) {
        switch verdict {
        case .delivered:
            for part in request.parts { part.chunk.resolve(part.count) }
        case .retry(let failure):
            retryLater(request, failure, host: host)
        case .split(let failure):
            let (first, second) = request.halves()
            logger.warning(
                "\(target.serverName) refused a \(target.requestName) as a whole; sending it again in two halves",
                metadata: describe(failure, host: host, ["documents": "\(request.itemCount)"]))
            withLock {
                ready.insert(contentsOf: [first, second].filter { !$0.isEmpty }, at: 0)
                pthread_cond_broadcast(&work)
            }
        case .deadLetter(let failure):
            var items: [(DeliveryChunk, Int, DeliveryFailure)] = []
            request.forEachItem { items.append(($0, $1, failure)) }
            deadLetter(items, attempts: request.attempts)
        case .retryItems(let outcomes):
            var retry: [(DeliveryChunk, Int)] = []
            var rejected: [(DeliveryChunk, Int, DeliveryFailure)] = []
            var firstRetry: DeliveryFailure?
            var k = 0
            request.forEachItem { chunk, i in
                switch outcomes[k] {
                case .accepted:
                    chunk.resolve(1)
                case .retry(let failure):
                    retry.append((chunk, i))
                    if firstRetry == nil || failure.persistent { firstRetry = failure }
                case .rejected(let failure):
                    rejected.append((chunk, i, failure))
                }
                k += 1
            }
            if !rejected.isEmpty { deadLetter(rejected, attempts: request.attempts) }
            if let firstRetry {
                logger.warning(
                    "\(target.serverName) did not take every document; retrying those",
                    metadata: describe(firstRetry, host: host, ["documents": "\(retry.count)"]))
                retryLater(DeliveryRequest(items: retry, attempts: request.attempts), firstRetry, host: host, quiet: true)
            }
        }
    }

    /// Schedules the request again after a backoff, or dead-letters it once `retry.max_attempts`
    /// is reached.
    func retryLater(_ request: DeliveryRequest, _ failure: DeliveryFailure, host: Int, quiet: Bool = false) {
        var request = request
        request.attempts += 1
        if let maxAttempts = options.retry.maxAttempts, request.attempts >= maxAttempts {
            var final = failure
            final.reason = "gave up after \(request.attempts) attempts: " + failure.reason
            var items: [(DeliveryChunk, Int, DeliveryFailure)] = []
            request.forEachItem { items.append(($0, $1, final)) }
            deadLetter(items, attempts: request.attempts)
            return
        }
        let delay = failure.persistent ? options.retry.backoff.maximum : options.retry.backoff.delay(attempt: request.attempts)
        request.due = monotonicNow() + UInt64(delay.seconds * 1e9)
        metrics.retried()
        health.failed("\(failure) (\(options.endpoints[host]))")
        if failure.persistent {
            logger.error(
                "\(target.serverName) refused the request; retrying",
                metadata: describe(
                    failure, host: host,
                    ["documents": "\(request.itemCount)", "attempt": "\(request.attempts)", "retry_in": "\(ConfigUnits.describe(delay))"]))
        } else if !quiet {
            logger.warning(
                "\(target.requestName) failed; retrying",
                metadata: describe(
                    failure, host: host,
                    ["documents": "\(request.itemCount)", "attempt": "\(request.attempts)", "retry_in": "\(ConfigUnits.describe(delay))"]))
        }
        withLock {
            delayed.append(request)
            pthread_cond_broadcast(&work)
        }
    }

    /// Writes rejected documents to the dead-letter file; they count as delivered once written.
    func deadLetter(_ items: [(DeliveryChunk, Int, DeliveryFailure)], attempts: Int) {
        guard !items.isEmpty else { return }
        let now = Timestamp.now()
        var lines: [UInt8] = []
        for (chunk, i, failure) in items {
            lines += target.deadLetterRecord(chunk.items, i, failure: failure, at: now)
        }
        do {
            try deadLetters.append(lines)
        } catch {
            // Nothing may be lost: keep the documents and try the whole way again later.
            logger.error(
                "cannot write the dead-letter file; keeping the documents",
                metadata: ["path": "\(deadLetters.path)", "error": "\(error)"])
            health.failed("cannot write the dead-letter file \(deadLetters.path): \(error)")
            var request = DeliveryRequest(items: items.map { ($0.0, $0.1) }, attempts: 0)
            request.due = monotonicNow() + UInt64(options.retry.backoff.maximum.seconds * 1e9)
            withLock {
                delayed.append(request)
                pthread_cond_broadcast(&work)
            }
            return
        }
        for (chunk, _, _) in items { chunk.resolve(1) }
        metrics.deadLettered(items.count)
        health.deadLettered(items.count)
        let first = items[0].2
        var metadata: Logger.Metadata = [
            "documents": "\(items.count)", "path": "\(deadLetters.path)", "type": "\(first.type)",
            "reason": "\(first.reason)",
        ]
        if let status = first.status { metadata["status"] = "\(status)" }
        logger.warning("documents rejected by \(target.serverName) went to the dead-letter file", metadata: metadata)
    }

    func hostFailed(_ host: Int, _ failure: DeliveryFailure) {
        let pause = withLock { hosts.failed(host, now: monotonicNow()) }
        if let pause {
            logger.warning(
                "host sits out", metadata: describe(failure, host: host, ["for": "\(ConfigUnits.describe(pause))"]))
        }
    }

    func describe(_ failure: DeliveryFailure, host: Int, _ extra: Logger.Metadata = [:]) -> Logger.Metadata {
        var metadata = extra
        metadata["host"] = "\(options.endpoints[host])"
        metadata["type"] = "\(failure.type)"
        if !failure.reason.isEmpty { metadata["reason"] = "\(failure.reason)" }
        if let status = failure.status { metadata["status"] = "\(status)" }
        return metadata
    }

    // MARK: For `DeliveryTarget.prepare`

    /// The endpoint the next request goes to.
    public func pickEndpoint() -> Int { withLock { hosts.pick(now: monotonicNow()) } }

    /// The endpoint answered.
    public func endpointSucceeded(_ host: Int) { withLock { hosts.succeeded(host) } }

    /// Waits until `delay` has passed; true when the output stopped first.
    public func pause(_ delay: Duration) -> Bool {
        let deadline = monotonicNow() + UInt64(delay.seconds * 1e9)
        return withLock { () -> Bool in
            while !stopping && monotonicNow() < deadline { wait(&work, until: deadline) }
            return stopping
        }
    }
}

extension HTTPAnswer {
    init(_ result: Result<HTTPConnection.Response, TransportFailure>) {
        switch result {
        case .success(let response): self = .http(status: response.status, body: response.body)
        case .failure(let failure): self = .transport(failure)
        }
    }
}
