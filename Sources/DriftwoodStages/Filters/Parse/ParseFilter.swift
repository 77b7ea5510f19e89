#if canImport(Glibc)
import Glibc
#endif
import DriftwoodCore

/// Parses a field into structured fields. A value that does not parse keeps its field, gets the
/// tag `_parse_failure` and flows on; a bad time gets `_timestamp_failure`.
public final class ParseFilter: Filter {
    let config: ParseConfig
    let regex: RegexPattern?
    let timestampFormats: [TimestampFormat]
    /// The source field's name when it is a top-level field (the fast path), precomputed.
    let sourceName: [UInt8]?
    let removeSource: Bool
    let rootTarget: Bool
    /// Reused for the compact copy of lines that are not compact already.
    private var scratch: [UInt8] = []
    private var spans: [MemberSpan] = []
    /// The JSON validator's container stack, reused from line to line.
    private var stackWords: [UInt64] = []
    /// Counts the failure tags this filter adds (a rate-limited warning).
    let failures: FailureCounter?

    public init(config: ParseConfig, failures: FailureCounter? = nil) throws {
        self.config = config
        self.failures = failures
        sourceName = config.field.components.count == 1 ? config.field.components[0] : nil
        removeSource = config.removeSource
        rootTarget = config.target == nil
        regex = try config.pattern.map { pattern throws in try RegexPattern(pattern) }
        timestampFormats = try (config.timestamp?.formats ?? []).map(TimestampFormat.init)
        scratch.reserveCapacity(4096)
        spans.reserveCapacity(32)
    }

    /// Per-event work only: safe to run in several filter workers.
    public var isStateless: Bool { true }

    public func apply(_ event: consuming Event, into out: inout [Event]) {
        var parsed: Bool
        switch config.format {
        case .json: parsed = parseJSON(&event.fields)
        case .logfmt: parsed = parseLogfmt(&event.fields)
        case .regex: parsed = parseRegex(&event.fields)
        }
        if parsed {
            if let t = config.timestamp { setTimestamp(&event.fields, from: t.field) }
        } else {
            event.fields.addTag("_parse_failure")
            failures?.record("_parse_failure") { "field '\(config.field.text)' is not \(config.format.rawValue)" }
        }
        out.append(event)
    }

    // MARK: JSON

    private func parseJSON(_ fields: inout Fields) -> Bool {
        spans.removeAll(keepingCapacity: true)
        // Fast path: the input's raw `message` text, validated where it lies and never copied.
        if rootTarget, let sourceName {
            // The reused buffers as locals for the call (moved out and back, not copied): an
            // array property passed along is retained and released at every use, per event.
            var spans: [MemberSpan] = []
            var scratch: [UInt8] = []
            var stackWords: [UInt64] = []
            swap(&spans, &self.spans)
            swap(&scratch, &self.scratch)
            swap(&stackWords, &self.stackWords)
            defer {
                swap(&spans, &self.spans)
                swap(&scratch, &self.scratch)
                swap(&stackWords, &self.stackWords)
            }
            var escapedKeys = false
            let result: (JSONCompactor.Placement, Int32, Bool, Bool)?? = fields.withRawText(sourceName) { text, base in
                guard
                    let placement = try? JSONCompactor.validate(
                        text, scratch: &scratch, members: &spans, escapedKeys: &escapedKeys, stack: &stackWords)
                else {
                    return nil
                }
                let inPlace = placement == .inPlace
                let isObject = (inPlace ? text.first : scratch.first) == UInt8(ascii: "{")
                let overwrites = Self.contains(sourceName, spans, in: inPlace ? text : nil, scratch)
                return (placement, base, overwrites, isObject)
            }
            if let result {
                guard let (placement, base, overwritesSource, isObject) = result, isObject else {
                    return false
                }
                if placement == .inPlace {
                    fields.merge(spans: spans, at: base, escapedKeys: escapedKeys)
                } else {
                    scratch.withUnsafeBufferPointer { fields.merge(objectText: $0, spans: spans, escapedKeys: escapedKeys) }
                }
                if removeSource && !overwritesSource { fields.removeTopLevel(sourceName) }
                return true
            }
        }
        guard let value = fields.value(at: config.field), let text = value.string else { return false }
        var bytes = Array(text.utf8)
        let ok = bytes.withUnsafeMutableBufferPointer { buf -> Bool in
            // Always leave the compact text in `scratch` (an in-place result copies it there).
            guard let placement = try? JSONCompactor.validate(UnsafeBufferPointer(buf), scratch: &scratch, members: &spans)
            else { return false }
            if placement == .inPlace { scratch = Array(buf) }
            return true
        }
        bytes = []
        guard ok else { return false }
        var overwritesSource = false
        if let target = config.target {
            if !fields.set(target, json: scratch) { conflict(&fields, target) }
            overwritesSource = target == config.field
        } else {
            guard scratch.first == UInt8(ascii: "{") else { return false }
            scratch.withUnsafeBufferPointer { fields.merge(objectText: $0, spans: spans) }
            if let sourceName { overwritesSource = Self.contains(sourceName, spans, in: nil, scratch) }
        }
        if config.removeSource && !overwritesSource { fields.remove(config.field) }
        return true
    }

