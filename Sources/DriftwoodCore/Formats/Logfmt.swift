/// logfmt: `key=value key2="quoted value" flag`. Values stay strings (as in Vector's
/// parse_logfmt); a bare key is `true`.
public enum Logfmt {
    /// The pairs of a logfmt line, in order, as (key, JSON value text); nil when the line holds
    /// no pair at all or a quote is not closed.
    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> [(key: String, json: [UInt8])]? {
        guard let p = bytes.baseAddress else { return nil }
        let end = bytes.count
        var i = 0
        var result: [(key: String, json: [UInt8])] = []
        @inline(__always) func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 }
        while i < end {
            while i < end && isSpace(p[i]) { i += 1 }
            guard i < end else { break }
            let keyStart = i
            while i < end && !isSpace(p[i]) && p[i] != UInt8(ascii: "=") && p[i] != UInt8(ascii: "\"") { i += 1 }
            guard i > keyStart else { return nil }
            let key = String(decoding: UnsafeBufferPointer(start: p + keyStart, count: i - keyStart), as: UTF8.self)
            var json: [UInt8] = []
            if i < end && p[i] == UInt8(ascii: "=") {
                i += 1
                if i < end && p[i] == UInt8(ascii: "\"") {
                    i += 1
                    var value: [UInt8] = []
                    var closed = false
                    while i < end {
                        let b = p[i]
                        if b == UInt8(ascii: "\\") && i + 1 < end {
                            let e = p[i + 1]
                            value.append(e == UInt8(ascii: "n") ? 0x0A : e == UInt8(ascii: "t") ? 0x09 : e)
                            i += 2
                            continue
                        }
                        if b == UInt8(ascii: "\"") {
                            closed = true
                            i += 1
                            break
                        }
                        value.append(b)
                        i += 1
                    }
                    guard closed else { return nil }
                    value.withUnsafeBufferPointer { JSONWriter.appendString(utf8: $0, to: &json) }
                } else {
                    let valueStart = i
                    while i < end && !isSpace(p[i]) { i += 1 }
                    JSONWriter.appendString(
                        utf8: UnsafeBufferPointer(start: p + valueStart, count: i - valueStart), to: &json)
                }
            } else if i < end && p[i] == UInt8(ascii: "\"") {
                return nil
            } else {
                json = Array("true".utf8)
            }
            result.append((key, json))
        }
        return result.isEmpty ? nil : result
    }
}
