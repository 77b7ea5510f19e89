/// Builds the event an input makes from one line (docs/events.md): `@timestamp` (read time), `message`,
/// then the input's own members (`input.type`, `host.name`, `log.*`). The common members are
/// encoded once, so making an event is two allocations and a few copies.
public struct LineEventBuilder: Sendable {
    /// The escaped keys and JSON values of the members every event of this input carries after
    /// `message`, laid out as they will sit in the arena, and their spans relative to its start.
    let commonBytes: [UInt8]
    let commonSpans: [MemberSpan]
    let commonSize: Int

    /// - Parameters:
    ///   - inputType: `stdin` or `file`.
    ///   - hostName: the machine's host name.
    public init(inputType: String, hostName: String) {
        var input: [UInt8] = []
        input += Array(#"{"type":"#.utf8)
        JSONWriter.appendString(inputType, to: &input)
        input.append(UInt8(ascii: "}"))
        var host: [UInt8] = []
        host += Array(#"{"name":"#.utf8)
        JSONWriter.appendString(hostName, to: &host)
        host.append(UInt8(ascii: "}"))
        var bytes: [UInt8] = []
        var spans: [MemberSpan] = []
        for (key, value) in [(Array("input".utf8), input), (Array("host".utf8), host)] {
            let keyStart = Int32(bytes.count)
            key.withUnsafeBufferPointer { JSONWriter.appendEscaped(utf8: $0, to: &bytes) }
            let valueStart = Int32(bytes.count)
            bytes += value
            spans.append(MemberSpan(keyStart: keyStart, keyEnd: valueStart, valueStart: valueStart, valueEnd: Int32(bytes.count)))
        }
        commonBytes = bytes
        commonSpans = spans
        commonSize = bytes.count
    }

    /// The fields of one line's event. `timestamp` is the JSON string of the read time (quotes
    /// included), shared by a batch. Invalid UTF-8 in the line becomes U+FFFD.
    /// `log` is the JSON object text of the file input's `log` member, when there is one.
    /// `storage`, when given, is recycled from written events (see `FieldsPool`).
    @inline(__always)
    public func make(
        line: UnsafeBufferPointer<UInt8>, timestamp: [UInt8], log: [UInt8]? = nil, storage: consuming Fields.Storage? = nil
    ) -> Fields {
        if UTF8Repair.isValid(line) {
            return make(validLine: line, timestamp: timestamp, log: log, storage: storage)
        }
        // Rare: a repaired copy of the line, on fresh storage.
        let fixed = UTF8Repair.repaired(line)
        return fixed.withUnsafeBufferPointer { make(validLine: $0, timestamp: timestamp, log: log, storage: nil) }
    }

    @inline(__always)
    func make(
        validLine line: UnsafeBufferPointer<UInt8>, timestamp: [UInt8], log: [UInt8]?, storage: consuming Fields.Storage?
    ) -> Fields {
        // Room for a parsed copy of a JSON line and a few added fields, so filters rarely reallocate.
        let capacity = line.count + commonSize + timestamp.count + (log?.count ?? 0) + 160
        var fields: Fields
        switch consume storage {
        case .some(let recycled): fields = Fields(storage: recycled, capacity: capacity)
        case .none: fields = Fields(capacity: capacity)
        }
        // Laid out directly: `@timestamp` key and value, `message` key and the raw line, then the
        // prebuilt members. Keys need no escaping.
        let tsKey: StaticString = "@timestamp"
        let messageKey: StaticString = "message"
        fields.arena.append(contentsOf: UnsafeBufferPointer(start: tsKey.utf8Start, count: tsKey.utf8CodeUnitCount))
        // Through buffer pointers: `append(contentsOf:)` takes an array it is given owned, which
        // costs a retain and a release of its buffer per call, per event.
        timestamp.withUnsafeBufferPointer { fields.arena.append(contentsOf: $0) }
        fields.arena.append(contentsOf: UnsafeBufferPointer(start: messageKey.utf8Start, count: messageKey.utf8CodeUnitCount))
        fields.arena.append(contentsOf: line)
        let t = Int32(tsKey.utf8CodeUnitCount)
        let v = t + Int32(timestamp.count)
        let m = v + Int32(messageKey.utf8CodeUnitCount)
        fields.members.append(.init(span: MemberSpan(keyStart: 0, keyEnd: t, valueStart: t, valueEnd: v), isText: false))
        fields.members.append(.init(span: MemberSpan(keyStart: v, keyEnd: m, valueStart: m, valueEnd: m + Int32(line.count)), isText: true))
        fields.appendPrebuilt(commonBytes, spans: commonSpans)
        if let log { fields.appendMember(name: logKey, json: log) }
        return fields
    }

    let logKey = Array("log".utf8)

    /// The read time as a JSON string (quotes included): every line of one read shares it.
    public static func readTimeJSON() -> [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "\"")]
        Timestamp.now().appendRFC3339(to: &out)
        out.append(UInt8(ascii: "\""))
        return out
    }