    /// True when the parsed members include `name` (so the parse wrote a new value at the source).
    private static func contains(
        _ name: [UInt8], _ spans: [MemberSpan], in text: UnsafeBufferPointer<UInt8>?, _ scratch: [UInt8]
    ) -> Bool {
        func check(_ p: UnsafePointer<UInt8>, _ count: Int) -> Bool {
            // Without a backslash anywhere in the text no key is escaped: compare bytes only.
            if memchr(p, Int32(UInt8(ascii: "\\")), count) == nil {
                return name.withUnsafeBufferPointer { n in
                    spans.contains {
                        Int($0.keyEnd - $0.keyStart) == n.count
                            && (n.count == 0 || memcmp(p + Int($0.keyStart), n.baseAddress!, n.count) == 0)
                    }
                }
            }
            return spans.contains { JSONText.keyEquals(p, Int($0.keyStart)..<Int($0.keyEnd), name) }
        }
        if let text, let base = text.baseAddress { return check(base, text.count) }
        return scratch.withUnsafeBufferPointer { check($0.baseAddress!, $0.count) }
    }

    // MARK: logfmt and regex

    private func parseLogfmt(_ fields: inout Fields) -> Bool {
        guard let text = fields.value(at: config.field)?.string else { return false }
        var bytes = Array(text.utf8)
        guard let pairs = bytes.withUnsafeMutableBufferPointer({ Logfmt.parse(UnsafeBufferPointer($0)) }) else {
            return false
        }
        bytes = []
        return store(pairs.map { ($0.key, $0.json) }, in: &fields)
    }

    private func parseRegex(_ fields: inout Fields) -> Bool {
        guard let regex, let value = fields.value(at: config.field) else { return false }
        // Matched on the field's bytes where they lie; each capture becomes a JSON string.
        let pairs: [(String, [UInt8])]?? = value.withStringBytes { text in
            regex.captures(text).map { captures in
                captures.map { capture in
                    var json: [UInt8] = []
                    json.reserveCapacity(capture.range.count + 2)
                    JSONWriter.appendString(utf8: UnsafeBufferPointer(rebasing: text[capture.range]), to: &json)
                    return (capture.name, json)
                }
            }
        }
        guard let found = pairs, let pairs = found else { return false }
        return store(pairs, in: &fields)
    }

    /// Sets parsed (key, JSON) pairs at the root or under the target.
    private func store(_ pairs: [(String, [UInt8])], in fields: inout Fields) -> Bool {
        if let target = config.target {
            var object: [UInt8] = [UInt8(ascii: "{")]
            for (k, (key, json)) in pairs.enumerated() {
                if k > 0 { object.append(UInt8(ascii: ",")) }
                JSONWriter.appendString(key, to: &object)
                object.append(UInt8(ascii: ":"))
                object += json
            }
            object.append(UInt8(ascii: "}"))
            if !fields.set(target, json: object) { conflict(&fields, target) }
        } else {
            for (key, json) in pairs {
                // A dotted key (`a.b=1`) nests, like every field path in driftwood. A key that is
                // no path (`a..b`) is kept under its own name rather than dropped.
                if let path = FieldPath(key) {
                    if !fields.set(path, json: json) { conflict(&fields, path) }
                } else {
                    fields.setRaw(name: Array(key.utf8), json: json)
                }
            }
        }
        if config.removeSource && !pairs.contains(where: { $0.0 == config.field.text }) {
            fields.remove(config.field)
        }
        return true
    }

    // MARK: Timestamp

    private func conflict(_ fields: inout Fields, _ path: FieldPath) {
        fields.addTag("_field_conflict")
        failures?.record("_field_conflict") { "cannot set '\(path.text)': a parent is not an object" }
    }

    /// A time that does not parse keeps its field (`timestamp.remove` removes it only once it
    /// became `@timestamp`).
    private func setTimestamp(_ fields: inout Fields, from path: FieldPath) {
        guard let value = fields.value(at: path) else {
            fields.addTag("_timestamp_failure")
            failures?.record("_timestamp_failure") { "the time field '\(path.text)' is missing" }
            return
        }
        for format in timestampFormats {
            if let t = format.parse(value) {
                var json: [UInt8] = [UInt8(ascii: "\"")]
                t.appendRFC3339(to: &json)
                json.append(UInt8(ascii: "\""))
                fields.set(.timestamp, json: json)
                if config.timestamp?.remove == true { fields.remove(path) }
                return
            }
        }
        fields.addTag("_timestamp_failure")
        failures?.record("_timestamp_failure") {
            "the time field '\(path.text)' holds \(String(decoding: value.json.prefix(60), as: UTF8.self)), in none of the formats \(config.timestamp?.formats ?? [])"
        }
    }
}

/// One of the `timestamp.formats` of a parse filter.
enum TimestampFormat {
    case iso8601, unix, unixMilliseconds
    case pattern(TimestampPattern)

    init(_ name: String) throws {
        switch name {
        case "iso8601": self = .iso8601
        case "unix": self = .unix
        case "unix_ms": self = .unixMilliseconds
        default: self = .pattern(try TimestampPattern(name))
        }
    }

    func parse(_ value: JSONValue) -> Timestamp? {
        switch self {
        case .iso8601:
            guard let s = value.string else { return nil }
            return Timestamp(iso8601: Array(s.utf8))
        case .unix:
            guard let d = value.number ?? value.string.flatMap(Double.init), d.isFinite else { return nil }
            let t = Timestamp(unixSeconds: d)
            return t.isSupported ? t : nil
        case .unixMilliseconds:
            guard let d = value.number ?? value.string.flatMap(Double.init), d.isFinite, abs(d) < 1e17 else { return nil }
            let t = Timestamp(unixMilliseconds: Int64(d))
            return t.isSupported ? t : nil
        case .pattern(let p):
            guard let s = value.string else { return nil }
            return p.parse(Array(s.utf8))
        }
    }
}
