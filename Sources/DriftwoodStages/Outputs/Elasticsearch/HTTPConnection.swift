import CCurl

/// One persistent HTTP client over a libcurl easy handle: the handle keeps its connections
/// alive between requests (and TLS sessions), so a sender thread pays the handshake once per
/// host. Blocking; used by one thread at a time.
final class HTTPConnection {
    /// How every request of this connection is made.
    struct Settings: Sendable {
        var connectTimeout: Duration
        var requestTimeout: Duration
        var auth: ElasticsearchConfig.Auth?
        var tls: ElasticsearchConfig.TLS
    }

    /// The request body's media type.
    enum ContentType {
        /// `application/x-ndjson` (`_bulk`). Not the ES 8 compatibility type
        /// `application/vnd.elasticsearch+x-ndjson`, which OpenSearch-compatible servers refuse.
        case ndjson
        case json
    }

    enum Method: String {
        case post = "POST"
        case put = "PUT"
        case get = "GET"
    }

    struct Response {
        var status: Int
        var body: [UInt8]
    }

    /// Answers larger than this are cut off as a failure: a bulk answer is a few bytes an item.
    static let maxResponseBytes = 256 << 20

    private let handle: UnsafeMutableRawPointer
    private let errorBuffer: UnsafeMutablePointer<CChar>
    private let sink = ResponseSink()
    /// Header lists by (content type, gzip); built once, the API key inside them.
    private var headerLists: [UnsafeMutablePointer<curl_slist>?] = []

    /// libcurl's global state, set up once before the first handle (not thread-safe by itself).
    private static let globalInit: Void = { _ = curl_global_init(Int(CURL_GLOBAL_ALL)) }()

    init(settings: Settings) {
        _ = Self.globalInit
        handle = curl_easy_init()!
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        CCurl_setoptLong(handle, CURLOPT_NOSIGNAL, 1)  // threads: no SIGALRM for timeouts
        CCurl_setoptLong(handle, CURLOPT_TCP_KEEPALIVE, 1)
        CCurl_setoptLong(handle, CURLOPT_TCP_NODELAY, 1)
        CCurl_setoptLong(handle, CURLOPT_CONNECTTIMEOUT_MS, Self.milliseconds(settings.connectTimeout))
        CCurl_setoptLong(handle, CURLOPT_TIMEOUT_MS, Self.milliseconds(settings.requestTimeout))
        CCurl_setoptPointer(handle, CURLOPT_ERRORBUFFER, errorBuffer)
        CCurl_setoptString(handle, CURLOPT_USERAGENT, "driftwood")
        // No proxy from the environment (http_proxy & co): requests go where `hosts` says.
        CCurl_setoptString(handle, CURLOPT_PROXY, "")
        CCurl_setoptWriteFunction(handle, Self.writeCallback)
        CCurl_setoptPointer(handle, CURLOPT_WRITEDATA, Unmanaged.passUnretained(sink).toOpaque())
        if let caFile = settings.tls.caFile { CCurl_setoptString(handle, CURLOPT_CAINFO, caFile) }
        CCurl_setoptLong(handle, CURLOPT_SSL_VERIFYPEER, settings.tls.verify ? 1 : 0)
        CCurl_setoptLong(handle, CURLOPT_SSL_VERIFYHOST, settings.tls.verify ? 2 : 0)
        var authorization: String?
        switch settings.auth {
        case .basic(let username, let password):
            // CURLAUTH_BASIC is libcurl's default: sent with the first request.
            CCurl_setoptString(handle, CURLOPT_USERNAME, username)
            CCurl_setoptString(handle, CURLOPT_PASSWORD, password)
        case .apiKey(let key):
            authorization = "Authorization: ApiKey \(key)"
        case nil:
            break
        }
        for contentType in ["application/x-ndjson", "application/json"] {
            for gzip in [false, true] {
                // "Expect:" turns off `Expect: 100-continue`, a round trip per request.
                var lines = ["Content-Type: \(contentType)", "Expect:"]
                if gzip { lines.append("Content-Encoding: gzip") }
                if let authorization { lines.append(authorization) }
                var list: UnsafeMutablePointer<curl_slist>?
                for line in lines { list = curl_slist_append(list, line) }
                headerLists.append(list)
            }
        }
    }

