#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reading compact, already validated JSON text (what `JSONCompactor` writes): skipping values,
/// walking object members, decoding strings. None of this validates; it trusts its input.
public enum JSONText {
    /// The index just past the value that starts at `i`.
    @inline(__always)
    public static func skipValue(_ p: UnsafePointer<UInt8>, _ i: Int, _ end: Int) -> Int {
        var i = i
        switch p[i] {
        case UInt8(ascii: "\""):
            return skipString(p, i + 1, end)
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            while i < end {
                let b = p[i]
                if b == UInt8(ascii: "\"") {
                    i = skipString(p, i + 1, end)
                    continue
                }
                if b == UInt8(ascii: "{") || b == UInt8(ascii: "[") {
                    depth += 1
                } else if b == UInt8(ascii: "}") || b == UInt8(ascii: "]") {
                    depth -= 1
                    if depth == 0 { return i + 1 }
                }
                i += 1
            }
            return end
        default:
            while i < end {
                let b = p[i]
                if b == UInt8(ascii: ",") || b == UInt8(ascii: "}") || b == UInt8(ascii: "]") { break }
                i += 1
            }
            return i
        }
    }

    /// The index just past the closing quote of a string whose content starts at `i`.
    @inline(__always)
    public static func skipString(_ p: UnsafePointer<UInt8>, _ i: Int, _ end: Int) -> Int {
        var i = i
        while i < end {
            let b = p[i]
            if b == UInt8(ascii: "\"") { return i + 1 }
            i += b == UInt8(ascii: "\\") ? 2 : 1
        }
        return end
    }

    /// Calls `body` with the key content range (no quotes) and value range of each member of the
    /// object text in `range`; stops when `body` returns false.
    @inline(__always)
    public static func forEachMember(
        _ p: UnsafePointer<UInt8>, _ range: Range<Int>, _ body: (Range<Int>, Range<Int>) -> Bool
    ) {
        var i = range.lowerBound + 1  // past '{'
        let end = range.upperBound
        while i < end, p[i] == UInt8(ascii: "\"") {
            let keyEnd = skipString(p, i + 1, end)
            let valueStart = keyEnd + 1  // past ':'
            let valueEnd = skipValue(p, valueStart, end)
            if !body((i + 1)..<(keyEnd - 1), valueStart..<valueEnd) { return }
            i = valueEnd + 1  // past ',' or '}'
        }
    }

    /// Calls `body` with the range of each element of the array text in `range`.
    public static func forEachElement(_ p: UnsafePointer<UInt8>, _ range: Range<Int>, _ body: (Range<Int>) -> Bool) {
        var i = range.lowerBound + 1
        let end = range.upperBound
        guard i < end, p[i] != UInt8(ascii: "]") else { return }
        while i < end {
            let valueEnd = skipValue(p, i, end)
            if !body(i..<valueEnd) { return }
            i = valueEnd + 1
        }
    }

    /// True when the escaped key content at `range` names the same key as `name` (raw UTF-8).
    @inline(__always)
    public static func keyEquals(_ p: UnsafePointer<UInt8>, _ range: Range<Int>, _ name: [UInt8]) -> Bool {
        // Most keys differ in their first byte; only an escape there needs a closer look.
        if let first = name.first, !range.isEmpty, p[range.lowerBound] != first,
            p[range.lowerBound] != UInt8(ascii: "\\")
        {
            return false
        }
        if range.count == name.count {
            return name.withUnsafeBufferPointer { n in
                memcmp(p + range.lowerBound, n.baseAddress!, range.count) == 0
            } || (hasBackslash(p, range) && Array(decodeString(p, range).utf8) == name)
        }
        // An escaped key is longer than its decoded name.
        return range.count > name.count && hasBackslash(p, range) && Array(decodeString(p, range).utf8) == name
    }

    @inline(__always)
    static func hasBackslash(_ p: UnsafePointer<UInt8>, _ range: Range<Int>) -> Bool {
        for k in range where p[k] == UInt8(ascii: "\\") { return true }
        return false
    }

    /// Decodes the escaped content of a JSON string (no quotes). Lone surrogates become U+FFFD.
    public static func decodeString(_ p: UnsafePointer<UInt8>, _ range: Range<Int>) -> String {
        if !hasBackslash(p, range) {
            return String(decoding: UnsafeBufferPointer(start: p + range.lowerBound, count: range.count), as: UTF8.self)
        }
        var out: [UInt8] = []
        out.reserveCapacity(range.count)
        var i = range.lowerBound
        let end = range.upperBound
        while i < end {
            let b = p[i]
            guard b == UInt8(ascii: "\\"), i + 1 < end else {
                out.append(b)
                i += 1
                continue
            }
            let e = p[i + 1]
            i += 2
            switch e {
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "u"):
                var unit = hex4(p, i, end)
                i += 4
                if (0xD800..<0xDC00).contains(unit), i + 6 <= end, p[i] == UInt8(ascii: "\\"),
                    p[i + 1] == UInt8(ascii: "u")
                {
                    let low = hex4(p, i + 2, end)
                    if (0xDC00..<0xE000).contains(low) {
                        unit = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                        i += 6
                    }
                }
                let scalar = Unicode.Scalar(unit) ?? "\u{FFFD}"
                out.append(contentsOf: UTF8.encode(scalar)!)
            default: out.append(e)  // \" \\ \/
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    @inline(__always)
    static func hex4(_ p: UnsafePointer<UInt8>, _ i: Int, _ end: Int) -> UInt32 {
        var v: UInt32 = 0
        for k in 0..<4 where i + k < end {
            v = v << 4 | UInt32(JSONCompactor.hexValue(p[i + k]) ?? 0)
        }
        return v
    }
}
