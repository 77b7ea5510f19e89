/// One log event: the fields a user sees, plus metadata that never appears in them (where it
/// came from). The acknowledgement it owes travels with its batch (`EventBatch`).
public struct Event: Sendable {
    /// The JSON object that outputs write.
    public var fields: Fields
    /// Where the event came from; the basis of its fingerprint id.
    public var origin: Origin

    public init(fields: Fields, origin: Origin = Origin()) {
        self.fields = fields
        self.origin = origin
    }

    /// Adds a tag to the event.
    public mutating func tag(_ tag: String) { fields.addTag(tag) }
}

/// Where an event came from: stable across restarts, so a re-sent event gets the same id.
public struct Origin: Sendable, Hashable {
    /// Hash of the input id and the source (file identity; 0 for stdin).
    public var source: UInt64
    /// Byte offset of the line (files) or line number in the stream (stdin).
    public var position: UInt64
    /// Hash of the line's content (stdin, where position alone is not stable enough); 0 otherwise.
    public var contentHash: UInt64
    /// 0 for an event read from an input; a filter-made event (an alert) takes its trigger's
    /// origin plus its own kind here.
    public var derived: UInt64

    public init(source: UInt64 = 0, position: UInt64 = 0, contentHash: UInt64 = 0, derived: UInt64 = 0) {
        self.source = source
        self.position = position
        self.contentHash = contentHash
        self.derived = derived
    }

    /// A stable 128-bit fingerprint as 32 hex digits: the document id for `document_id: fingerprint`.
    public var fingerprint: String {
        let (a, b) = fingerprintWords
        return Hash64.hex(a) + Hash64.hex(b)
    }

    /// Appends `fingerprint` (32 hex digits) to `out` without building a String.
    @inline(__always)
    public func appendFingerprint(to out: inout [UInt8]) {
        let (a, b) = fingerprintWords
        Hash64.appendHex(a, to: &out)
        Hash64.appendHex(b, to: &out)
    }

    /// The two 64-bit halves of `fingerprint`, for writers that format it without a String.
    public var fingerprintWords: (UInt64, UInt64) {
        let a = Hash64.mix(source, position ^ Hash64.mix(contentHash, derived))
        let b = Hash64.mix(a ^ 0x9E37_79B9_7F4A_7C15, contentHash &+ derived &+ 1)
        return (a, b)
    }
}

/// Events that move through the pipeline together, with the acknowledgement they owe.
///
/// Filters never mix batches, so every event in a batch (an alert included: it follows its
/// trigger) belongs to the same input batch. An output that accepted the batch settles one
/// delivery; the engine owes one per output that received events from it.
public struct EventBatch: Sendable {
    public var events: [Event]
    /// Settled once per output that received the batch; nil when nobody waits.
    public var acknowledgement: Acknowledgement?
    /// Position in the stream of batches entering the filters; keeps order when several filter
    /// workers run at once.
    public var sequence: UInt64 = 0
    /// The batch already encoded for one output (by `Output.encode`, on a filter worker); the
    /// events may then be gone.
    public var encoded: (any EncodedPayload)?
    /// Events in the batch, counted before encoding dropped them.
    public var eventCount: Int = 0

    public init(events: [Event] = [], acknowledgement: Acknowledgement? = nil) {
        self.events = events
        self.acknowledgement = acknowledgement
    }

    public var count: Int { encoded == nil ? events.count : eventCount }
    public var isEmpty: Bool { count == 0 }
}

/// What an output made of a batch ahead of sending (JSON lines, a `_bulk` body).
public protocol EncodedPayload: Sendable {
    /// Bytes held, for queue accounting.
    var byteCount: Int { get }
}
