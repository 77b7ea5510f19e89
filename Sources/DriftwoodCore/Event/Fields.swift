#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The fields of an event: an ordered JSON object, `@timestamp` first, insertion order after.
///
/// Stored flat: one byte arena holding keys and compact JSON values, plus one span per top-level
/// member. A parsed line is copied into the arena once and its members point into it, so untouched
/// values are written back verbatim. Changing a nested field rewrites only the enclosing
/// top-level value's text. Old bytes are left in the arena until the event is gone.
public struct Fields: Sendable {
    @usableFromInline struct Member: Sendable {
        var span: MemberSpan
        /// The value is raw UTF-8 text (a string without quotes or escapes), not JSON.
        var isText: Bool
    }

    @usableFromInline var arena: [UInt8]
    @usableFromInline var members: [Member]
    /// Some top-level key may be written with an escape (`\`). While none is — nearly always —
    /// a key equals a name exactly when its bytes do, so lookups compare lengths first and never
    /// decode.
    @usableFromInline var escapedKeys = false

    public init(capacity: Int = 256) {
        arena = []
        members = []
        // Capacity 0 keeps the shared empty storage: such fields allocate nothing.
        if capacity > 0 {
            arena.reserveCapacity(capacity)
            members.reserveCapacity(16)
        }
    }

    /// Fields parsed from one JSON object text; throws if `json` is not a JSON object.
    public init(json: String) throws(JSONSyntaxError) {
        self.init()
        let bytes = Array(json.utf8)
        var spans: [MemberSpan] = []
        var escaped = false
        try bytes.withUnsafeBufferPointer { (buf) throws(JSONSyntaxError) -> Void in
            try JSONCompactor.compact(buf, into: &arena, members: &spans, escapedKeys: &escaped)
        }
        escapedKeys = escaped
        guard arena.first == UInt8(ascii: "{") else { throw JSONSyntaxError(offset: 0, reason: "not an object") }
        members = spans.map { Member(span: $0, isText: false) }
    }

    /// Number of top-level members.
    public var count: Int { members.count }

    /// Top-level keys in order.
    public var keys: [String] {
        arena.withUnsafeBufferPointer { buf in
            members.map { JSONText.decodeString(buf.baseAddress!, Int($0.span.keyStart)..<Int($0.span.keyEnd)) }
        }
    }

    // MARK: Reading

    @inline(__always)
    func memberIndex(_ name: [UInt8]) -> Int? {
        arena.withUnsafeBufferPointer { buf -> Int? in
            let p = buf.baseAddress!
            let count = name.count
            // Keys as written almost never hold escapes: compare bytes first, and decode escaped
            // keys only when that finds nothing.
            let found: Int? = name.withUnsafeBufferPointer { n in
                for k in members.indices {
                    let s = members[k].span
                    if Int(s.keyEnd - s.keyStart) == count, count == 0 || memcmp(p + Int(s.keyStart), n.baseAddress!, count) == 0 {
                        return k
                    }
                }
                return nil
            }
            if let found { return found }
            guard escapedKeys else { return nil }
            for k in members.indices {
                let s = members[k].span
                let key = Int(s.keyStart)..<Int(s.keyEnd)
                if key.count > count, JSONText.hasBackslash(p, key), JSONText.keyEquals(p, key, name) { return k }
            }
            return nil
        }
    }

    /// The value at `path`, or nil when any component is missing or a parent is not an object.
    public func value(at path: FieldPath) -> JSONValue? {
        guard let k = memberIndex(path.components[0]) else { return nil }
        let m = members[k]
        var value = JSONValue(storage: arena, range: Int(m.span.valueStart)..<Int(m.span.valueEnd), isText: m.isText)
        for name in path.components.dropFirst() {
            guard let next = value.member(name) else { return nil }
            value = next
        }
        return value
    }

    /// True when `path` holds a value (`null` included).
    public func contains(_ path: FieldPath) -> Bool { value(at: path) != nil }

    // MARK: Writing

    /// Sets `path` to the compact JSON text `json`. Returns false (and changes nothing) when a parent
    /// of the path holds a value that is not an object: the caller tags the event `_field_conflict`.
    @discardableResult
    public mutating func set(_ path: FieldPath, json: UnsafeBufferPointer<UInt8>) -> Bool {
        setValue(path, bytes: json, isText: false)
    }

    /// Sets `path` to compact JSON text.
    @discardableResult
    public mutating func set(_ path: FieldPath, json: [UInt8]) -> Bool {
        json.withUnsafeBufferPointer { setValue(path, bytes: $0, isText: false) }
    }

