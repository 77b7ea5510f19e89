/// A string with field references, such as an index name `model-logs-%{+yyyy.MM.dd}` or a path
/// `out/%{model}-%{+yyyy-MM-dd}.jsonl`, rendered per event.
///
/// - `%{path}` is the field's value: a string's content, anything else as compact JSON
///   (`42`, `true`, `{"a":1}`). Logstash's `%{[a][b]}` spelling is accepted for `%{a.b}`.
/// - `%{+FORMAT}` is the event's `@timestamp` written with a `TimestampPattern` in UTC; when
///   `@timestamp` is missing, unreadable or outside years 0001–9999, `_unknown_` (never the
///   current time: an index or file date always agrees with the event's `@timestamp`).
/// - A missing, null or empty field renders as `_unknown_`, so a path or index name never gets
///   an empty segment.
public struct Template: Sendable, CustomStringConvertible {
    enum Part: Sendable {
        case literal([UInt8])
        case field(FieldPath)
        case time(TimestampPattern)
    }

    /// What a missing field renders as.
    public static let unknown = "_unknown_"
    static let unknownBytes = Array(unknown.utf8)

    /// The template as written.
    public let source: String
    let parts: [Part]
    /// True when the template has no references: every event renders it the same.
    public let isConstant: Bool

    /// Compiles `source`; the error names the 1-based column of the bad reference.
    public init(_ source: String) throws(TemplateError) {
        self.source = source
        parts = try Template.compile(Array(source.utf8))
        isConstant = parts.allSatisfy {
            if case .literal = $0 { return true }
            return false
        }
    }

    public var description: String { source }

