/// A read-only view of one value inside an event: JSON text, or (for a raw text member such as
/// an input's `message`) plain UTF-8 that is a string.
public struct JSONValue: Sendable {
    /// What a value is.
    public enum Kind: Sendable, Equatable {
        case string, number, bool, null, object, array
    }

    let storage: [UInt8]
    let range: Range<Int>
    /// True when `range` holds raw UTF-8 text (a string without quotes or escapes).
    let isText: Bool

    init(storage: [UInt8], range: Range<Int>, isText: Bool) {
        self.storage = storage
        self.range = range
        self.isText = isText
    }

    /// A value parsed from JSON text; nil if the text is not valid JSON.
    public init?(json: String) {
        guard let compact = try? JSONCompactor.compact(Array(json.utf8)) else { return nil }
        self.init(storage: compact, range: 0..<compact.count, isText: false)
    }

    /// A string value.
    public init(string: String) {
        let bytes = Array(string.utf8)
        self.init(storage: bytes, range: 0..<bytes.count, isText: true)
    }

    public var kind: Kind {
        if isText { return .string }
        switch storage[range.lowerBound] {
        case UInt8(ascii: "\""): return .string
        case UInt8(ascii: "{"): return .object
        case UInt8(ascii: "["): return .array
        case UInt8(ascii: "t"), UInt8(ascii: "f"): return .bool
        case UInt8(ascii: "n"): return .null
        default: return .number
        }
    }

    /// The decoded string, if this is a string.
    public var string: String? {
        if isText { return String(decoding: storage[range], as: UTF8.self) }
        guard kind == .string else { return nil }
        return storage.withUnsafeBufferPointer {
            JSONText.decodeString($0.baseAddress!, (range.lowerBound + 1)..<(range.upperBound - 1))
        }
    }

    /// The number, if this is a number.
    public var number: Double? {
        guard !isText, kind == .number else { return nil }
        return JSONNumber.parseDouble(storage[range])
    }

    /// The number, if this is a number written as an integer that fits 64 bits.
    public var integer: Int64? {
        guard !isText, kind == .number else { return nil }
        return JSONNumber.parseInteger(storage[range])
    }

    /// The boolean, if this is `true` or `false`.
    public var bool: Bool? {
        guard !isText, kind == .bool else { return nil }
        return storage[range.lowerBound] == UInt8(ascii: "t")
    }

    /// True when the raw bytes of this string (no escapes in it) equal `bytes`; the fast path of `==`.
    public func stringEquals(_ bytes: [UInt8]) -> Bool {
        if isText { return storage[range].elementsEqual(bytes) }
        guard kind == .string else { return false }
        let content = (range.lowerBound + 1)..<(range.upperBound - 1)
        if !storage[content].contains(UInt8(ascii: "\\")) { return storage[content].elementsEqual(bytes) }
        return string.map { Array($0.utf8) == bytes } ?? false
    }

    /// Appends this value as compact JSON text.
    public func appendJSON(to out: inout [UInt8]) {
        if isText {
            storage.withUnsafeBufferPointer {
                JSONWriter.appendString(utf8: UnsafeBufferPointer(rebasing: $0[range]), to: &out)
            }
        } else {
            out.append(contentsOf: storage[range])
        }
    }

    /// This value as compact JSON text.
    public var json: [UInt8] {
        var out: [UInt8] = []
        appendJSON(to: &out)
        return out
    }

    /// The text a template or a string conversion shows: a string's content, anything else as JSON.
    public var text: String {
        string ?? String(decoding: json, as: UTF8.self)
    }

    /// The member `name` of an object value.
    public func member(_ name: [UInt8]) -> JSONValue? {
        guard kind == .object else { return nil }
        var found: Range<Int>?
        storage.withUnsafeBufferPointer { buf in
            JSONText.forEachMember(buf.baseAddress!, range) { key, value in
                if JSONText.keyEquals(buf.baseAddress!, key, name) {
                    found = value
                    return false
                }
                return true
            }
        }
        return found.map { JSONValue(storage: storage, range: $0, isText: false) }
    }

    /// The elements of an array value (empty for anything else).
    public var elements: [JSONValue] {
        guard kind == .array else { return [] }
        var result: [JSONValue] = []
        storage.withUnsafeBufferPointer { buf in
            JSONText.forEachElement(buf.baseAddress!, range) {
                result.append(JSONValue(storage: storage, range: $0, isText: false))
                return true
            }
        }
        return result
    }

    /// The members of an object value, in order (empty for anything else).
    public var members: [(key: String, value: JSONValue)] {
        guard kind == .object else { return [] }
        var result: [(key: String, value: JSONValue)] = []
        storage.withUnsafeBufferPointer { buf in
            JSONText.forEachMember(buf.baseAddress!, range) { key, value in
                result.append((JSONText.decodeString(buf.baseAddress!, key), JSONValue(storage: storage, range: value, isText: false)))
                return true
            }
        }
        return result
    }
}

extension JSONValue: Equatable {
    /// Values are equal when their compact JSON text is (numbers compare by value).
    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        if a.kind == .number && b.kind == .number { return a.number == b.number }
        return a.json == b.json
    }
}

/// Reading JSON numbers from their text.
public enum JSONNumber {
    /// Parses a JSON number (or any decimal Swift accepts).
    public static func parseDouble(_ bytes: ArraySlice<UInt8>) -> Double? {
        if let i = parseInteger(bytes) { return Double(i) }
        return Double(String(decoding: bytes, as: UTF8.self))
    }

    /// Parses an optionally signed run of digits that fits in Int64.
    public static func parseInteger(_ bytes: ArraySlice<UInt8>) -> Int64? {
        var i = bytes.startIndex
        guard i < bytes.endIndex else { return nil }
        let negative = bytes[i] == UInt8(ascii: "-")
        if negative { i += 1 }
        guard i < bytes.endIndex, bytes.endIndex - i <= 18 else {
            return bytes.endIndex - i > 18 ? Int64(String(decoding: bytes, as: UTF8.self)) : nil
        }
        var v: Int64 = 0
        while i < bytes.endIndex {
            let d = bytes[i] &- UInt8(ascii: "0")
            guard d < 10 else { return nil }
            v = v * 10 + Int64(d)
            i += 1
        }
        return negative ? -v : v
    }
}
