#if canImport(Glibc)
import Glibc
#endif
import DriftwoodCore
import Logging

/// The sending end of the chain: sender threads take requests, send them over their own
/// connection, classify the answer and act on it (accept, retry, split, dead-letter).
extension ElasticsearchOutput {
    func runSender() {
        let connection = HTTPConnection(settings: settings)
        var buffers = SendBuffers()
        pthread_mutex_lock(&mutex)
        while true {
            if templateState == .needed && !stopping {
                templateState = .installing
                pthread_mutex_unlock(&mutex)
                let installed = installTemplate(connection)
                pthread_mutex_lock(&mutex)
                templateState = installed ? .installed : .needed
                pthread_cond_broadcast(&work)
                continue
            }
            if stopping { break }
            if templateState == .installed, let request = takeRequest(now: monotonicNow()) {
                inFlight += 1
                pthread_mutex_unlock(&mutex)
                send(request, on: connection, buffers: &buffers)
                pthread_mutex_lock(&mutex)
                inFlight -= 1
                pthread_cond_broadcast(&progress)
                continue
            }
            wait(&work, until: templateState == .installed ? nextWake() : nil)
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
    func send(_ request: BulkRequest, on connection: HTTPConnection, buffers: inout SendBuffers) {
        buffers.wire.removeAll(keepingCapacity: true)
        if config.gzip && request.isWholeGzipChunks {
            for part in request.parts { buffers.wire.append(contentsOf: part.chunk.gzip) }
        } else if config.gzip {
            buffers.plain.removeAll(keepingCapacity: true)
            request.appendBody(to: &buffers.plain)
            BulkGzip.append(buffers.plain, level: config.compressionLevel, to: &buffers.wire)
        } else {
            request.appendBody(to: &buffers.wire)
        }
        let host = withLock { hosts.pick(now: monotonicNow()) }
        let url = config.hosts[host].baseURL + bulkPath
        let started = monotonicNow()
        let result = buffers.wire.withUnsafeBytes {
            connection.send(.post, url: url, body: $0, contentType: .ndjson, gzip: config.gzip)
        }
        metrics.request(nanoseconds: Int64(monotonicNow() - started))
        metrics.sent(bytes: buffers.wire.count, gzip: config.gzip)
        let answer: ElasticsearchRetry.Answer
        switch result {
        case .success(let response): answer = .http(status: response.status, body: response.body)
        case .failure(let failure): answer = .transport(failure)
        }
        let action = ElasticsearchRetry.classify(
            answer, itemCount: request.itemCount, action: config.action, idsAssigned: idsAssigned)
        if idsAssigned, config.action == .create, case .http(200..<300, let body) = answer {
            health.alreadyPresent(AlreadyPresent.count(in: body))
        }
        if case .retry(let failure) = action, failure.hostFault {
            hostFailed(host, failure)
        } else {
            withLock { hosts.succeeded(host) }
        }
        handle(action, for: request, host: host)
    }

    func handle(_ action: RetryAction, for request: BulkRequest, host: Int) {
        switch action {
        case .successful:
            for part in request.parts { part.chunk.resolve(part.count) }
        case .retry(let failure):
            retryLater(request, failure, host: host)
        case .split(let failure):
            let (first, second) = request.halves()
            logger.warning(
                "Elasticsearch refused a bulk request as a whole; sending it again in two halves",
                metadata: describe(failure, host: host, ["documents": "\(request.itemCount)"]))
            withLock {
                ready.insert(contentsOf: [first, second].filter { !$0.isEmpty }, at: 0)
                pthread_cond_broadcast(&work)
            }
        case .dontRetry(let failure):
            var items: [(BulkChunk, Int, BulkFailure)] = []
            request.forEachItem { items.append(($0, $1, failure)) }
            deadLetter(items, attempts: request.attempts)
        case .retryPartial(let outcomes):
            var retry: [(BulkChunk, Int)] = []
            var rejected: [(BulkChunk, Int, BulkFailure)] = []
            var firstRetry: BulkFailure?
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
                    "Elasticsearch did not take every document; retrying those",
                    metadata: describe(firstRetry, host: host, ["documents": "\(retry.count)"]))
                retryLater(BulkRequest(items: retry, attempts: request.attempts), firstRetry, host: host, quiet: true)
            }
        }
    }

