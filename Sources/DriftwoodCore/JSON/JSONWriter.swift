/// Appends JSON text to byte buffers: escaped strings, numbers, literals.
public enum JSONWriter {
    /// Appends `s` as a JSON string (with quotes). Invalid UTF-8 cannot occur in a Swift `String`.
    @inlinable
    public static func appendString(_ s: String, to out: inout [UInt8]) {
        var s = s
        s.withUTF8 { appendString(utf8: $0, to: &out) }
    }

    /// Appends the bytes as a JSON string (with quotes), escaping what JSON requires and replacing
    /// invalid UTF-8 with U+FFFD.
    public static func appendString(utf8 bytes: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        appendEscaped(utf8: bytes, to: &out)
        out.append(UInt8(ascii: "\""))
    }

    /// Appends the bytes escaped for use inside a JSON string (no quotes).
    public static func appendEscaped(utf8 bytes: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        guard let base = bytes.baseAddress else { return }
        let end = bytes.count
        var i = 0
        var run = 0
        while i < end {
            while i + 8 <= end {
                let w = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
                if JSONCompactor.hasSpecialByte(w) { break }
                i += 8
            }
            guard i < end else { break }
            let b = base[i]
            if b >= 0x80 {
                let n = JSONCompactor.validUTF8Length(base, i, end)
                if n > 0 {
                    i += n
                    continue
                }
                out.append(contentsOf: UnsafeBufferPointer(start: base + run, count: i - run))
                out.append(contentsOf: [0xEF, 0xBF, 0xBD])
                i += max(1, JSONCompactor.invalidPrefixLength(base, i, end))
                run = i
                continue
            }
            if b >= 0x20 && b != UInt8(ascii: "\"") && b != UInt8(ascii: "\\") {
                i += 1
                continue
            }
            out.append(contentsOf: UnsafeBufferPointer(start: base + run, count: i - run))
            switch b {
            case UInt8(ascii: "\""): out.append(contentsOf: [0x5C, 0x22])
            case UInt8(ascii: "\\"): out.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0x08: out.append(contentsOf: [0x5C, UInt8(ascii: "b")])
            case 0x0C: out.append(contentsOf: [0x5C, UInt8(ascii: "f")])
            default:
                let hex: [UInt8] = Array("0123456789abcdef".utf8)
                out.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(b >> 4)], hex[Int(b & 0xF)]])
            }
            i += 1
            run = i
        }
        out.append(contentsOf: UnsafeBufferPointer(start: base + run, count: end - run))
    }

    /// Appends a number. Integral values within ±2^53 are written without a fraction; non-finite
    /// values (which JSON cannot hold) are written as `null`.
    public static func appendNumber(_ d: Double, to out: inout [UInt8]) {
        guard d.isFinite else {
            out.append(contentsOf: "null".utf8)
            return
        }
        if d == d.rounded(), abs(d) < 9_007_199_254_740_992 {
            appendInteger(Int64(d), to: &out)
        } else {
            out.append(contentsOf: d.description.utf8)
        }
    }

    /// Appends an integer in decimal.
    public static func appendInteger(_ v: Int64, to out: inout [UInt8]) {
        if v >= 0 && v < 10 {
            out.append(UInt8(ascii: "0") + UInt8(v))
            return
        }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes of scratch, enough for 20 digits
        let negative = v < 0
        var m = v.magnitude
        let count = withUnsafeMutableBytes(of: &digits) { raw -> Int in
            var k = raw.count
            repeat {
                k -= 1
                raw[k] = UInt8(ascii: "0") + UInt8(m % 10)
                m /= 10
            } while m > 0
            if negative {
                k -= 1
                raw[k] = UInt8(ascii: "-")
            }
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[k...]))
            return raw.count - k
        }
        _ = count
    }

    /// Appends `true` or `false`.
    @inlinable
    public static func appendBool(_ b: Bool, to out: inout [UInt8]) {
        out.append(contentsOf: (b ? "true" : "false").utf8)
    }
}
