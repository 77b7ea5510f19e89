/// Indents compact JSON text for people (`stdout` with `format: pretty`).
public enum JSONPretty {
    /// Appends `compact` (valid compact JSON) indented by two spaces per level, with `": "` after keys.
    public static func append(_ compact: [UInt8], to out: inout [UInt8]) {
        var depth = 0
        var i = 0
        func newline() {
            out.append(0x0A)
            out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: depth * 2))
        }
        while i < compact.count {
            let b = compact[i]
            switch b {
            case UInt8(ascii: "\""):
                let end = compact.withUnsafeBufferPointer { JSONText.skipString($0.baseAddress!, i + 1, $0.count) }
                out.append(contentsOf: compact[i..<end])
                i = end
                continue
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                let close = b == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
                if i + 1 < compact.count && compact[i + 1] == close {
                    out.append(b)
                    out.append(close)
                    i += 2
                    continue
                }
                out.append(b)
                depth += 1
                newline()
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth -= 1
                newline()
                out.append(b)
            case UInt8(ascii: ","):
                out.append(b)
                newline()
            case UInt8(ascii: ":"):
                out.append(contentsOf: [UInt8(ascii: ":"), UInt8(ascii: " ")])
            default:
                out.append(b)
            }
            i += 1
        }
    }
}