    /// Sets `path` to a string value.
    @discardableResult
    public mutating func set(_ path: FieldPath, string: String) -> Bool {
        var s = string
        return s.withUTF8 { setValue(path, bytes: $0, isText: true) }
    }

    /// Sets `path` to a string whose raw UTF-8 bytes (already valid UTF-8) are given.
    @discardableResult
    public mutating func set(_ path: FieldPath, text: UnsafeBufferPointer<UInt8>) -> Bool {
        setValue(path, bytes: text, isText: true)
    }

    /// Sets `path` to another value.
    @discardableResult
    public mutating func set(_ path: FieldPath, value: JSONValue) -> Bool {
        value.storage.withUnsafeBufferPointer {
            setValue(path, bytes: UnsafeBufferPointer(rebasing: $0[value.range]), isText: value.isText)
        }
    }

    mutating func setValue(_ path: FieldPath, bytes: UnsafeBufferPointer<UInt8>, isText: Bool) -> Bool {
        let name = path.components[0]
        if path.components.count == 1 {
            let start = Int32(arena.count)
            arena.append(contentsOf: bytes)
            let end = Int32(arena.count)
            if let k = memberIndex(name) {
                members[k].span.valueStart = start
                members[k].span.valueEnd = end
                members[k].isText = isText
            } else {
                appendMember(name: name, valueStart: start, valueEnd: end, isText: isText)
            }
            return true
        }
        // A nested path: rebuild the top-level value's text with the change in it.
        var valueJSON: [UInt8] = []
        if isText {
            JSONWriter.appendString(utf8: bytes, to: &valueJSON)
        } else {
            valueJSON.append(contentsOf: bytes)
        }
        let rest = path.components.dropFirst()
        var rebuilt: [UInt8] = []
        if let k = memberIndex(name) {
            let m = members[k]
            guard !m.isText, arena[Int(m.span.valueStart)] == UInt8(ascii: "{") else { return false }
            let ok = arena.withUnsafeBufferPointer { buf in
                ObjectText.setting(
                    buf.baseAddress!, Int(m.span.valueStart)..<Int(m.span.valueEnd), rest, valueJSON, into: &rebuilt)
            }
            guard ok else { return false }
            let start = Int32(arena.count)
            arena.append(contentsOf: rebuilt)
            members[k].span.valueStart = start
            members[k].span.valueEnd = Int32(arena.count)
        } else {
            ObjectText.nested(rest, valueJSON, into: &rebuilt)
            let start = Int32(arena.count)
            arena.append(contentsOf: rebuilt)
            appendMember(name: name, valueStart: start, valueEnd: Int32(arena.count), isText: false)
        }
        return true
    }

    mutating func appendMember(name: [UInt8], valueStart: Int32, valueEnd: Int32, isText: Bool) {
        let keyStart = Int32(arena.count)
        name.withUnsafeBufferPointer { JSONWriter.appendEscaped(utf8: $0, to: &arena) }
        if arena.count - Int(keyStart) != name.count { escapedKeys = true }
        let member = Member(
            span: MemberSpan(keyStart: keyStart, keyEnd: Int32(arena.count), valueStart: valueStart, valueEnd: valueEnd),
            isText: isText)
        if name.count == 10, name == FieldPath.timestamp.components[0] {
            members.insert(member, at: 0)
        } else {
            members.append(member)
        }
    }

    /// Removes the value at `path`; returns it, or nil when there was none.
    @discardableResult
    public mutating func remove(_ path: FieldPath) -> JSONValue? {
        guard let old = value(at: path) else { return nil }
        let k = memberIndex(path.components[0])!
        if path.components.count == 1 {
            members.remove(at: k)
            return old
        }
        let m = members[k]
        var rebuilt: [UInt8] = []
        arena.withUnsafeBufferPointer { buf in
            ObjectText.removing(
                buf.baseAddress!, Int(m.span.valueStart)..<Int(m.span.valueEnd), path.components.dropFirst(), into: &rebuilt)
        }
        let start = Int32(arena.count)
        arena.append(contentsOf: rebuilt)
        members[k].span.valueStart = start
        members[k].span.valueEnd = Int32(arena.count)
        return old
    }

