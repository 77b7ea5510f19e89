#if canImport(Glibc)
import Glibc
#endif
import DriftwoodCore

/// What to do with a bulk request once it has an answer: the delivery path's verdict, under the
/// names Vector's `sinks/elasticsearch/retry.rs` uses.
public typealias RetryAction = DeliveryVerdict
/// Why a request or an item failed.
public typealias BulkFailure = DeliveryFailure

extension DeliveryVerdict {
    /// Every item was accepted: 2xx, or 409 for a `create` whose id we chose (already there).
    public static var successful: DeliveryVerdict { .delivered }
    /// Some items were not accepted; the outcome of every item, in request order.
    public static func retryPartial(_ outcomes: [ItemOutcome]) -> DeliveryVerdict { .retryItems(outcomes) }
    /// Rejected for good (a single-item request that got 413 or 400): dead-letter its item.
    public static func dontRetry(_ failure: DeliveryFailure) -> DeliveryVerdict { .deadLetter(failure) }
}

/// The pure decision at the end of the output's chain: (answer, request) → `RetryAction`.
public enum ElasticsearchRetry {
    /// What came back for a request.
    public typealias Answer = HTTPAnswer

    /// Decides what to do with a request of `itemCount` items after `answer`.
    /// - Parameter idsAssigned: the documents carry ids we chose (fingerprint or template), so a
    ///   409 on `create` means the document is already there.
    public static func classify(_ answer: Answer, itemCount: Int, action: BulkAction, idsAssigned: Bool) -> RetryAction {
        let status: Int
        let body: [UInt8]
        switch answer {
        case .transport(let failure):
            return .retry(StatusVerdict.transportFailure(failure))
        case .http(let s, let b):
            status = s
            body = b
        }
        switch status {
        case 200..<300:
            return classifyItems(body, itemCount: itemCount, action: action, idsAssigned: idsAssigned)
        case 400, 413:
            let failure = errorOf(status: status, body: body)
            return itemCount > 1 ? .split(failure) : .dontRetry(failure)
        case 401, 403:
            var failure = errorOf(status: status, body: body)
            failure.persistent = true
            return .retry(failure)
        case 408, 429:
            return .retry(errorOf(status: status, body: body))
        case 500..<600:
            var failure = errorOf(status: status, body: body)
            failure.hostFault = true
            return .retry(failure)
        default:
            // 3xx, 404, 405, 406, …: a wrong URL, a proxy in the way, a server that is not
            // Elasticsearch. Not the documents' fault: keep them, wait long, say so loudly.
            var failure = errorOf(status: status, body: body)
            failure.persistent = true
            return .retry(failure)
        }
    }

    /// Why an index template PUT failed, or nil when it was accepted. A refused template (400:
    /// a bad file; 401/403) is persistent: no bulk request goes out until it is fixed, since
    /// documents indexed without it would get the wrong mappings for good.
    public static func classifyTemplate(_ answer: Answer) -> BulkFailure? {
        guard case .http(let status, let body) = answer else {
            if case .retry(let failure) = classify(answer, itemCount: 1, action: .index, idsAssigned: false) {
                return failure
            }
            return BulkFailure(status: nil, type: "transport_error", reason: "", hostFault: true)
        }
        if (200..<300).contains(status) { return nil }
        var failure = errorOf(status: status, body: body)
        switch status {
        case 408, 429: break
        case 500..<600: failure.hostFault = true
        default: failure.persistent = true
        }
        return failure
    }

    /// The outcome of one item with `status` (and its error's type and reason).
    public static func classifyItem(
        status: Int, type: String?, reason: String?, action: BulkAction, idsAssigned: Bool
    ) -> ItemOutcome {
        let failure = BulkFailure(status: status, type: type ?? "http_\(status)", reason: reason ?? "")
        switch status {
        case 200..<300:
            return .accepted
        case 409 where action == .create && idsAssigned:
            return .accepted  // the document with this id is already there: a resend after a crash or a retry
        case 408, 429, 500..<600:
            return .retry(failure)
        case 401, 403:
            // Security or cluster blocks (read-only index on a full disk): not the document's
            // fault, and they clear up once someone acts.
            var f = failure
            f.persistent = true
            return .retry(f)
        default:
            return .rejected(failure)
        }
    }

    /// A 2xx answer: `errors: false` is a success once it has one item per item sent (counted
    /// without parsing them); otherwise every item is read. An answer whose items do not match
    /// the request one for one is retried whole: an item it leaves out was not taken.
    static func classifyItems(_ body: [UInt8], itemCount: Int, action: BulkAction, idsAssigned: Bool) -> RetryAction {
        let badResponse = { (reason: String) in
            RetryAction.retry(BulkFailure(status: 200, type: "bad_response", reason: reason))
        }
        let mismatch = { (count: Int) in badResponse("the bulk response has \(count) items for \(itemCount) sent") }
        if leadingErrorsFlag(body) == false {
            guard let count = topLevelItemCount(body) else { return badResponse("the bulk response has no items") }
            return count == itemCount ? .successful : mismatch(count)
        }
        guard let root = JSONValue(json: String(decoding: body, as: UTF8.self)), root.kind == .object else {
            return badResponse("the bulk response is not a JSON object")
        }
        guard let items = root.member(Array("items".utf8)), items.kind == .array else {
            return badResponse("the bulk response has no items")
        }
        let elements = items.elements
        guard elements.count == itemCount else { return mismatch(elements.count) }
        if root.member(Array("errors".utf8))?.bool == false { return .successful }
        var outcomes: [ItemOutcome] = []
        outcomes.reserveCapacity(itemCount)
        var allAccepted = true
        for element in elements {
            // {"create":{"status":201}} or {"create":{"status":400,"error":{"type":…,"reason":…}}}
            guard let result = element.members.first?.value,
                let status = result.member(Array("status".utf8))?.integer
            else {
                return badResponse("a bulk response item has no status")
            }
            var type: String?
            var reason: String?
            if let error = result.member(Array("error".utf8)) {
                (type, reason) = describeError(error)
            }
            let outcome = classifyItem(
                status: Int(status), type: type, reason: reason, action: action, idsAssigned: idsAssigned)
            if outcome != .accepted { allAccepted = false }
            outcomes.append(outcome)
        }
        return allAccepted ? .successful : .retryPartial(outcomes)
    }

