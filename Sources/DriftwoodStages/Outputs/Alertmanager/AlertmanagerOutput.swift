import DriftwoodCore
import Synchronization

/// `type: alertmanager`: alert events to `/api/v2/alerts` of every URL listed (each URL has a
/// delivery path of its own, so one Alertmanager down does not hold the others), firing alerts
/// posted again every `resend_interval` while they fire. Other events are skipped.
public final class AlertmanagerOutput: Output, @unchecked Sendable {
    let encoder: AlertmanagerEncoder
    let deliveries: [HTTPDeliveryOutput]
    let resendNanoseconds: UInt64
    /// Firing alerts by their labels, with when each was last posted. Used by the output thread only.
    private var firing: [[UInt8]: (alert: [UInt8], sentAt: UInt64)] = [:]

    public init(config: AlertmanagerConfig, environment: StageEnvironment) {
        let encoder = AlertmanagerEncoder(labels: config.labels)
        self.encoder = encoder
        resendNanoseconds = UInt64(config.resendInterval.seconds * 1e9)
        deliveries = config.urls.enumerated().map { k, url in
            var env = environment
            // `/health` counts each event once: the first URL's deliveries.
            if k > 0 { env.health = OutputHealth(output: "\(environment.id)[\(k)]") }
            let deadLetters = config.deadLetterPath ?? "\(environment.dataDir)/dead_letter/\(environment.id)"
            let options = DeliveryOptions(
                endpoints: [url], batch: config.batch, concurrency: 1, retry: config.retry, gzip: false,
                compressionLevel: 1,
                connection: HTTPConnection.Settings(
                    connectTimeout: config.timeouts.connect, requestTimeout: config.timeouts.request, auth: config.auth,
                    tls: config.tls),
                deadLetterPath: config.deadLetterPath.map { k == 0 ? $0 : "\($0).\(k)" }
                    ?? (k == 0 ? "\(deadLetters).jsonl" : "\(deadLetters)-\(k).jsonl"))
            return HTTPDeliveryOutput(target: AlertmanagerTarget(encoder: encoder), options: options, environment: env)
        }
    }

    struct Alerts: EncodedPayload {
        let items: DeliveryItems
        var byteCount: Int { items.body.count + 64 }
    }

    public func encode(_ batch: consuming EventBatch) -> EventBatch {
        batch.eventCount = batch.events.count
        batch.encoded = Alerts(items: encoder.encode(batch.events))
        Recycler.recycle(&batch.events)
        return batch
    }

    public func write(_ batch: EventBatch) throws {
        let items = (batch.encoded as? Alerts)?.items ?? encoder.encode(batch.events)
        let now = monotonicNow()
        for i in 0..<items.count { track(Array(items.body[items.range(of: i)]), now: now) }
        // Each URL owes its own delivery of the batch.
        batch.acknowledgement?.add(deliveries.count - 1)
        for delivery in deliveries {
            delivery.submit(DeliveryChunk(items: items, gzip: []), acknowledgement: batch.acknowledgement, events: batch.count)
        }
        resendDue(now: now)
    }

    public func flush() throws {
        resendDue(now: monotonicNow())
        for delivery in deliveries { try delivery.flush() }
    }

    public func close() throws {
        for delivery in deliveries { try delivery.close() }
    }

    /// Remembers a firing alert (by its labels), forgets a resolved one.
    private func track(_ alert: [UInt8], now: UInt64) {
        guard let value = JSONValue(json: String(decoding: alert, as: UTF8.self)),
            let labels = value.member(Array("labels".utf8))?.json
        else { return }
        if value.member(Array("endsAt".utf8)) != nil {
            firing[labels] = nil
        } else {
            firing[labels] = (alert, now)
        }
    }

    /// Posts again every firing alert not posted for `resend_interval` (nobody waits on these).
    private func resendDue(now: UInt64) {
        var items = DeliveryItems()
        for (labels, entry) in firing where now >= entry.sentAt + resendNanoseconds {
            items.append { $0 += entry.alert }
            firing[labels] = (entry.alert, now)
        }
        guard items.count > 0 else { return }
        for delivery in deliveries {
            delivery.submit(DeliveryChunk(items: items, gzip: []), acknowledgement: nil, events: 0)
        }
    }
}

/// Requests and verdicts of the `alertmanager` output: a JSON array of alerts POSTed to
/// `/api/v2/alerts`; the status says the rest (400: a malformed alert, dead-lettered).
struct AlertmanagerTarget: DeliveryTarget {
    let encoder: AlertmanagerEncoder
    var serverName: String { "Alertmanager" }
    var framing: DeliveryFraming { .jsonArray }
    func encode(_ events: [Event]) -> DeliveryItems { encoder.encode(events) }
    func request(base: String) -> (method: HTTPConnection.Method, url: String) { (.post, base + "/api/v2/alerts") }
    func classify(_ answer: HTTPAnswer, itemCount: Int) -> DeliveryVerdict {
        StatusVerdict.classify(answer, itemCount: itemCount)
    }
}
