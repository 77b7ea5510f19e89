/// What the delivery path does with a request once it has an answer: an output's `classify`
/// turns the answer into one of these (Vector's `RetryAction`), the delivery path acts on it.
public enum DeliveryVerdict: Sendable, Equatable {
    /// Every item was accepted.
    case delivered
    /// Send the whole request again after a backoff.
    case retry(DeliveryFailure)
    /// Some items were not accepted; the outcome of every item, in request order: accepted ones
    /// are settled, rejected ones dead-lettered, the rest sent again.
    case retryItems([ItemOutcome])
    /// Too large (413) or a body the server refused as a whole: send each half on its own, which
    /// isolates a bad item down to a single one.
    case split(DeliveryFailure)
    /// Rejected for good: every item goes to the dead-letter file with this failure.
    case deadLetter(DeliveryFailure)
}

/// The outcome of one item of a request.
public enum ItemOutcome: Sendable, Equatable {
    case accepted
    case retry(DeliveryFailure)
    /// Rejected for good: the item goes to the dead-letter file with this error.
    case rejected(DeliveryFailure)
}

/// Why a request or an item failed, as the dead-letter file and the log show it.
public struct DeliveryFailure: Sendable, Equatable, CustomStringConvertible {
    /// The HTTP status; nil when there was no answer (connection failed, timed out).
    public var status: Int?
    /// `es_rejected_execution_exception`, `http_400`, `timeout`, `connection_failed`, …
    public var type: String
    public var reason: String
    /// Retrying soon will not help (401, 403, a wrong URL): wait the longest backoff and log an
    /// error on every attempt.
    public var persistent: Bool
    /// The host itself failed (no connection, 5xx): it sits out for a while when there are others.
    public var hostFault: Bool

    public init(status: Int?, type: String, reason: String, persistent: Bool = false, hostFault: Bool = false) {
        self.status = status
        self.type = type
        self.reason = reason
        self.persistent = persistent
        self.hostFault = hostFault
    }

    public var description: String {
        (status.map { "HTTP \($0) " } ?? "") + "\(type): \(reason)"
    }
}

/// A request that got no HTTP answer.
public struct TransportFailure: Error, Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// No connection (refused, unreachable, name not resolved, TLS handshake failed).
        case connection
        /// The server's certificate was refused or the CA file is unusable: retrying soon will not help.
        case tls
        /// The connect or request time limit passed.
        case timeout
        /// The connection broke mid-request, the answer was too large, or anything else.
        case other
    }
    public var kind: Kind
    public var message: String

    public init(kind: Kind, message: String) {
        self.kind = kind
        self.message = message
    }
}

/// What came back for a request.
public enum HTTPAnswer: Sendable {
    case transport(TransportFailure)
    case http(status: Int, body: [UInt8])
}

/// The usual reading of an answer, for outputs whose server says everything with the status
/// (webhooks, Alertmanager): 2xx delivered; 408, 429, 5xx and no answer retried; 401/403 retried
/// with the longest backoff and logged every time; 413 split (dead-lettered for a single item);
/// any other status dead-lettered with the status and the start of the body as the reason.
public enum StatusVerdict {
    public static func classify(_ answer: HTTPAnswer, itemCount: Int) -> DeliveryVerdict {
        let status: Int
        let body: [UInt8]
        switch answer {
        case .transport(let failure):
            return .retry(transportFailure(failure))
        case .http(let s, let b):
            (status, body) = (s, b)
        }
        let failure = DeliveryFailure(status: status, type: "http_\(status)", reason: snippet(body))
        switch status {
        case 200..<300: return .delivered
        case 401, 403:
            var f = failure
            f.persistent = true
            return .retry(f)
        case 408, 429: return .retry(failure)
        case 500..<600:
            var f = failure
            f.hostFault = true
            return .retry(f)
        case 413 where itemCount > 1: return .split(failure)
        case 400..<500: return .deadLetter(failure)
        default:
            // 1xx/3xx: a redirect or a proxy in the way, not the events' fault.
            var f = failure
            f.persistent = true
            return .retry(f)
        }
    }

    /// The failure of a request that got no answer.
    public static func transportFailure(_ failure: TransportFailure) -> DeliveryFailure {
        switch failure.kind {
        case .timeout:
            return DeliveryFailure(status: nil, type: "timeout", reason: failure.message, hostFault: true)
        case .connection:
            return DeliveryFailure(status: nil, type: "connection_failed", reason: failure.message, hostFault: true)
        case .tls:
            return DeliveryFailure(status: nil, type: "tls_error", reason: failure.message, persistent: true, hostFault: true)
        case .other:
            return DeliveryFailure(status: nil, type: "transport_error", reason: failure.message, hostFault: true)
        }
    }

    /// The start of a body (an HTML error page from a proxy), on one line.
    public static func snippet(_ body: [UInt8]) -> String {
        let text = String(decoding: body.prefix(200), as: UTF8.self)
        return text.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
    }
}