    /// The template rendered for `fields`.
    public func render(_ fields: Fields) -> String {
        if isConstant { return source }
        var out: [UInt8] = []
        out.reserveCapacity(source.utf8.count + 32)
        render(fields, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// The template rendered as a file path: a field value cannot add directories or climb out
    /// (`/`, `\` and NUL in values become `_`, and a value of `.` or `..` becomes `_`).
    public func renderPath(_ fields: Fields) -> String {
        if isConstant { return source }
        var out: [UInt8] = []
        render(fields, into: &out, pathSafe: true)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the template rendered for `fields` to `out`.
    public func render(_ fields: Fields, into out: inout [UInt8]) {
        render(fields, into: &out, pathSafe: false)
    }

    func render(_ fields: Fields, into out: inout [UInt8], pathSafe: Bool) {
        // Parsed at most once per render, however many %{+…} parts there are.
        var timestamp: Timestamp??
        for part in parts {
            switch part {
            case .literal(let bytes):
                out.append(contentsOf: bytes)
            case .field(let path):
                guard let value = fields.value(at: path), value.kind != .null else {
                    out.append(contentsOf: Template.unknownBytes)
                    continue
                }
                let valueStart = out.count
                defer { if pathSafe { Template.sanitizePathPart(&out, from: valueStart) } }
                let wasString: Bool? = value.withStringBytes { bytes in
                    if bytes.isEmpty {
                        out.append(contentsOf: Template.unknownBytes)
                    } else {
                        out.append(contentsOf: bytes)
                    }
                    return true
                }
                if wasString == nil { value.appendJSON(to: &out) }
            case .time(let pattern):
                if timestamp == nil { timestamp = .some(Template.eventTime(fields)) }
                if let t = timestamp! {
                    pattern.format(t, into: &out)
                } else {
                    out.append(contentsOf: Template.unknownBytes)
                }
            }
        }
    }

    /// Makes `out[from...]` safe as one path segment's part.
    static func sanitizePathPart(_ out: inout [UInt8], from start: Int) {
        // Separators, and every control character (a newline or escape in a file name breaks
        // `ls`, log lines and scripts): each becomes `_`.
        for k in start..<out.count where out[k] == UInt8(ascii: "/") || out[k] == UInt8(ascii: "\\") || out[k] < 0x20 || out[k] == 0x7F {
            out[k] = UInt8(ascii: "_")
        }
        let part = out[start...]
        if part.elementsEqual([UInt8(ascii: ".")]) || part.elementsEqual([UInt8(ascii: "."), UInt8(ascii: ".")]) {
            out.replaceSubrange(start..., with: [UInt8(ascii: "_")])
        }
    }

    /// The event's `@timestamp`: RFC 3339 text, or a number read as epoch milliseconds (as
    /// Elasticsearch reads numeric dates); nil when it is missing, unreadable or out of range.
    static func eventTime(_ fields: Fields) -> Timestamp? {
        guard let value = fields.value(at: .timestamp) else { return nil }
        if let t = value.withStringBytes({ Timestamp(iso8601: $0) }) ?? nil { return t }
        if let ms = value.integer {
            let t = Timestamp(unixMilliseconds: ms)
            return t.isSupported ? t : nil
        }
        return nil
    }

    static func compile(_ s: [UInt8]) throws(TemplateError) -> [Part] {
        var parts: [Part] = []
        var literal: [UInt8] = []
        var i = 0
        while i < s.count {
            guard s[i] == UInt8(ascii: "%"), i + 1 < s.count, s[i + 1] == UInt8(ascii: "{") else {
                literal.append(s[i])
                i += 1
                continue
            }
            let open = i
            var close = i + 2
            while close < s.count, s[close] != UInt8(ascii: "}"), s[close] != UInt8(ascii: "{") { close += 1 }
            guard close < s.count, s[close] == UInt8(ascii: "}") else {
                throw TemplateError(s, open, "unterminated %{: expected '}' to close it")
            }
            if !literal.isEmpty { parts.append(.literal(literal)) }
            literal = []
            parts.append(try reference(s, from: open + 2, to: close))
            i = close + 1
        }
        if !literal.isEmpty { parts.append(.literal(literal)) }
        return parts
    }

    /// The part for the text between `%{` and `}`.
    static func reference(_ s: [UInt8], from start: Int, to end: Int) throws(TemplateError) -> Part {
        let text = String(decoding: s[start..<end], as: UTF8.self)
        guard start < end else {
            throw TemplateError(
                s, start, "empty reference %{}: expected a field path like %{model} or a date like %{+yyyy.MM.dd}")
        }
        if s[start] == UInt8(ascii: "+") {
            guard start + 1 < end else {
                throw TemplateError(s, start + 1, "expected a date pattern after '+', like %{+yyyy.MM.dd}")
            }
            do {
                return .time(try TimestampPattern(String(text.dropFirst())))
            } catch let e {
                throw TemplateError(s, start + e.column, e.message)
            }
        }
        guard let path = fieldPath(text) else {
            throw TemplateError(
                s, start, "bad field path '\(text)': expected names joined by dots, like %{service.name}")
        }
        return .field(path)
    }

    /// `a.b`, or Logstash's `[a][b]`.
    static func fieldPath(_ text: String) -> FieldPath? {
        guard let first = text.unicodeScalars.first, let last = text.unicodeScalars.last,
            !first.properties.isWhitespace, !last.properties.isWhitespace
        else { return nil }
        guard text.hasPrefix("[") else { return FieldPath(text) }
        guard text.hasSuffix("]") else { return nil }
        let names = text.dropFirst().dropLast().split(separator: "][", omittingEmptySubsequences: false)
        guard !names.contains(where: { $0.isEmpty || $0.contains("[") || $0.contains("]") || $0.contains(".") }) else {
            return nil
        }
        return FieldPath(names.joined(separator: "."))
    }
}

/// A template that does not compile.
public struct TemplateError: Error, CustomStringConvertible, Sendable, Equatable {
    /// 1-based column (in characters) within the template.
    public let column: Int
    /// What is wrong, naming what was expected.
    public let message: String

    public init(column: Int, message: String) {
        self.column = column
        self.message = message
    }

    init(_ s: [UInt8], _ offset: Int, _ message: String) {
        column = s[0..<offset].reduce(1) { $1 & 0xC0 == 0x80 ? $0 : $0 + 1 }
        self.message = message
    }

    public var description: String { "column \(column): \(message)" }
}
