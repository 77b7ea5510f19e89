import CCurl

/// One persistent HTTP client over a libcurl easy handle: the handle keeps its connections
/// alive between requests (and TLS sessions), so a sender thread pays the handshake once per
/// host. Blocking; used by one thread at a time. Every output that talks HTTP uses this one.
public final class HTTPConnection {
    /// How every request of this connection is made.
    public struct Settings: Sendable {
        public var connectTimeout: Duration
        public var requestTimeout: Duration
        public var auth: HTTPAuth?
        public var tls: TLSOptions
        /// Further header lines, `Name: value`, sent with every request.
        public var headers: [String] = []

        public init(
            connectTimeout: Duration, requestTimeout: Duration, auth: HTTPAuth?, tls: TLSOptions, headers: [String] = []
        ) {
            self.connectTimeout = connectTimeout
            self.requestTimeout = requestTimeout
            self.auth = auth
            self.tls = tls
            self.headers = headers
        }
    }

    /// The request body's media type.
    public struct ContentType: Sendable, Hashable {
        public var value: String
        public init(_ value: String) { self.value = value }
        /// `application/x-ndjson` (`_bulk`). Not the ES 8 compatibility type
        /// `application/vnd.elasticsearch+x-ndjson`, which OpenSearch-compatible servers refuse.
        public static let ndjson = ContentType("application/x-ndjson")
        public static let json = ContentType("application/json")
    }

    public enum Method: String, Sendable {
        case post = "POST"
        case put = "PUT"
        case get = "GET"
    }

    public struct Response {
        public var status: Int
        public var body: [UInt8]
    }

    /// The most any answer is read (`send`'s `maxAnswerBytes` is usually far less).
    static let maxResponseBytes = 256 << 20
    /// After an answer larger than this, its buffer is given back rather than kept for the next.
    static let keptAnswerBytes = 1 << 20

    private let handle: UnsafeMutableRawPointer
    private let errorBuffer: UnsafeMutablePointer<CChar>
    private let sink = ResponseSink()
    /// Header lists by (content type, gzip); built on first use, the API key inside them.
    private var headerLists: [HeaderKey: UnsafeMutablePointer<curl_slist>?] = [:]
    private let fixedHeaders: [String]

    private struct HeaderKey: Hashable {
        var contentType: ContentType
        var gzip: Bool
    }

    /// libcurl's global state, set up once before the first handle (not thread-safe by itself).
    private static let globalInit: Void = { _ = curl_global_init(Int(CURL_GLOBAL_ALL)) }()

    public init(settings: Settings) {
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
        var lines = settings.headers
        switch settings.auth {
        case .basic(let username, let password):
            // CURLAUTH_BASIC is libcurl's default: sent with the first request.
            CCurl_setoptString(handle, CURLOPT_USERNAME, username)
            CCurl_setoptString(handle, CURLOPT_PASSWORD, password)
        case .apiKey(let key):
            lines.append("Authorization: ApiKey \(key)")
        case .bearer(let token):
            lines.append("Authorization: Bearer \(token)")
        case nil:
            break
        }
        fixedHeaders = lines
    }

    private func headerList(_ contentType: ContentType, gzip: Bool) -> UnsafeMutablePointer<curl_slist>? {
        let key = HeaderKey(contentType: contentType, gzip: gzip)
        if let list = headerLists[key] { return list }
        // "Expect:" turns off `Expect: 100-continue`, a round trip per request.
        var lines = ["Content-Type: \(contentType.value)", "Expect:"]
        if gzip { lines.append("Content-Encoding: gzip") }
        lines += fixedHeaders
        var list: UnsafeMutablePointer<curl_slist>?
        for line in lines { list = curl_slist_append(list, line) }
        headerLists[key] = list
        return list
    }

    deinit {
        curl_easy_cleanup(handle)
        for list in headerLists.values { curl_slist_free_all(list) }
        errorBuffer.deallocate()
    }

    /// Sends one request and waits for the whole answer, of which at most `maxAnswerBytes` are
    /// read (a longer answer is a failure, so a lying server cannot make driftwood hold it).
    public func send(
        _ method: Method, url: String, body: UnsafeRawBufferPointer, contentType: ContentType = .json, gzip: Bool = false,
        maxAnswerBytes: Int = 16 << 20
    ) -> Result<Response, TransportFailure> {
        sink.reset()
        sink.limit = min(maxAnswerBytes, Self.maxResponseBytes)
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
        CCurl_setoptSlist(handle, CURLOPT_HTTPHEADER, headerList(contentType, gzip: gzip))
        let code = curl_easy_perform(handle)
        CCurl_setoptPointer(handle, CURLOPT_POSTFIELDS, nil)
        guard code == CURLE_OK else { return .failure(failure(code)) }
        var status = 0
        CCurl_getinfoLong(handle, CURLINFO_RESPONSE_CODE, &status)
        // A small answer shares the sink's storage; it is dropped before the next request, so the
        // buffer is unique again then and keeps its capacity (no regrowing per request). A large
        // one is handed over and freed with the answer.
        if sink.body.capacity > Self.keptAnswerBytes {
            let body = sink.body
            sink.body = []
            return .success(Response(status: status, body: body))
        }
        return .success(Response(status: status, body: sink.body))
    }

    private func failure(_ code: CURLcode) -> TransportFailure {
        var message = String(cString: curl_easy_strerror(code))
        let detail = String(cString: errorBuffer)
        if !detail.isEmpty && detail != message { message += ": " + detail }
        if sink.overflowed { message = "the answer was longer than the \(sink.limit) bytes read of one" }
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
        var limit = HTTPConnection.maxResponseBytes

        func reset() {
            // A large answer's buffer is released, not kept for the life of the sender.
            if body.capacity > HTTPConnection.keptAnswerBytes {
                body = []
            } else {
                body.removeAll(keepingCapacity: true)
            }
            overflowed = false
        }

    }

    private static let writeCallback: CCurl_WriteCallback = { data, size, count, userdata in
        let sink = Unmanaged<ResponseSink>.fromOpaque(userdata!).takeUnretainedValue()
        let n = size * count
        guard n > 0, let data else { return n }
        if sink.body.count + n > sink.limit {
            sink.overflowed = true
            return 0  // libcurl stops with CURLE_WRITE_ERROR
        }
        data.withMemoryRebound(to: UInt8.self, capacity: n) {
            sink.body.append(contentsOf: UnsafeBufferPointer(start: $0, count: n))
        }
        return n
    }
}