    /// The fields of one line read from a file: as `make(line:…)`, plus
    /// `log: {file: {path}, offset}` — `logPrefix` is `{"file":{"path":"…"},"offset":` for the
    /// file (see `filePrefix(path:)`), completed here with the line's offset.
    @inline(__always)
    public func make(
        line: UnsafeBufferPointer<UInt8>, timestamp: [UInt8], logPrefix: [UInt8], offset: UInt64,
        storage: consuming Fields.Storage? = nil
    ) -> Fields {
        var fields = make(line: line, timestamp: timestamp, log: nil, storage: storage)
        let start = Int32(fields.arena.count)
        logPrefix.withUnsafeBufferPointer { fields.arena.append(contentsOf: $0) }
        JSONWriter.appendInteger(Int64(truncatingIfNeeded: offset), to: &fields.arena)
        fields.arena.append(UInt8(ascii: "}"))
        fields.appendMember(name: logKey, valueStart: start, valueEnd: Int32(fields.arena.count), isText: false)
        return fields
    }

    /// `{"file":{"path":"<path>"},"offset":` — the start of a file event's `log` member.
    public static func filePrefix(path: String) -> [UInt8] {
        var out = Array(#"{"file":{"path":"#.utf8)
        JSONWriter.appendString(path, to: &out)
        out += Array(#"},"offset":"#.utf8)
        return out
    }
}

extension Fields {
    /// Appends a member that is known to be new (inputs building a fresh event).
    @inline(__always)
    mutating func appendMember(name: [UInt8], json: [UInt8]) {
        let start = Int32(arena.count)
        json.withUnsafeBufferPointer { arena.append(contentsOf: $0) }
        appendMember(name: name, valueStart: start, valueEnd: Int32(arena.count), isText: false)
    }

    /// Appends members laid out in `bytes` (escaped keys and JSON values) at `spans` relative to it.
    @inline(__always)
    mutating func appendPrebuilt(_ bytes: [UInt8], spans: [MemberSpan]) {
        let base = Int32(arena.count)
        bytes.withUnsafeBufferPointer { arena.append(contentsOf: $0) }
        spans.withUnsafeBufferPointer { spans in
            for s in spans {
                members.append(
                    Member(
                        span: MemberSpan(
                            keyStart: s.keyStart + base, keyEnd: s.keyEnd + base, valueStart: s.valueStart + base,
                            valueEnd: s.valueEnd + base),
                        isText: false))
            }
        }
    }

    @inline(__always)
    mutating func appendMember(name: [UInt8], text: UnsafeBufferPointer<UInt8>) {
        let start = Int32(arena.count)
        arena.append(contentsOf: text)
        appendMember(name: name, valueStart: start, valueEnd: Int32(arena.count), isText: true)
    }
}
