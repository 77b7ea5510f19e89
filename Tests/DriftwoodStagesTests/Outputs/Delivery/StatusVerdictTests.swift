import DriftwoodCore
import Testing

@testable import DriftwoodStages

/// The status policy of webhook-like outputs as a table: (answer, items) → verdict.
@Suite struct StatusVerdictTests {
    static func http(_ status: Int, _ body: String = "") -> HTTPAnswer { .http(status: status, body: Array(body.utf8)) }
    static func failure(_ status: Int?, _ type: String, _ reason: String, persistent: Bool = false, hostFault: Bool = false)
        -> DeliveryFailure
    {
        DeliveryFailure(status: status, type: type, reason: reason, persistent: persistent, hostFault: hostFault)
    }

    @Test func statusPolicy() {
        let rows: [(HTTPAnswer, Int, DeliveryVerdict)] = [
            (Self.http(200), 3, .delivered),
            (Self.http(204), 3, .delivered),
            (Self.http(408), 3, .retry(Self.failure(408, "http_408", ""))),
            (Self.http(429, "slow down"), 3, .retry(Self.failure(429, "http_429", "slow down"))),
            (Self.http(503, "<html>\n busy </html>"), 3, .retry(Self.failure(503, "http_503", "<html> busy </html>", hostFault: true))),
            (Self.http(401), 3, .retry(Self.failure(401, "http_401", "", persistent: true))),
            (Self.http(403), 1, .retry(Self.failure(403, "http_403", "", persistent: true))),
            (Self.http(413), 3, .split(Self.failure(413, "http_413", ""))),
            (Self.http(413), 1, .deadLetter(Self.failure(413, "http_413", ""))),
            (Self.http(400, "bad"), 3, .deadLetter(Self.failure(400, "http_400", "bad"))),
            (Self.http(404), 3, .deadLetter(Self.failure(404, "http_404", ""))),
            (Self.http(302), 3, .retry(Self.failure(302, "http_302", "", persistent: true))),
            (.transport(TransportFailure(kind: .connection, message: "refused")), 3,
             .retry(Self.failure(nil, "connection_failed", "refused", hostFault: true))),
            (.transport(TransportFailure(kind: .timeout, message: "t")), 3, .retry(Self.failure(nil, "timeout", "t", hostFault: true))),
        ]
        for (answer, items, expected) in rows {
            #expect(StatusVerdict.classify(answer, itemCount: items) == expected, "\(answer)")
        }
    }

    @Test func httpItemsAreFramedByTheEncoding() throws {
        let events = try (0..<3).map { Event(fields: try Fields(json: #"{"n":\#($0)}"#)) }
        for (encoding, framing, body) in [
            (HTTPConfig.Encoding.ndjson, DeliveryFraming.concatenated, "{\"n\":0}\n{\"n\":1}\n{\"n\":2}\n"),
            (.jsonArray, .jsonArray, #"[{"n":0},{"n":1},{"n":2}]"#),
        ] {
            let target = HTTPTarget(url: "http://x/i", method: .post, encoding: encoding, contentType: .json)
            let chunk = DeliveryChunk(items: target.encode(events), gzip: [])
            var request = DeliveryRequest()
            request.append(chunk)
            var out: [UInt8] = []
            request.appendBody(to: &out, framing: target.framing)
            #expect(String(decoding: out, as: UTF8.self) == body)
            #expect(target.framing == framing)
        }
    }

    @Test func aDeadLetterKeepsTheEventTheStatusAndTheURL() throws {
        let target = HTTPTarget(url: "http://x/i", method: .post, encoding: .ndjson, contentType: .ndjson)
        let items = target.encode([Event(fields: try Fields(json: #"{"n":7}"#))])
        let line = target.deadLetterRecord(
            items, 0, failure: DeliveryFailure(status: 400, type: "http_400", reason: "no"), at: Timestamp(epochMilliseconds: 0))
        let json = String(decoding: line, as: UTF8.self)
        #expect(
            json
                == #"{"@timestamp":"1970-01-01T00:00:00.000Z","error":{"type":"http_400","reason":"no"},"http":{"response":{"status_code":400}},"url":"http://x/i","event":{"original":"{\"n\":7}"}}"#
                + "\n")
    }

    @Test func alertsAreEncodedForAlertmanager() throws {
        let encoder = AlertmanagerEncoder(labels: [("severity", "warning"), ("feature", "overridden")])
        let alert = try Fields(
            json: #"{"@timestamp":"2026-11-24T10:00:00.000Z","event":{"kind":"alert"},"message":"m","alert":{"type":"HIGH_LATENCY","state":"resolved","metric":"p95","value":120.5,"threshold":100,"group":"fraud"}}"#)
        let other = try Fields(json: #"{"event":{"kind":"metric"},"alert":{"type":"x"}}"#)
        let items = encoder.encode([Event(fields: other), Event(fields: alert)])
        #expect(items.count == 1)
        #expect(
            String(decoding: items.body, as: UTF8.self)
                == #"{"labels":{"alertname":"HIGH_LATENCY","model":"fraud","metric":"p95","source":"driftwood","severity":"warning","feature":"overridden"},"annotations":{"summary":"m","value":"120.5","threshold":"100"},"startsAt":"2026-11-24T10:00:00.000Z","endsAt":"2026-11-24T10:00:00.000Z"}"#)
    }

    @Test func reportsBecomeMLflowMetrics() throws {
        let encoder = MLflowEncoder(experiment: try Template("prod-%{drift.group}"))
        let report = try #require(
            encoder.report(
                try Fields(
                    json: #"{"@timestamp":"2026-11-24T10:00:00.000Z","event":{"kind":"metric"},"drift":{"group":"fraud","max":0.3,"detected":true,"features":{"a b":0.1,"é":0.2},"distributions":{"p":{"edges":[1]}}},"model_version":"2"}"#)))
        #expect(report.experiment == "prod-fraud" && report.runKey == "fraud@2")
        #expect(report.metrics.map(\.0) == ["drift.max", "drift.features.a b", "drift.features._"])
        #expect(report.metrics.map(\.1) == [0.3, 0.1, 0.2])
        #expect(report.timestampMilliseconds == Timestamp(iso8601: "2026-11-24T10:00:00.000Z")!.epochMilliseconds)
        #expect(encoder.report(try Fields(json: #"{"event":{"kind":"alert"},"drift":{"group":"g"}}"#)) == nil)
    }
}
