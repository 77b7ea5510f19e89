/// Reading a JSON number from its text without building a String on the common path.
public enum NumberText {
    /// The value of the JSON number text at `p[range]`, correctly rounded; nil when it is not a
    /// number. Plain decimals with at most 15 significant digits (nearly every logged value)
    /// take Clinger's fast path: an exact integer divided by an exact power of ten is one
    /// correctly rounded operation. Anything else goes through the standard library's parser.
    @inline(__always)
    public static func parse(_ p: UnsafePointer<UInt8>, _ range: Range<Int>) -> Double? {
        var i = range.lowerBound
        let end = range.upperBound
        guard i < end else { return nil }
        let negative = p[i] == UInt8(ascii: "-")
        if negative { i += 1 }
        var mantissa: UInt64 = 0
        var digits = 0
        var fraction = 0
        var seenDot = false
        var sawDigit = false
        while i < end {
            let b = p[i]
            let d = b &- UInt8(ascii: "0")
            if d < 10 {
                sawDigit = true
                if mantissa != 0 || d != 0 { digits += 1 }
                mantissa = mantissa &* 10 &+ UInt64(d)
                if seenDot { fraction += 1 }
            } else if b == UInt8(ascii: "."), !seenDot {
                seenDot = true
            } else {
                return slow(p, range)  // an exponent, or not a number at all
            }
            i += 1
        }
        guard sawDigit else { return nil }
        guard digits <= 15, fraction <= 22 else { return slow(p, range) }
        var scale = 1.0  // 10^fraction, exact up to 10^22
        for _ in 0..<fraction { scale *= 10 }
        let value = Double(mantissa) / scale
        return negative ? -value : value
    }

    static func slow(_ p: UnsafePointer<UInt8>, _ range: Range<Int>) -> Double? {
        let text = String(decoding: UnsafeBufferPointer(start: p + range.lowerBound, count: range.count), as: UTF8.self)
        guard let first = text.utf8.first, first == UInt8(ascii: "-") || (first >= 48 && first <= 57) else { return nil }
        guard let d = Double(text), d.isFinite else { return nil }
        return d
    }
}

extension JSONValue {
    /// The number, if this is a number (as `number`, without building a String for plain decimals).
    @inline(__always)
    public var fastNumber: Double? {
        if isText { return nil }
        return storage.withUnsafeBufferPointer { buf -> Double? in
            let p = buf.baseAddress!
            let first = p[range.lowerBound]
            guard first == UInt8(ascii: "-") || (first &- UInt8(ascii: "0")) < 10 else { return nil }
            return NumberText.parse(p, range)
        }
    }
}