    /// The number of objects in the top-level `"items"` array, counted by a scan that skips
    /// strings and tracks depth (no values built); nil when the body has no such array.
    static func topLevelItemCount(_ body: [UInt8]) -> Int? {
        body.withUnsafeBufferPointer { b -> Int? in
            var depth = 0
            var i = 0
            var itemsDepth = -1
            var count = 0
            // 0: nothing; 1: the key "items" was read at depth 1; 2: and then its colon.
            var keyState = 0
            while i < b.count {
                let c = b[i]
                switch c {
                case UInt8(ascii: "\""):
                    let start = i + 1
                    i = closingQuote(b, from: start)
                    if depth == 1 && keyState == 0 && i - start == 5 && i <= b.count
                        && b[start] == UInt8(ascii: "i") && b[start + 1] == UInt8(ascii: "t") && b[start + 2] == UInt8(ascii: "e")
                        && b[start + 3] == UInt8(ascii: "m") && b[start + 4] == UInt8(ascii: "s")
                    {
                        keyState = 1
                    } else {
                        keyState = 0
                    }
                case UInt8(ascii: ":"):
                    keyState = keyState == 1 ? 2 : 0
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    if depth == itemsDepth && c == UInt8(ascii: "{") { count += 1 }
                    if depth == 1 && keyState == 2 && c == UInt8(ascii: "[") && itemsDepth < 0 { itemsDepth = 2 }
                    depth += 1
                    keyState = 0
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 1 && itemsDepth == 2 { return count }
                    keyState = 0
                case 0x20, 0x0A, 0x0D, 0x09:
                    break
                default:
                    keyState = 0
                }
                i += 1
            }
            return nil
        }
    }

    /// The index of the quote that ends the string whose content starts at `from` (`b.count`
    /// when it never ends): memchr to each quote, which ends the string unless an odd number of
    /// backslashes comes right before it. An answer is mostly strings (ids, index names), so
    /// this is most of the scan.
    @inline(__always)
    static func closingQuote(_ b: UnsafeBufferPointer<UInt8>, from: Int) -> Int {
        guard let base = b.baseAddress else { return b.count }
        var i = from
        while i < b.count {
            guard let hit = memchr(base + i, Int32(UInt8(ascii: "\"")), b.count - i) else { return b.count }
            let q = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
            var slashes = 0
            while q - 1 - slashes >= from && b[q - 1 - slashes] == UInt8(ascii: "\\") { slashes += 1 }
            if slashes % 2 == 0 { return q }
            i = q + 1
        }
        return b.count
    }

    /// The value of a top-level `"errors"` among the first members (`{"took":5,"errors":false,…`,
    /// `{"errors":true,…`), read without parsing the whole body; nil when it is not there.
    static func leadingErrorsFlag(_ body: [UInt8]) -> Bool? {
        var i = 0
        func skipSpace() { while i < body.count, body[i] == 0x20 || body[i] == 0x0A || body[i] == 0x0D || body[i] == 0x09 { i += 1 } }
        func literal(_ text: String) -> Bool {
            let bytes = Array(text.utf8)
            guard i + bytes.count <= body.count, body[i..<(i + bytes.count)].elementsEqual(bytes) else { return false }
            i += bytes.count
            return true
        }
        skipSpace()
        guard literal("{") else { return nil }
        for _ in 0..<2 {
            skipSpace()
            if literal(#""errors""#) {
                skipSpace()
                guard literal(":") else { return nil }
                skipSpace()
                if literal("false") { return false }
                if literal("true") { return true }
                return nil
            }
            guard literal(#""took""#) else { return nil }
            skipSpace()
            guard literal(":") else { return nil }
            skipSpace()
            while i < body.count, (0x30...0x39).contains(body[i]) { i += 1 }
            skipSpace()
            guard literal(",") else { return nil }
        }
        return nil
    }

    /// The error of a whole-request answer: `{"error":{"type":…,"reason":…},"status":429}`,
    /// `{"error":"…","status":406}`, or any other body.
    static func errorOf(status: Int, body: [UInt8]) -> BulkFailure {
        if let root = JSONValue(json: String(decoding: body, as: UTF8.self)), let error = root.member(Array("error".utf8)) {
            let (type, reason) = describeError(error)
            return BulkFailure(status: status, type: type ?? "http_\(status)", reason: reason ?? "")
        }
        return BulkFailure(status: status, type: "http_\(status)", reason: snippet(body))
    }

    /// Type and reason of an Elasticsearch error value (an object, or a plain string).
    static func describeError(_ error: JSONValue) -> (type: String?, reason: String?) {
        if let text = error.string { return (nil, text) }
        var reason = error.member(Array("reason".utf8))?.string
        if let cause = error.member(Array("caused_by".utf8)), let causeReason = cause.member(Array("reason".utf8))?.string {
            reason = (reason.map { $0 + ": " } ?? "") + causeReason
        }
        return (error.member(Array("type".utf8))?.string, reason)
    }

    /// The start of a body that is not JSON (an HTML error page from a proxy), on one line.
    static func snippet(_ body: [UInt8]) -> String { StatusVerdict.snippet(body) }
}
