import DriftwoodCore

/// `type: http` on the delivery path: the events as NDJSON, a JSON array or one JSON object a
/// request; 2xx delivered; 408, 429, 5xx and connection errors retried; 401/403 retried and
/// logged every time; 413 split; other 4xx dead-lettered with the status and the answer's start.
public final class HTTPOutput: HTTPDeliveryOutput, @unchecked Sendable {
    public init(config: HTTPConfig, environment: StageEnvironment) {
        var headers = config.headers
        // A Content-Type of the user's replaces the encoding's.
        let custom = headers.firstIndex { $0.lowercased().hasPrefix("content-type:") }
        let contentType = custom.map { HTTPConnection.ContentType(String(headers.remove(at: $0).dropFirst(13)).trimmed()) }
        let options = DeliveryOptions(
            endpoints: [config.url], batch: config.batch, concurrency: config.concurrency, retry: config.retry,
            gzip: config.gzip, compressionLevel: config.compressionLevel,
            connection: HTTPConnection.Settings(
                connectTimeout: config.timeouts.connect, requestTimeout: config.timeouts.request, auth: config.auth,
                tls: config.tls, headers: headers),
            deadLetterPath: config.deadLetterPath ?? "\(environment.dataDir)/dead_letter/\(environment.id).jsonl")
        let target = HTTPTarget(
            url: config.url, method: config.method, encoding: config.encoding,
            contentType: contentType ?? (config.encoding == .ndjson ? .ndjson : .json))
        super.init(target: target, options: options, environment: environment)
    }
}

/// Encoding and verdict of the `http` output, pure.
struct HTTPTarget: DeliveryTarget {
    let url: String
    let method: HTTPConnection.Method
    let encoding: HTTPConfig.Encoding
    let contentType: HTTPConnection.ContentType

    var serverName: String { "the HTTP endpoint" }
    var framing: DeliveryFraming { encoding == .jsonArray ? .jsonArray : .concatenated }

    /// One item an event: its compact JSON, with a newline for NDJSON.
    func encode(_ events: [Event]) -> DeliveryItems {
        var items = DeliveryItems()
        items.offsets.reserveCapacity(events.count + 1)
        for event in events {
            items.append { body in
                event.fields.write(to: &body)
                if encoding == .ndjson { body.append(0x0A) }
            }
        }
        return items
    }

    func request(base: String) -> (method: HTTPConnection.Method, url: String) { (method, url) }

    func classify(_ answer: HTTPAnswer, itemCount: Int) -> DeliveryVerdict {
        StatusVerdict.classify(answer, itemCount: itemCount)
    }

    func deadLetterRecord(_ items: DeliveryItems, _ i: Int, failure: DeliveryFailure, at time: Timestamp) -> [UInt8] {
        var destination = Array(#","url":"#.utf8)
        JSONWriter.appendString(url, to: &destination)
        return DeadLetterFile.record(
            source: items.body[items.range(of: i)].trimmingNewline(), failure: failure, at: time, destination: destination)
    }
}

extension String {
    fileprivate func trimmed() -> String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
