import DriftwoodCore

/// Encodes events as `_bulk` items: per event an action line and the event's compact JSON, each
/// ending in a newline (NDJSON). Pure: no I/O, the same events always give the same bytes.
///
/// ```
/// {"create":{"_index":"model-logs-2026.11.24","_id":"5f0c…"}}
/// {"@timestamp":"2026-11-24T10:00:00.072Z","model":"fraud-detector",…}
/// ```
///
/// When every event goes to the same index (or data stream), the name is in the request path
/// (`POST /bench/_bulk`) and the action lines leave `_index` out: 17 bytes less per event for
/// the compressor here and the decompressor on the server.
public struct BulkEncoder: Sendable {
    public let action: BulkAction
    public let index: Template
    public let documentID: ElasticsearchConfig.DocumentID
    /// `{"create":{` when the index is the same for every event (it is then in the path).
    let constantPrefix: [UInt8]?

    public init(action: BulkAction, index: Template, documentID: ElasticsearchConfig.DocumentID) {
        self.action = action
        self.index = index
        self.documentID = documentID
        constantPrefix = index.isConstant ? Array(#"{"\#(action.rawValue)":{"#.utf8) : nil
    }

    /// The path of bulk requests, query included: `/<index>/_bulk` for a constant index,
    /// `/_bulk` otherwise. `filter_path` keeps the answer to what the classifier reads (as
    /// Filebeat does): a few bytes an item instead of a few hundred.
    public var bulkPath: String {
        let query = "?filter_path=errors,items.*.error,items.*.status"
        guard index.isConstant else { return "/_bulk" + query }
        return "/" + Self.percentEncoded(index.source) + "/_bulk" + query
    }

    static func percentEncoded(_ s: String) -> String {
        var out = ""
        for byte in s.utf8 {
            if (0x30...0x39).contains(byte) || (0x61...0x7A).contains(byte) || (0x41...0x5A).contains(byte)
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".")
            {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return out
    }

    public init(config: ElasticsearchConfig) {
        self.init(action: config.action, index: config.index, documentID: config.documentID)
    }

    /// The items of `events`, in order.
    public func encode(_ events: [Event]) -> BulkItems {
        var items = BulkItems()
        guard !events.isEmpty else { return items }
        var scratch: [UInt8] = []
        items.offsets.reserveCapacity(events.count + 1)
        items.offsets.append(0)
        events.withUnsafeBufferPointer { events in
            for i in events.indices {
                appendItem(events[i], to: &items.body, scratch: &scratch)
                items.offsets.append(UInt32(items.body.count))
                if i == 0 {
                    // One item's size times the count (plus slack) sizes the body in one go;
                    // capped, so one giant first line cannot reserve a giant body.
                    items.body.reserveCapacity(min((items.body.count + 32) * events.count + 256, Self.maxReserve))
                }
            }
        }
        return items
    }

    /// Appends one event's action line and source line.
    @inline(__always)
    public func appendItem(_ event: Event, to body: inout [UInt8], scratch: inout [UInt8]) {
        let first: Bool
        // Constant bytes through buffer pointers: `append(contentsOf:)` takes an array owned (a
        // retain and a release of its buffer per call, per event).
        if let constantPrefix {
            constantPrefix.withUnsafeBufferPointer { body.append(contentsOf: $0) }
            first = true
        } else {
            Self.appendActionStart(action, to: &body)
            scratch.removeAll(keepingCapacity: true)
            index.render(event.fields, into: &scratch)
            scratch.withUnsafeBufferPointer { JSONWriter.appendEscaped(utf8: $0, to: &body) }
            body.append(UInt8(ascii: "\""))
            first = false
        }
        switch documentID {
        case .auto:
            break
        case .fingerprint:
            Self.appendFingerprintID(event.origin, to: &body, first: first)
        case .template(let template):
            // An event without the id's fields falls back to its fingerprint: a shared
            // `_unknown_` id would make every such event after the first a 409 "already there".
            guard template.hasAllFields(event.fields) else {
                Self.appendFingerprintID(event.origin, to: &body, first: first)
                break
            }
            scratch.removeAll(keepingCapacity: true)
            template.render(event.fields, into: &scratch)
            (first ? Self.firstIDKey : Self.idKey).withUnsafeBufferPointer { body.append(contentsOf: $0) }
            scratch.withUnsafeBufferPointer { JSONWriter.appendEscaped(utf8: $0, to: &body) }
            body.append(UInt8(ascii: "\""))
        }
        Self.actionEnd.withUnsafeBufferPointer { body.append(contentsOf: $0) }
        event.fields.write(to: &body)
        body.append(0x0A)
    }

    static let maxReserve = 16 << 20
    static let idKey: [UInt8] = Array(#","_id":""#.utf8)
    static let firstIDKey: [UInt8] = Array(#""_id":""#.utf8)
    static let actionEnd: [UInt8] = Array("}}\n".utf8)

    static func appendActionStart(_ action: BulkAction, to out: inout [UInt8]) {
        out.append(contentsOf: #"{""#.utf8)
        out.append(contentsOf: action.rawValue.utf8)
        out.append(contentsOf: #"":{"_index":""#.utf8)
    }

    /// `,"_id":"<32 hex digits>"`: `Origin.fingerprint` written without building a String.
    @inline(__always)
    static func appendFingerprintID(_ origin: Origin, to out: inout [UInt8], first: Bool) {
        (first ? firstIDKey : idKey).withUnsafeBufferPointer { out.append(contentsOf: $0) }
        origin.appendFingerprint(to: &out)
        out.append(UInt8(ascii: "\""))
    }
}

/// `_bulk` items as NDJSON: item `i` is `body[offsets[i]..<offsets[i+1]]`, its action line and
/// its source line.
public typealias BulkItems = DeliveryItems

extension DeliveryItems {
    /// The source line of item `i` (the event's JSON, without the newline).
    public func source(of i: Int) -> ArraySlice<UInt8> {
        let r = range(of: i)
        let item = body[r]
        guard let newline = item.firstIndex(of: 0x0A) else { return item }
        return body[(newline + 1)..<(r.upperBound - 1)]
    }

    /// The action line of item `i` (without the newline).
    public func actionLine(of i: Int) -> ArraySlice<UInt8> {
        let r = range(of: i)
        let item = body[r]
        let newline = item.firstIndex(of: 0x0A) ?? r.upperBound
        return body[r.lowerBound..<newline]
    }
}

extension String {
    fileprivate func leftPadded(to n: Int) -> String { String(repeating: "0", count: max(0, n - count)) + self }
}
