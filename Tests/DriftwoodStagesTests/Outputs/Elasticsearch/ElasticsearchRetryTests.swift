import Testing

@testable import DriftwoodStages

/// The classifier as a table: (answer, request) → what to do.
@Suite struct ElasticsearchRetryTests {
    typealias Answer = ElasticsearchRetry.Answer

    static func http(_ status: Int, _ body: String = "") -> Answer { .http(status: status, body: Array(body.utf8)) }

    static func items(_ entries: [String], errors: Bool = true) -> Answer {
        http(200, #"{"took":3,"errors":\#(errors),"items":[\#(entries.joined(separator: ","))]}"#)
    }

    static func item(_ status: Int, _ action: String = "create", type: String? = nil, reason: String? = nil) -> String {
        guard let type else { return #"{"\#(action)":{"_index":"a","_id":"x","status":\#(status)}}"# }
        return #"{"\#(action)":{"_index":"a","_id":"x","status":\#(status),"error":{"type":"\#(type)","reason":"\#(reason ?? "")"}}}"#
    }

    static let rejected429 = item(429, type: "es_rejected_execution_exception", reason: "queue full")
    static let mapping400 = item(400, type: "mapper_parsing_exception", reason: "failed to parse field [x]")

    struct Row: CustomTestStringConvertible {
        let name: String
        let answer: Answer
        var itemCount = 2
        var action = BulkAction.create
        var idsAssigned = true
        let expected: RetryAction
        var testDescription: String { name }
    }

    static func failure(
        _ status: Int?, _ type: String, _ reason: String, persistent: Bool = false, hostFault: Bool = false
    ) -> BulkFailure {
        BulkFailure(status: status, type: type, reason: reason, persistent: persistent, hostFault: hostFault)
    }

    static let rows: [Row] = [
        Row(name: "200 errors:false", answer: items([item(201), item(201)], errors: false), expected: .successful),
        Row(
            name: "200 errors:false, filter_path answer",
            answer: http(200, #"{"errors":false,"items":[{"create":{"status":201}},{"create":{"status":201}}]}"#),
            expected: .successful),
        Row(
            name: "200 errors:false after other keys", answer: http(200, #"{"items":[{},{}],"errors":false}"#),
            expected: .successful),
        // A 200 that leaves items out has not said they were taken (a lossy proxy): retried whole.
        Row(
            name: "200 errors:false with fewer items than sent", answer: http(200, #"{"errors":false,"items":[{"create":{"status":201}}]}"#),
            expected: .retry(failure(200, "bad_response", "the bulk response has 1 items for 2 sent"))),
        Row(
            name: "200 errors:false without items", answer: http(200, #"{"took":1,"errors":false}"#),
            expected: .retry(failure(200, "bad_response", "the bulk response has no items"))),
        Row(
            name: "200 errors:false, items after other keys",
            answer: http(200, #"{"took":1,"errors":false,"x":{"items":[{}]},"items":[{"index":{"status":201,"_id":"a{b[\"c"}},{"index":{"status":201}}]}"#),
            action: .index, expected: .successful),
        Row(
            name: "409 on create with our ids is delivered",
            answer: items([item(201), item(409, type: "version_conflict_engine_exception", reason: "exists")]),
            expected: .successful),
        Row(
            name: "409 with auto ids is a rejection",
            answer: items([item(201), item(409, type: "version_conflict_engine_exception", reason: "exists")]),
            idsAssigned: false,
            expected: .retryPartial([
                .accepted, .rejected(failure(409, "version_conflict_engine_exception", "exists")),
            ])),
        Row(
            name: "409 on index is a rejection",
            answer: items([item(409, "index", type: "version_conflict_engine_exception", reason: "v"), item(200, "index")]),
            action: .index,
            expected: .retryPartial([.rejected(failure(409, "version_conflict_engine_exception", "v")), .accepted])),
        Row(
            name: "item 429 retried, item 400 dead-lettered", answer: items([rejected429, mapping400]),
            expected: .retryPartial([
                .retry(failure(429, "es_rejected_execution_exception", "queue full")),
                .rejected(failure(400, "mapper_parsing_exception", "failed to parse field [x]")),
            ])),
        Row(
            name: "item 503 retried", answer: items([item(201), item(503, type: "unavailable_shards_exception", reason: "r")]),
            expected: .retryPartial([.accepted, .retry(failure(503, "unavailable_shards_exception", "r"))])),
        Row(
            name: "item 403 cluster block waits long",
            answer: items([item(403, type: "cluster_block_exception", reason: "read-only"), item(201)]),
            expected: .retryPartial([
                .retry(failure(403, "cluster_block_exception", "read-only", persistent: true)), .accepted,
            ])),
        Row(
            name: "item 404 dead-lettered", answer: items([item(404, type: "index_not_found_exception", reason: "no"), item(201)]),
            expected: .retryPartial([.rejected(failure(404, "index_not_found_exception", "no")), .accepted])),
        Row(
            name: "item error with caused_by",
            answer: items([
                #"{"create":{"status":400,"error":{"type":"mapper_parsing_exception","reason":"failed","caused_by":{"type":"number_format_exception","reason":"bad number"}}}}"#,
                item(201),
            ]),
            expected: .retryPartial([.rejected(failure(400, "mapper_parsing_exception", "failed: bad number")), .accepted])),
        Row(
            name: "fewer items than sent", answer: items([item(201)]),
            expected: .retry(failure(200, "bad_response", "the bulk response has 1 items for 2 sent"))),
        Row(
            name: "not JSON", answer: http(200, "<html>"),
            expected: .retry(failure(200, "bad_response", "the bulk response is not a JSON object"))),
        Row(
            name: "429 whole request",
            answer: http(429, #"{"error":{"type":"es_rejected_execution_exception","reason":"rejected"},"status":429}"#),
            expected: .retry(failure(429, "es_rejected_execution_exception", "rejected"))),
        Row(
            name: "503 whole request", answer: http(503, "Service Unavailable"),
            expected: .retry(failure(503, "http_503", "Service Unavailable", hostFault: true))),
        Row(
            name: "500 whole request",
            answer: http(500, #"{"error":{"type":"illegal_state_exception","reason":"boom"},"status":500}"#),
            expected: .retry(failure(500, "illegal_state_exception", "boom", hostFault: true))),
        Row(
            name: "401 waits the longest backoff",
            answer: http(401, #"{"error":{"type":"security_exception","reason":"missing authentication credentials"},"status":401}"#),
            expected: .retry(failure(401, "security_exception", "missing authentication credentials", persistent: true))),
        Row(
            name: "403 waits the longest backoff",
            answer: http(403, #"{"error":{"type":"security_exception","reason":"action [indices:data/write/bulk] is unauthorized"},"status":403}"#),
            expected: .retry(
                failure(403, "security_exception", "action [indices:data/write/bulk] is unauthorized", persistent: true))),
        Row(
            name: "413 splits", answer: http(413, ""),
            expected: .split(failure(413, "http_413", ""))),
        Row(
            name: "413 on one item is final", answer: http(413, ""), itemCount: 1,
            expected: .dontRetry(failure(413, "http_413", ""))),
        Row(
            name: "400 whole request bisects",
            answer: http(400, #"{"error":{"type":"illegal_argument_exception","reason":"Malformed action/metadata line [3]"},"status":400}"#),
            expected: .split(failure(400, "illegal_argument_exception", "Malformed action/metadata line [3]"))),
        Row(
            name: "406 (wrong content type) is a configuration problem",
            answer: http(406, #"{"error":"Content-Type header [x] is not supported","status":406}"#),
            expected: .retry(failure(406, "http_406", "Content-Type header [x] is not supported", persistent: true))),
        Row(
            name: "404 (wrong path prefix) is a configuration problem", answer: http(404, "no handler"),
            expected: .retry(failure(404, "http_404", "no handler", persistent: true))),
        Row(
            name: "connection refused",
            answer: .transport(TransportFailure(kind: .connection, message: "Couldn't connect to server")),
            expected: .retry(failure(nil, "connection_failed", "Couldn't connect to server", hostFault: true))),
        Row(
            name: "timeout", answer: .transport(TransportFailure(kind: .timeout, message: "Timeout was reached")),
            expected: .retry(failure(nil, "timeout", "Timeout was reached", hostFault: true))),
        Row(
            name: "dropped connection",
            answer: .transport(TransportFailure(kind: .other, message: "Server returned nothing (no headers, no data)")),
            expected: .retry(failure(nil, "transport_error", "Server returned nothing (no headers, no data)", hostFault: true))),
        Row(
            name: "bad certificate", answer: .transport(TransportFailure(kind: .tls, message: "SSL peer certificate")),
            expected: .retry(failure(nil, "tls_error", "SSL peer certificate", persistent: true, hostFault: true))),
    ]

    @Test(arguments: rows)
    func classifies(_ row: Row) {
        let action = ElasticsearchRetry.classify(
            row.answer, itemCount: row.itemCount, action: row.action, idsAssigned: row.idsAssigned)
        #expect(action == row.expected)
    }

    @Test func leadingErrorsFlagReadsOnlyTheStart() {
        #expect(ElasticsearchRetry.leadingErrorsFlag(Array(#"{"took":12,"errors":false,"items":[]}"#.utf8)) == false)
        #expect(ElasticsearchRetry.leadingErrorsFlag(Array(#" { "errors" : true , "items":[]}"#.utf8)) == true)
        #expect(ElasticsearchRetry.leadingErrorsFlag(Array(#"{"items":[{"errors":false}]}"#.utf8)) == nil)
        #expect(ElasticsearchRetry.leadingErrorsFlag(Array("".utf8)) == nil)
    }

    @Test func itemsAreCountedPastEscapedQuotesAndBackslashes() {
        func count(_ text: String) -> Int? { ElasticsearchRetry.topLevelItemCount(Array(text.utf8)) }
        // Ids that hold what a scan could take for structure: an escaped quote, a brace, a
        // backslash right before the closing quote, a key named "items" inside an item.
        #expect(count(#"{"errors":false,"items":[{"index":{"_id":"a\"{[b","status":201}},{"index":{"_id":"c\\\\","status":201}},{"index":{"_id":"items","items":[{}],"status":201}}]}"#) == 3)
        #expect(count(#"{"took":1,"errors":false,"items":[]}"#) == 0)
        #expect(count(#"{"took":1,"errors":false,"items":[{"index":{"_id":"never ends}"#) == nil)
        #expect(count(#"{"took":1,"errors":false}"#) == nil)
        #expect(AlreadyPresent.count(in: Array(#"{"took":3,"errors":false,"items":[{"create":{"status":409}}]}"#.utf8)) == 0)
        #expect(AlreadyPresent.count(in: Array(#"{"items":[{"create":{"status":409}},{"create":{"status":201}}],"errors":true}"#.utf8)) == 1)
    }

    @Test func templateAnswers() {
        #expect(ElasticsearchRetry.classifyTemplate(Self.http(200, #"{"acknowledged":true}"#)) == nil)
        let bad = ElasticsearchRetry.classifyTemplate(
            Self.http(400, #"{"error":{"type":"x_content_parse_exception","reason":"[1:2] unknown field [bogus]"},"status":400}"#))
        #expect(bad?.persistent == true && bad?.type == "x_content_parse_exception")
        #expect(ElasticsearchRetry.classifyTemplate(Self.http(503))?.persistent == false)
        #expect(ElasticsearchRetry.classifyTemplate(Self.http(503))?.hostFault == true)
        let down = ElasticsearchRetry.classifyTemplate(.transport(TransportFailure(kind: .connection, message: "refused")))
        #expect(down?.type == "connection_failed" && down?.persistent == false)
    }
}
