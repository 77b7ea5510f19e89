/// A label or predicted class as bytes that compare equal when the values mean the same class:
/// a string's content, `true`/`false` as `1`/`0`, a whole number without its fraction (`1.0` is
/// `1`), any other number as written. So `1`, `1.0`, `true` and `"1"` are one class. Null,
/// objects and arrays are no class.
public enum ClassKey {
    static let one: [UInt8] = [UInt8(ascii: "1")]
    static let zero: [UInt8] = [UInt8(ascii: "0")]

    /// Calls `body` with the class key of the value at `p[range]` (JSON text, or raw string
    /// content when `isText`); nil when the value is no class. Builds nothing for plain strings.
    @inline(__always)
    public static func with<R>(
        _ p: UnsafePointer<UInt8>, _ range: Range<Int>, isText: Bool, _ body: (UnsafeBufferPointer<UInt8>) -> R
    ) -> R? {
        guard !range.isEmpty else { return nil }
        if isText { return body(UnsafeBufferPointer(start: p + range.lowerBound, count: range.count)) }
        switch p[range.lowerBound] {
        case UInt8(ascii: "\""):
            return PathSet.withKeyBytes(p, range, isText: false, body)
        case UInt8(ascii: "t"):
            return one.withUnsafeBufferPointer(body)
        case UInt8(ascii: "f"):
            return zero.withUnsafeBufferPointer(body)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            guard let d = NumberText.parse(p, range) else { return nil }
            if d == d.rounded(), abs(d) < 9.0e15 {
                // Whole: the integer's digits (a short fixed buffer, no allocation).
                return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 24) { buf in
                    var v = Int64(d)
                    if v == 0 { buf[0] = UInt8(ascii: "0"); return body(UnsafeBufferPointer(rebasing: buf[0..<1])) }
                    let negative = v < 0
                    if negative { v = -v }
                    var i = 24
                    while v > 0 {
                        i -= 1
                        buf[i] = UInt8(ascii: "0") &+ UInt8(v % 10)
                        v /= 10
                    }
                    if negative {
                        i -= 1
                        buf[i] = UInt8(ascii: "-")
                    }
                    return body(UnsafeBufferPointer(rebasing: buf[i..<24]))
                }
            }
            return body(UnsafeBufferPointer(start: p + range.lowerBound, count: range.count))
        default:
            return nil
        }
    }

    /// The class key of JSON text (`1.0` → `1`, `"a"` → `a`, `true` → `1`); nil for no class.
    public static func canonical(_ json: [UInt8]) -> [UInt8]? {
        json.withUnsafeBufferPointer { b in
            guard let base = b.baseAddress else { return nil }
            return with(base, 0..<b.count, isText: false) { Array($0) }
        }
    }

    /// The class key of a string given as text (a YAML string in the config): its bytes.
    public static func canonical(string: String) -> [UInt8] { Array(string.utf8) }
}
