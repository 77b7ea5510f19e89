/// Making bytes valid UTF-8: every ill-formed sequence becomes U+FFFD (docs/events.md).
public enum UTF8Repair {
    /// True when the bytes are well-formed UTF-8 (checked eight ASCII bytes at a time).
    @inline(__always)
    public static func isValid(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let p = bytes.baseAddress else { return true }
        let end = bytes.count
        var i = 0
        while i < end {
            while i + 8 <= end, UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self) & 0x8080_8080_8080_8080 == 0 {
                i += 8
            }
            guard i < end else { return true }
            if p[i] < 0x80 {
                i += 1
                continue
            }
            let n = JSONCompactor.validUTF8Length(p, i, end)
            if n == 0 { return false }
            i += n
        }
        return true
    }

    /// The bytes with each maximal ill-formed subpart replaced by U+FFFD.
    public static func repaired(_ bytes: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 8)
        guard let p = bytes.baseAddress else { return out }
        var i = 0
        while i < bytes.count {
            if p[i] < 0x80 {
                out.append(p[i])
                i += 1
                continue
            }
            let n = JSONCompactor.validUTF8Length(p, i, bytes.count)
            if n > 0 {
                out.append(contentsOf: UnsafeBufferPointer(start: p + i, count: n))
                i += n
            } else {
                out.append(contentsOf: [0xEF, 0xBF, 0xBD])
                i += max(1, JSONCompactor.invalidPrefixLength(p, i, bytes.count))
            }
        }
        return out
    }
}