    /// Schedules the request again after a backoff, or dead-letters it once `retry.max_attempts`
    /// is reached.
    func retryLater(_ request: BulkRequest, _ failure: BulkFailure, host: Int, quiet: Bool = false) {
        var request = request
        request.attempts += 1
        if let maxAttempts = config.retry.maxAttempts, request.attempts >= maxAttempts {
            var final = failure
            final.reason = "gave up after \(request.attempts) attempts: " + failure.reason
            var items: [(BulkChunk, Int, BulkFailure)] = []
            request.forEachItem { items.append(($0, $1, final)) }
            deadLetter(items, attempts: request.attempts)
            return
        }
        let delay = failure.persistent ? config.retry.backoff.maximum : config.retry.backoff.delay(attempt: request.attempts)
        request.due = monotonicNow() + UInt64(delay.seconds * 1e9)
        metrics.retried()
        health.failed("\(failure) (\(config.hosts[host].baseURL))")
        if failure.persistent {
            logger.error(
                "Elasticsearch refused the request; retrying",
                metadata: describe(
                    failure, host: host,
                    ["documents": "\(request.itemCount)", "attempt": "\(request.attempts)", "retry_in": "\(ConfigUnits.describe(delay))"]))
        } else if !quiet {
            logger.warning(
                "bulk request failed; retrying",
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
    func deadLetter(_ items: [(BulkChunk, Int, BulkFailure)], attempts: Int) {
        guard !items.isEmpty else { return }
        let now = Timestamp.now()
        var lines: [UInt8] = []
        for (chunk, i, failure) in items {
            lines += DeadLetterFile.record(
                source: chunk.items.source(of: i), actionLine: chunk.items.actionLine(of: i), failure: failure, at: now,
                index: config.index.isConstant ? config.index.source : nil)
        }
        do {
            try deadLetters.append(lines)
        } catch {
            // Nothing may be lost: keep the documents and try the whole way again later.
            logger.error(
                "cannot write the dead-letter file; keeping the documents",
                metadata: ["path": "\(deadLetters.path)", "error": "\(error)"])
            health.failed("cannot write the dead-letter file \(deadLetters.path): \(error)")
            var request = BulkRequest(items: items.map { ($0.0, $0.1) }, attempts: 0)
            request.due = monotonicNow() + UInt64(config.retry.backoff.maximum.seconds * 1e9)
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
        logger.warning("documents rejected by Elasticsearch went to the dead-letter file", metadata: metadata)
    }

    func hostFailed(_ host: Int, _ failure: BulkFailure) {
        let pause = withLock { hosts.failed(host, now: monotonicNow()) }
        if let pause {
            logger.warning(
                "host sits out", metadata: describe(failure, host: host, ["for": "\(ConfigUnits.describe(pause))"]))
        }
    }

    func describe(_ failure: BulkFailure, host: Int, _ extra: Logger.Metadata = [:]) -> Logger.Metadata {
        var metadata = extra
        metadata["host"] = "\(config.hosts[host].baseURL)"
        metadata["type"] = "\(failure.type)"
        if !failure.reason.isEmpty { metadata["reason"] = "\(failure.reason)" }
        if let status = failure.status { metadata["status"] = "\(status)" }
        return metadata
    }

    // MARK: Index template

    /// PUTs the index template, retrying until it is accepted; false when the output stops first.
    func installTemplate(_ connection: HTTPConnection) -> Bool {
        guard let template = config.template else { return true }
        var attempt = 0
        while true {
            let host = withLock { hosts.pick(now: monotonicNow()) }
            let url = config.hosts[host].baseURL + "/_index_template/" + template.name
            let result = template.body.withUnsafeBytes { connection.send(.put, url: url, body: $0, contentType: .json) }
            let answer: ElasticsearchRetry.Answer
            switch result {
            case .success(let response): answer = .http(status: response.status, body: response.body)
            case .failure(let failure): answer = .transport(failure)
            }
            guard let failure = ElasticsearchRetry.classifyTemplate(answer) else {
                withLock { hosts.succeeded(host) }
                logger.info(
                    "index template installed",
                    metadata: ["template": "\(template.name)", "file": "\(template.file)", "host": "\(config.hosts[host].baseURL)"])
                return true
            }
            if failure.hostFault { hostFailed(host, failure) }
            health.failed("index template: \(failure) (\(config.hosts[host].baseURL))")
            attempt += 1
            let delay = failure.persistent ? config.retry.backoff.maximum : config.retry.backoff.delay(attempt: attempt)
            let metadata = describe(
                failure, host: host,
                ["template": "\(template.name)", "attempt": "\(attempt)", "retry_in": "\(ConfigUnits.describe(delay))"])
            if failure.persistent {
                logger.error("the index template was refused; no bulk request goes out until it is installed", metadata: metadata)
            } else {
                logger.warning("could not install the index template; retrying", metadata: metadata)
            }
            let deadline = monotonicNow() + UInt64(delay.seconds * 1e9)
            let stopped = withLock { () -> Bool in
                while !stopping && monotonicNow() < deadline { wait(&work, until: deadline) }
                return stopping
            }
            if stopped { return false }
        }
    }
}
