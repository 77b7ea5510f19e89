import DriftwoodCore

/// A small JSON writer for the status answer: commas placed by position.
struct StatusJSON {
    var out: [UInt8] = []
    private var needsComma = false

    init() { out.reserveCapacity(16 << 10) }

    mutating func comma() {
        if needsComma { out.append(UInt8(ascii: ",")) }
    }
    mutating func open() {
        out.append(UInt8(ascii: "{"))
        needsComma = false
    }
    mutating func close() {
        out.append(UInt8(ascii: "}"))
        needsComma = true
    }
    mutating func array() {
        out.append(UInt8(ascii: "["))
        needsComma = false
    }
    mutating func closeArray() {
        out.append(UInt8(ascii: "]"))
        needsComma = true
    }
    /// Before an array element that is an object.
    mutating func element() {
        comma()
        needsComma = false
    }
    mutating func key(_ k: String) {
        comma()
        JSONWriter.appendString(k, to: &out)
        out.append(UInt8(ascii: ":"))
        needsComma = false
    }
    mutating func string(_ s: String) {
        JSONWriter.appendString(s, to: &out)
        needsComma = true
    }
    mutating func integer(_ v: Int) {
        JSONWriter.appendInteger(Int64(v), to: &out)
        needsComma = true
    }
    mutating func number(_ d: Double, decimals: Int = 6) {
        ScoreText.append(d, decimals: decimals, to: &out)
        needsComma = true
    }
    mutating func optional(_ d: Double?) {
        if let d { number(d) } else { null() }
    }
    mutating func bool(_ b: Bool) {
        JSONWriter.appendBool(b, to: &out)
        needsComma = true
    }
    mutating func null() {
        out += Array("null".utf8)
        needsComma = true
    }
    mutating func raw(_ bytes: [UInt8]) {
        out += bytes
        needsComma = true
    }
    mutating func numbers(_ values: [Double], decimals: Int = 6) {
        out.append(UInt8(ascii: "["))
        for (i, v) in values.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            ScoreText.append(v, decimals: decimals, to: &out)
        }
        out.append(UInt8(ascii: "]"))
        needsComma = true
    }
    mutating func object(_ values: [String: Double]) {
        open()
        for k in values.keys.sorted() {
            key(k)
            number(values[k]!)
        }
        close()
    }
}