    deinit {
        curl_easy_cleanup(handle)
        for list in headerLists { curl_slist_free_all(list) }
        errorBuffer.deallocate()
    }

    /// Sends one request and waits for the whole answer.
    func send(
        _ method: Method, url: String, body: UnsafeRawBufferPointer, contentType: ContentType = .json, gzip: Bool = false
    ) -> Result<Response, TransportFailure> {
        sink.reset()
        errorBuffer[0] = 0
        CCurl_setoptString(handle, CURLOPT_URL, url)
        switch method {
        case .get:
            CCurl_setoptLong(handle, CURLOPT_HTTPGET, 1)
            CCurl_setoptString(handle, CURLOPT_CUSTOMREQUEST, nil)
        case .post, .put:
            CCurl_setoptLong(handle, CURLOPT_POST, 1)
            // libcurl sends straight from our buffer; it stays valid until perform returns.
            CCurl_setoptOffT(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count))
            CCurl_setoptPointer(handle, CURLOPT_POSTFIELDS, body.baseAddress.map { UnsafeMutableRawPointer(mutating: $0) } ?? Self.emptyBody)
            CCurl_setoptString(handle, CURLOPT_CUSTOMREQUEST, method == .put ? "PUT" : nil)
        }
        let list = headerLists[(contentType == .ndjson ? 0 : 2) + (gzip ? 1 : 0)]
        CCurl_setoptSlist(handle, CURLOPT_HTTPHEADER, list)
        let code = curl_easy_perform(handle)
        CCurl_setoptPointer(handle, CURLOPT_POSTFIELDS, nil)
        guard code == CURLE_OK else { return .failure(failure(code)) }
        var status = 0
        CCurl_getinfoLong(handle, CURLINFO_RESPONSE_CODE, &status)
        // Shares the sink's storage; the answer is dropped before the next request, so the
        // buffer is unique again then and keeps its capacity (no regrowing per request).
        return .success(Response(status: status, body: sink.body))
    }

    private func failure(_ code: CURLcode) -> TransportFailure {
        var message = String(cString: curl_easy_strerror(code))
        let detail = String(cString: errorBuffer)
        if !detail.isEmpty && detail != message { message += ": " + detail }
        if sink.overflowed { message = "the answer was larger than \(Self.maxResponseBytes >> 20) MiB" }
        let kind: TransportFailure.Kind
        switch code {
        case CURLE_OPERATION_TIMEDOUT:
            kind = .timeout
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY, CURLE_SSL_CONNECT_ERROR:
            kind = .connection
        case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_CERTPROBLEM, CURLE_SSL_ISSUER_ERROR:
            kind = .tls
        default:
            kind = .other
        }
        return TransportFailure(kind: kind, message: message)
    }

    /// What POSTFIELDS points at for an empty body (libcurl needs a non-null pointer). Never written.
    nonisolated(unsafe) private static let emptyBody = UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 1)

    private static func milliseconds(_ d: Duration) -> Int {
        max(1, Int(d.components.seconds) * 1000 + Int(d.components.attoseconds / 1_000_000_000_000_000))
    }

    /// Collects the answer's body.
    final class ResponseSink {
        var body: [UInt8] = []
        var overflowed = false

        func reset() {
            body.removeAll(keepingCapacity: true)
            overflowed = false
        }

    }

    private static let writeCallback: CCurl_WriteCallback = { data, size, count, userdata in
        let sink = Unmanaged<ResponseSink>.fromOpaque(userdata!).takeUnretainedValue()
        let n = size * count
        guard n > 0, let data else { return n }
        if sink.body.count + n > HTTPConnection.maxResponseBytes {
            sink.overflowed = true
            return 0  // libcurl stops with CURLE_WRITE_ERROR
        }
        data.withMemoryRebound(to: UInt8.self, capacity: n) {
            sink.body.append(contentsOf: UnsafeBufferPointer(start: $0, count: n))
        }
        return n
    }
}