    /// Sets the top-level member named exactly `name` (no path splitting) to JSON text.
    public mutating func setRaw(name: [UInt8], json: [UInt8]) {
        let start = Int32(arena.count)
        arena.append(contentsOf: json)
        if let k = memberIndex(name) {
            members[k].span.valueStart = start
            members[k].span.valueEnd = Int32(arena.count)
            members[k].isText = false
        } else {
            appendMember(name: name, valueStart: start, valueEnd: Int32(arena.count), isText: false)
        }
    }

    /// Removes the top-level member `name`; returns whether there was one.
    @discardableResult
    public mutating func removeTopLevel(_ name: [UInt8]) -> Bool {
        guard let k = memberIndex(name) else { return false }
        members.remove(at: k)
        return true
    }

    /// Merges the members of a parsed JSON object into the root: a key that exists is replaced in
    /// place, a new key is appended. `text` is compact object text and `spans` its members.
    /// `escapedKeys`: some key of `spans` may hold an escape (`JSONCompactor.validate` tells).
    public mutating func merge(objectText text: UnsafeBufferPointer<UInt8>, spans: [MemberSpan], escapedKeys: Bool = true) {
        let base = Int32(arena.count)
        arena.append(contentsOf: text)
        merge(spans: spans, at: base, escapedKeys: escapedKeys)
    }

    /// Like `merge(objectText:spans:)` for object text that is already in this event at `base`:
    /// the compact text of a raw text member (see `textRange(of:)`), so nothing is copied.
    public mutating func merge(spans: [MemberSpan], at base: Int32, escapedKeys: Bool = true) {
        if escapedKeys { self.escapedKeys = true }
        members.reserveCapacity(members.count + spans.count)
        // Members present before the merge (a new `@timestamp` goes in front of them, so this grows).
        var existing = members.count
        for s in spans {
            let span = MemberSpan(
                keyStart: s.keyStart + base, keyEnd: s.keyEnd + base,
                valueStart: s.valueStart + base, valueEnd: s.valueEnd + base)
            if let k = existingIndex(forKeyAt: span, upTo: existing) {
                members[k].span.valueStart = span.valueStart
                members[k].span.valueEnd = span.valueEnd
                members[k].isText = false
            } else if span.keyEnd - span.keyStart == 10, isTimestampKey(span) {
                members.insert(Member(span: span, isText: false), at: 0)
                existing += 1
            } else {
                members.append(Member(span: span, isText: false))
            }
        }
    }

    @inline(__always)
    func isTimestampKey(_ span: MemberSpan) -> Bool {
        arena.withUnsafeBufferPointer { buf in
            JSONText.keyEquals(buf.baseAddress!, Int(span.keyStart)..<Int(span.keyEnd), FieldPath.timestamp.components[0])
        }
    }

    /// Index of a member among the first `limit` whose key equals the key at `span` (both escaped
    /// forms as written; keys that differ only in escaping are rare enough to be treated apart).
    @inline(__always)
    func existingIndex(forKeyAt span: MemberSpan, upTo limit: Int) -> Int? {
        arena.withUnsafeBufferPointer { buf -> Int? in
            let p = buf.baseAddress!
            let length = Int(span.keyEnd - span.keyStart)
            let first = p[Int(span.keyStart)]
            for k in 0..<limit {
                let s = members[k].span
                if Int(s.keyEnd - s.keyStart) == length, p[Int(s.keyStart)] == first || length == 0,
                    memcmp(p + Int(s.keyStart), p + Int(span.keyStart), length) == 0
                {
                    return k
                }
            }
            return nil
        }
    }

    /// Adds `tag` to the `tags` array unless it is there already.
    public mutating func addTag(_ tag: String) {
        var tagJSON: [UInt8] = []
        JSONWriter.appendString(tag, to: &tagJSON)
        guard let current = value(at: .tags) else {
            set(.tags, json: [UInt8(ascii: "[")] + tagJSON + [UInt8(ascii: "]")])
            return
        }
        // Compared decoded, as `hasTag` does, so a tag written with escapes is not added twice.
        let tagBytes = Array(tag.utf8)
        switch current.kind {
        case .array:
            if current.elements.contains(where: { $0.stringEquals(tagBytes) }) { return }
            var text = current.json
            text.removeLast()
            if text.count > 1 { text.append(UInt8(ascii: ",")) }
            text += tagJSON
            text.append(UInt8(ascii: "]"))
            set(.tags, json: text)
        case .null:
            set(.tags, json: [UInt8(ascii: "[")] + tagJSON + [UInt8(ascii: "]")])
        case .string where current.stringEquals(tagBytes):
            // A scalar `tags` that is already this tag becomes a one-element array, as in Logstash.
            set(.tags, json: [UInt8(ascii: "[")] + current.json + [UInt8(ascii: "]")])
        default:
            // A scalar `tags` (from a parsed line) becomes an array holding it, as in Logstash.
            set(.tags, json: [UInt8(ascii: "[")] + current.json + [UInt8(ascii: ",")] + tagJSON + [UInt8(ascii: "]")])
        }
    }

