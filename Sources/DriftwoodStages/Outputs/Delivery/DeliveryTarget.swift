import DriftwoodCore

/// What an HTTP output supplies to the delivery path: how events become items (pure), how items
/// become a request, and what an answer means (pure). Batching, requests in flight, backoff,
/// dead letters, acknowledgements, health and metrics are `HTTPDeliveryOutput`'s.
public protocol DeliveryTarget: Sendable {
    /// Who answers, for the log: `Elasticsearch`, `the HTTP endpoint`.
    var serverName: String { get }
    /// What one request is called in the log: `bulk request`, `request`.
    var requestName: String { get }
    /// How a request's items make its body.
    var framing: DeliveryFraming { get }
    /// The body's media type.
    var contentType: HTTPConnection.ContentType { get }

    /// The events as items, in order. Runs on a filter worker.
    func encode(_ events: [Event]) -> DeliveryItems
    /// The method and URL of a request to the endpoint with base URL `base`.
    func request(base: String) -> (method: HTTPConnection.Method, url: String)
    /// The most bytes of an answer read for a request of `itemCount` items.
    func maxAnswerBytes(itemCount: Int) -> Int
    /// What an answer to a request of `itemCount` items means.
    func classify(_ answer: HTTPAnswer, itemCount: Int) -> DeliveryVerdict
    /// The dead-letter line of item `i` (with its newline).
    func deadLetterRecord(_ items: DeliveryItems, _ i: Int, failure: DeliveryFailure, at time: Timestamp) -> [UInt8]
    /// Runs on a sender before the first request goes out (an index template); returns false when
    /// the output stopped first. Called again by the next sender after a false return.
    func prepare(_ connection: HTTPConnection, delivery: HTTPDeliveryOutput) -> Bool
    /// Sees every answer before it is classified, for what `/health` tells beside deliveries.
    func observe(_ answer: HTTPAnswer, health: OutputHealth)
}

extension DeliveryTarget {
    public var requestName: String { "request" }
    public var framing: DeliveryFraming { .concatenated }
    public var contentType: HTTPConnection.ContentType { .json }
    public func maxAnswerBytes(itemCount: Int) -> Int { 1 << 20 }
    public func prepare(_ connection: HTTPConnection, delivery: HTTPDeliveryOutput) -> Bool { true }
    public func observe(_ answer: HTTPAnswer, health: OutputHealth) {}

    /// A dead-letter line that says the URL the event was going to.
    public func deadLetterRecord(_ items: DeliveryItems, _ i: Int, failure: DeliveryFailure, at time: Timestamp) -> [UInt8] {
        DeadLetterFile.record(source: items.body[items.range(of: i)].trimmingNewline(), failure: failure, at: time)
    }
}

extension ArraySlice<UInt8> {
    /// Without one trailing newline (an NDJSON item).
    func trimmingNewline() -> ArraySlice<UInt8> { last == 0x0A ? dropLast() : self }
}

/// How an `HTTPDeliveryOutput` works, from the output's config.
public struct DeliveryOptions: Sendable {
    /// Base URLs; requests go round-robin, a failing one sits out (`HostPool`).
    public var endpoints: [String]
    public var batch: BatchLimits
    /// Requests in flight at once (one sender thread and connection each).
    public var concurrency: Int
    public var retry: RetryPolicy
    public var gzip: Bool
    public var compressionLevel: Int
    public var connection: HTTPConnection.Settings
    public var deadLetterPath: String
    /// Ids derive from events' origins, so inputs fill in what a fingerprint needs.
    public var usesFingerprints: Bool

    public init(
        endpoints: [String], batch: BatchLimits, concurrency: Int, retry: RetryPolicy, gzip: Bool, compressionLevel: Int,
        connection: HTTPConnection.Settings, deadLetterPath: String, usesFingerprints: Bool = false
    ) {
        self.endpoints = endpoints
        self.batch = batch
        self.concurrency = concurrency
        self.retry = retry
        self.gzip = gzip
        self.compressionLevel = compressionLevel
        self.connection = connection
        self.deadLetterPath = deadLetterPath
        self.usesFingerprints = usesFingerprints
    }
}
