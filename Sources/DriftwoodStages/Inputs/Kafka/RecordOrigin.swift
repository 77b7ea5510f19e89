import DriftwoodCore

/// The origin of a consumed record's event: what its fingerprint id is made from.
///
/// A record that a driftwood agent produced carries the agent's fingerprint of the event in the
/// header `driftwood-id` (32 hex digits), and the origin comes from that: an agent killed after
/// producing but before its checkpoint sends the same lines again as new records (new offsets),
/// and they still get the ids of the first sending. Any other record (no header, or not 32 hex
/// digits) is known by its topic, partition and offset.
enum RecordOrigin {
    /// In `contentHash` of an origin from a header, so it never equals one from an offset.
    static let fromHeader = Hash64.hash("kafka:driftwood-id")

    /// - Parameters:
    ///   - header: the value of the record's `driftwood-id` header, if it has one.
    ///   - partition: the fingerprint source of the record's topic and partition.
    static func make(header: UnsafeRawBufferPointer?, partition: UInt64, offset: Int64) -> Origin {
        if let header, let (a, b) = agentFingerprint(header) {
            return Origin(source: a, position: b, contentHash: fromHeader)
        }
        return Origin(source: partition, position: UInt64(bitPattern: offset))
    }

    /// The two 64-bit halves of a 32-hex-digit id (as `Origin.fingerprint` writes it); nil for
    /// anything else.
    static func agentFingerprint(_ bytes: UnsafeRawBufferPointer) -> (UInt64, UInt64)? {
        guard bytes.count == 32 else { return nil }
        var high: UInt64 = 0
        var low: UInt64 = 0
        for (i, byte) in bytes.enumerated() {
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: return nil
            }
            if i < 16 { high = high << 4 | UInt64(digit) } else { low = low << 4 | UInt64(digit) }
        }
        return (high, low)
    }
}