    /// True when `tags` holds `tag`.
    public func hasTag(_ tag: String) -> Bool {
        guard let tags = value(at: .tags) else { return false }
        let bytes = Array(tag.utf8)
        return tags.elements.contains { $0.stringEquals(bytes) } || tags.stringEquals(bytes)
    }

    /// Calls `body` with the raw bytes of a top-level text member (an input's `message`), or returns
    /// nil when the member is missing or not raw text. The offset passed is where the bytes sit in
    /// the arena, for `merge(spans:at:)`.
    public func withRawText<R>(_ name: [UInt8], _ body: (UnsafeBufferPointer<UInt8>, Int32) -> R) -> R? {
        guard let k = memberIndex(name), members[k].isText else { return nil }
        let s = members[k].span
        return arena.withUnsafeBufferPointer {
            body(UnsafeBufferPointer(rebasing: $0[Int(s.valueStart)..<Int(s.valueEnd)]), s.valueStart)
        }
    }

    // MARK: Output

    /// Appends the compact JSON object to `out`.
    @inline(__always)
    public func write(to out: inout [UInt8]) {
        // Fast path: size the output once, then copy spans with memcpy. Raw text members need
        // escaping, so an event holding one takes the general path.
        // `{` `}`, and per member `"key":value` plus a comma between members.
        // The members through a buffer pointer: iterating the array itself retains its buffer.
        let size = members.withUnsafeBufferPointer { members -> Int? in
            var size = members.isEmpty ? 2 : 1
            for m in members {
                if m.isText { return nil }
                size += Int(m.span.keyEnd - m.span.keyStart) + Int(m.span.valueEnd - m.span.valueStart) + 4
            }
            return size
        }
        guard let size else { return writeEscaping(to: &out) }
        let start = out.count
        out.append(contentsOf: repeatElement(0, count: size))
        arena.withUnsafeBufferPointer { arenaBuffer in
            members.withUnsafeBufferPointer { members in
                out.withUnsafeMutableBufferPointer { outBuffer in
                    let p = arenaBuffer.baseAddress!
                    var o = outBuffer.baseAddress! + start
                    o.pointee = UInt8(ascii: "{")
                    o += 1
                    for k in members.indices {
                        let s = members[k].span
                        if k > 0 {
                            o.pointee = UInt8(ascii: ",")
                            o += 1
                        }
                        o.pointee = UInt8(ascii: "\"")
                        let keyLength = Int(s.keyEnd - s.keyStart)
                        memcpy(o + 1, p + Int(s.keyStart), keyLength)
                        o += keyLength + 1
                        o[0] = UInt8(ascii: "\"")
                        o[1] = UInt8(ascii: ":")
                        o += 2
                        let valueLength = Int(s.valueEnd - s.valueStart)
                        memcpy(o, p + Int(s.valueStart), valueLength)
                        o += valueLength
                    }
                    o.pointee = UInt8(ascii: "}")
                    o += 1
                    precondition(o - (outBuffer.baseAddress! + start) == size)
                }
            }
        }
    }

    func writeEscaping(to out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        arena.withUnsafeBufferPointer { buf in
            let p = buf.baseAddress!
            for k in members.indices {
                let m = members[k]
                if k > 0 { out.append(UInt8(ascii: ",")) }
                out.append(UInt8(ascii: "\""))
                out.append(contentsOf: UnsafeBufferPointer(start: p + Int(m.span.keyStart), count: Int(m.span.keyEnd - m.span.keyStart)))
                out.append(UInt8(ascii: "\""))
                out.append(UInt8(ascii: ":"))
                let value = UnsafeBufferPointer(start: p + Int(m.span.valueStart), count: Int(m.span.valueEnd - m.span.valueStart))
                if m.isText {
                    JSONWriter.appendString(utf8: value, to: &out)
                } else {
                    out.append(contentsOf: value)
                }
            }
        }
        out.append(UInt8(ascii: "}"))
    }

    /// The compact JSON object as a string (tests, cold paths).
    public var json: String {
        var out: [UInt8] = []
        write(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Bytes held, for queue accounting.
    public var byteCount: Int { arena.capacity + members.capacity * 20 + 64 }
}
