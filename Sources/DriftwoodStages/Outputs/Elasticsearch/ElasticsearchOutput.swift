import DriftwoodCore
import Foundation
import Logging

/// Ships events to Elasticsearch as `_bulk` requests on the delivery path every HTTP output
/// shares (`HTTPDeliveryOutput`): `BulkEncoder` makes the items, `ElasticsearchRetry` reads the
/// answers, and an index template is installed before the first bulk request.
///
/// A pipeline batch's acknowledgement is settled once each of its events got 2xx, 409 on a
/// `create` with our id (already there), or a line in the dead-letter file.
public final class ElasticsearchOutput: HTTPDeliveryOutput, @unchecked Sendable {
    public init(config: ElasticsearchConfig, environment: StageEnvironment) {
        let usesFingerprints: Bool
        if case .auto = config.documentID { usesFingerprints = false } else { usesFingerprints = true }
        let options = DeliveryOptions(
            endpoints: config.hosts.map(\.baseURL), batch: config.batch, concurrency: config.concurrency,
            retry: config.retry, gzip: config.gzip, compressionLevel: config.compressionLevel,
            connection: HTTPConnection.Settings(
                connectTimeout: config.timeouts.connect, requestTimeout: config.timeouts.request, auth: config.auth,
                tls: config.tls),
            deadLetterPath: config.deadLetterFile(dataDir: environment.dataDir, outputID: environment.id),
            // Ids derive from origins unless Elasticsearch picks them (`document_id: auto`); a
            // template id falls back to the fingerprint when its field is missing.
            usesFingerprints: usesFingerprints)
        super.init(target: ElasticsearchTarget(config: config), options: options, environment: environment)
    }
}

/// What Elasticsearch needs of the delivery path: `_bulk` items, the `_bulk` path, the reading
/// of its answers, dead-letter lines that say where each document was going, and the template.
struct ElasticsearchTarget: DeliveryTarget {
    let config: ElasticsearchConfig
    let encoder: BulkEncoder
    /// `/_bulk`, or `/<index>/_bulk` for a constant index, with `filter_path`.
    let bulkPath: String
    /// Ids are ours (fingerprint or template): a 409 on `create` means "already there".
    let idsAssigned: Bool

    init(config: ElasticsearchConfig) {
        self.config = config
        encoder = BulkEncoder(config: config)
        bulkPath = encoder.bulkPath
        if case .auto = config.documentID { idsAssigned = false } else { idsAssigned = true }
    }

    var serverName: String { "Elasticsearch" }
    var requestName: String { "bulk request" }
    var contentType: HTTPConnection.ContentType { .ndjson }

    func encode(_ events: [Event]) -> DeliveryItems { encoder.encode(events) }

    func request(base: String) -> (method: HTTPConnection.Method, url: String) { (.post, base + bulkPath) }

    /// With `filter_path` an item's answer is `{"create":{"status":201}}`, or its error's type
    /// and reason: 64 KiB plus 2 KiB an item is far more than an honest answer needs, and keeps a
    /// lying one (hundreds of MiB) out of memory.
    func maxAnswerBytes(itemCount: Int) -> Int { (64 << 10) + itemCount * 2048 }

    func classify(_ answer: HTTPAnswer, itemCount: Int) -> DeliveryVerdict {
        ElasticsearchRetry.classify(answer, itemCount: itemCount, action: config.action, idsAssigned: idsAssigned)
    }

    /// Documents already there (409 on `create` with our ids), counted for `/health`.
    func observe(_ answer: HTTPAnswer, health: OutputHealth) {
        if idsAssigned, config.action == .create, case .http(200..<300, let body) = answer {
            health.alreadyPresent(AlreadyPresent.count(in: body))
        }
    }

    func deadLetterRecord(_ items: DeliveryItems, _ i: Int, failure: DeliveryFailure, at time: Timestamp) -> [UInt8] {
        DeadLetterFile.record(
            source: items.source(of: i), actionLine: items.actionLine(of: i), failure: failure, at: time,
            index: config.index.isConstant ? config.index.source : nil)
    }

    /// PUTs the index template, retrying until it is accepted; false when the output stops first.
    func prepare(_ connection: HTTPConnection, delivery: HTTPDeliveryOutput) -> Bool {
        guard let template = config.template else { return true }
        var attempt = 0
        while true {
            let host = delivery.pickEndpoint()
            let url = config.hosts[host].baseURL + "/_index_template/" + template.name
            let result = template.body.withUnsafeBytes { connection.send(.put, url: url, body: $0, contentType: .json) }
            guard let failure = ElasticsearchRetry.classifyTemplate(HTTPAnswer(result)) else {
                delivery.endpointSucceeded(host)
                delivery.logger.info(
                    "index template installed",
                    metadata: ["template": "\(template.name)", "file": "\(template.file)", "host": "\(config.hosts[host].baseURL)"])
                return true
            }
            if failure.hostFault { delivery.hostFailed(host, failure) }
            delivery.health.failed("index template: \(failure) (\(config.hosts[host].baseURL))")
            attempt += 1
            let delay = failure.persistent ? config.retry.backoff.maximum : config.retry.backoff.delay(attempt: attempt)
            let metadata = delivery.describe(
                failure, host: host,
                ["template": "\(template.name)", "attempt": "\(attempt)", "retry_in": "\(ConfigUnits.describe(delay))"])
            if failure.persistent {
                delivery.logger.error(
                    "the index template was refused; no bulk request goes out until it is installed", metadata: metadata)
            } else {
                delivery.logger.warning("could not install the index template; retrying", metadata: metadata)
            }
            if delivery.pause(delay) { return false }
        }
    }
}

/// The delivery path's types under the names the Elasticsearch tests and docs use.
typealias BulkChunk = DeliveryChunk
typealias BulkRequest = DeliveryRequest
typealias BulkGzip = Gzip

extension DeadLetterFile {
    /// The dead-letter line (with its newline) for one rejected `_bulk` item, with
    /// `elasticsearch.action`, `.index` and `.id` from its action line.
    /// - Parameters:
    ///   - source: the event's JSON as sent.
    ///   - actionLine: the item's action line, `{"create":{"_index":…,"_id":…}}`.
    ///   - index: the index when the action line leaves it out (it was in the request path).
    static func record(
        source: ArraySlice<UInt8>, actionLine: ArraySlice<UInt8>, failure: BulkFailure, at time: Timestamp,
        index pathIndex: String? = nil
    ) -> [UInt8] {
        var destination: [UInt8] = []
        if let action = JSONValue(json: String(decoding: actionLine, as: UTF8.self))?.members.first {
            destination.append(contentsOf: #","elasticsearch":{"action":"#.utf8)
            JSONWriter.appendString(action.key, to: &destination)
            if let index = action.value.member(Array("_index".utf8)) {
                destination.append(contentsOf: #","index":"#.utf8)
                index.appendJSON(to: &destination)
            } else if let pathIndex {
                destination.append(contentsOf: #","index":"#.utf8)
                JSONWriter.appendString(pathIndex, to: &destination)
            }
            if let id = action.value.member(Array("_id".utf8)) {
                destination.append(contentsOf: #","id":"#.utf8)
                id.appendJSON(to: &destination)
            }
            destination.append(UInt8(ascii: "}"))
        }
        return record(source: source, failure: failure, at: time, destination: destination)
    }
}
