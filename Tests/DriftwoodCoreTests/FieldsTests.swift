import Testing

@testable import DriftwoodCore

private func path(_ text: String) -> FieldPath { FieldPath(text)! }

private func json(_ text: String) -> [UInt8] { Array(text.utf8) }

/// Merges the object `text` into `fields` the way the parse filter does.
private func merge(_ text: String, into fields: inout Fields) throws {
    var compact: [UInt8] = []
    var spans: [MemberSpan] = []
    try Array(text.utf8).withUnsafeBufferPointer { (buf) throws(JSONSyntaxError) in
        _ = try JSONCompactor.compact(buf, into: &compact, members: &spans)
    }
    compact.withUnsafeBufferPointer { fields.merge(objectText: $0, spans: spans) }
}

@Suite("Fields")
struct FieldsTests {
    static let sample = #"{"a":{"b":{"c":1},"list":[1,2]},"s":"x","n":null,"we\"ird":true}"#

    @Test func valuesAtNestedPaths() throws {
        let fields = try Fields(json: Self.sample)
        #expect(fields.count == 4)
        #expect(fields.keys == ["a", "s", "n", "we\"ird"])
        #expect(fields.value(at: path("a.b.c"))?.integer == 1)
        #expect(fields.value(at: path("a.b"))?.json == json(#"{"c":1}"#))
        #expect(fields.value(at: path("a.list"))?.elements.map(\.json) == [json("1"), json("2")])
        #expect(fields.value(at: path("s"))?.string == "x")
        #expect(fields.value(at: path("we\"ird"))?.bool == true)
        #expect(fields.value(at: path("n"))?.kind == .null)
        #expect(fields.contains(path("n")))
        // Missing, and below a value that is not an object.
        #expect(fields.value(at: path("a.x")) == nil)
        #expect(fields.value(at: path("s.x")) == nil)
        #expect(fields.value(at: path("a.list.0")) == nil)
        #expect(!fields.contains(path("zz")))
        #expect(throws: JSONSyntaxError.self) { try Fields(json: "[1]") }
        #expect(throws: JSONSyntaxError.self) { try Fields(json: #"{"a":1"#) }
    }

    @Test func settingNestedPathsRewritesOnlyWhatChanges() throws {
        var fields = try Fields(json: Self.sample)
        let ok1 = fields.set(path("a.b.d"), json: json("2"))
        #expect(ok1)
        let ok2 = fields.set(path("a.b.c"), string: "say \"hi\"\n")
        #expect(ok2)
        let ok3 = fields.set(path("new.deep.er"), json: json("[]"))
        #expect(ok3)
        let ok4 = fields.set(path("s"), json: json("{}"))
        #expect(ok4)
        let ok5 = fields.set(path("s.t"), string: "u")
        #expect(ok5)
        #expect(fields.json
            == #"{"a":{"b":{"c":"say \"hi\"\n","d":2},"list":[1,2]},"s":{"t":"u"},"n":null,"we\"ird":true,"new":{"deep":{"er":[]}}}"#)
        #expect(fields.value(at: path("a.b.c"))?.string == "say \"hi\"\n")
        #expect(fields.value(at: path("new.deep"))?.json == json(#"{"er":[]}"#))
    }

    @Test(arguments: ["s.x", "n.x", "a.list.x", "a.b.c.d", "we\"ird.x"])
    func settingBelowANonObjectIsAConflict(_ target: String) throws {
        var fields = try Fields(json: Self.sample)
        let ok6 = fields.set(path(target), json: json("1"))
        #expect(!ok6)
        let ok7 = fields.set(path(target), string: "v")
        #expect(!ok7)
        #expect(fields.json == Self.sample)
    }

    @Test func timestampStaysFirst() throws {
        var fields = try Fields(json: #"{"a":1,"b":2}"#)
        let ok8 = fields.set(path("@timestamp"), json: json(#""t1""#))
        #expect(ok8)
        #expect(fields.json == #"{"@timestamp":"t1","a":1,"b":2}"#)
        let ok9 = fields.set(path("@timestamp"), json: json(#""t2""#))
        #expect(ok9)
        let ok10 = fields.set(path("z"), json: json("3"))
        #expect(ok10)
        #expect(fields.json == #"{"@timestamp":"t2","a":1,"b":2,"z":3}"#)

        var merged = try Fields(json: #"{"a":1}"#)
        try merge(#"{"b":2,"@timestamp":"t"}"#, into: &merged)
        #expect(merged.json == #"{"@timestamp":"t","a":1,"b":2}"#)
        try merge(#"{"@timestamp":"u","a":0}"#, into: &merged)
        #expect(merged.json == #"{"@timestamp":"u","a":0,"b":2}"#)

        // A new @timestamp ahead of keys that exist: those are still replaced, not duplicated.
        var late = try Fields(json: #"{"a":1,"b":2}"#)
        try merge(#"{"@timestamp":"t","b":3,"a":4}"#, into: &late)
        #expect(late.json == #"{"@timestamp":"t","a":4,"b":3}"#)
    }

    @Test func newMembersKeepInsertionOrder() {
        var fields = Fields()
        for key in ["z", "a", "m", "b"] { fields.set(path(key), json: json("0")) }
        let ok11 = fields.set(path("a"), json: json("1"))
        #expect(ok11)
        #expect(fields.keys == ["z", "a", "m", "b"])
        #expect(fields.json == #"{"z":0,"a":1,"m":0,"b":0}"#)
        #expect(Fields().json == "{}")
    }

    @Test func mergeReplacesExistingKeysInPlace() throws {
        var fields = try Fields(json: #"{"a":1,"b":2,"c":3}"#)
        try merge(#"{ "b" : { "x" : [1] }, "d" : "new", "a" : null }"#, into: &fields)
        #expect(fields.json == #"{"a":null,"b":{"x":[1]},"c":3,"d":"new"}"#)
        #expect(fields.value(at: path("b.x"))?.elements.count == 1)
        // Later edits see the merged values.
        let ok12 = fields.set(path("b.y"), json: json("true"))
        #expect(ok12)
        #expect(fields.value(at: path("b"))?.json == json(#"{"x":[1],"y":true}"#))
    }

    @Test(arguments: [
        ("o.a", #"{"o":{"b":2,"c":{"d":3,"e":4}},"k":0}"#),
        ("o.b", #"{"o":{"a":1,"c":{"d":3,"e":4}},"k":0}"#),
        ("o.c", #"{"o":{"a":1,"b":2},"k":0}"#),
        ("o.c.d", #"{"o":{"a":1,"b":2,"c":{"e":4}},"k":0}"#),
        ("o.c.e", #"{"o":{"a":1,"b":2,"c":{"d":3}},"k":0}"#),
        ("o", #"{"k":0}"#),
        ("k", #"{"o":{"a":1,"b":2,"c":{"d":3,"e":4}}}"#),
    ])
    func removingNestedMembers(_ target: String, _ expected: String) throws {
        var fields = try Fields(json: #"{"o":{"a":1,"b":2,"c":{"d":3,"e":4}},"k":0}"#)
        let removedValue = fields.remove(path(target))
        let removed = try #require(removedValue)
        #expect(removed.kind == .number || removed.kind == .object)
        #expect(fields.json == expected)
        #expect(fields.value(at: path(target)) == nil)
        let again = fields.remove(path(target))
        #expect(again == nil)
        #expect(fields.json == expected)
    }

    @Test func removingTheOnlyMemberLeavesAnEmptyObject() throws {
        var fields = try Fields(json: #"{"o":{"p":{"q":"v"}}}"#)
        let removed = fields.remove(path("o.p.q"))
        #expect(removed?.string == "v")
        #expect(fields.json == #"{"o":{"p":{}}}"#)
        let again = fields.remove(path("o.p.q"))
        let missing = fields.remove(path("o.x"))
        #expect(again == nil && missing == nil)
        #expect(fields.json == #"{"o":{"p":{}}}"#)
    }

    @Test func addTag() throws {
        var fields = Fields()
        fields.addTag("a")
        #expect(fields.json == #"{"tags":["a"]}"#)
        fields.addTag("b")
        fields.addTag("a")
        fields.addTag("q\"uote")
        #expect(fields.json == #"{"tags":["a","b","q\"uote"]}"#)
        fields.addTag("q\"uote")
        #expect(fields.value(at: .tags)?.elements.count == 3)
        #expect(fields.hasTag("q\"uote") && fields.hasTag("b") && !fields.hasTag("c"))

        var scalar = try Fields(json: #"{"tags":"old","x":1}"#)
        scalar.addTag("new")
        #expect(scalar.json == #"{"tags":["old","new"],"x":1}"#)
        var empty = try Fields(json: #"{"tags":[],"y":null}"#)
        empty.addTag("t")
        #expect(empty.json == #"{"tags":["t"],"y":null}"#)
        var null = try Fields(json: #"{"tags":null}"#)
        null.addTag("t")
        #expect(null.json == #"{"tags":["t"]}"#)
    }

    @Test func addTagNeverDuplicatesATagAlreadyThere() throws {
        // A scalar `tags` equal to the tag (Logstash keeps one), and a tag written with an escape:
        // `hasTag` already says yes to both, so `addTag` must not add a second copy.
        var scalar = try Fields(json: #"{"tags":"t"}"#)
        #expect(scalar.hasTag("t"))
        scalar.addTag("t")
        #expect(scalar.json == #"{"tags":["t"]}"#)
        var escaped = try Fields(json: #"{"tags":["\u0074"]}"#)
        #expect(escaped.hasTag("t"))
        escaped.addTag("t")
        #expect(escaped.value(at: .tags)?.elements.count == 1)
    }

    static let builder = LineEventBuilder(inputType: "stdin", hostName: "h\"ost")
    static let timestamp = json(#""2026-11-24T10:00:00.000Z""#)

    @Test func rawTextMembersAreWrittenEscaped() throws {
        let line = json("say \"hi\"\\\n\t") + [0xC3, 0x28, 0xFF, 0x01] + json("ok")
        let fields = line.withUnsafeBufferPointer { Self.builder.make(line: $0, timestamp: Self.timestamp) }
        let expectedMessage = "say \\\"hi\\\"\\\\\\n\\t\u{FFFD}(\u{FFFD}\\u0001ok"
        #expect(fields.json
            == #"{"@timestamp":"2026-11-24T10:00:00.000Z","message":""# + expectedMessage
            + #"","input":{"type":"stdin"},"host":{"name":"h\"ost"}}"#)
        #expect(fields.value(at: .message)?.string == "say \"hi\"\\\n\t\u{FFFD}(\u{FFFD}\u{1}ok")
        #expect(fields.value(at: .message)?.kind == .string)
        #expect(fields.value(at: path("host.name"))?.string == "h\"ost")
        #expect(fields.withRawText(FieldPath.message.components[0]) { text, _ in Array(text) }
            == json("say \"hi\"\\\n\t\u{FFFD}(\u{FFFD}\u{1}ok"))
        #expect(fields.withRawText(Array("input".utf8)) { _, _ in 0 } == nil)
        // The output is one valid JSON object.
        var out: [UInt8] = []
        fields.write(to: &out)
        #expect(try JSONCompactor.compact(out) == out)
        var conflict = fields
        let ok17 = conflict.set(path("message.x"), json: json("1"))
        #expect(!ok17)
        #expect(conflict.json == fields.json)
    }

    @Test func rawJSONMessageMergesInPlace() throws {
        let line = json(#"{"level":"warn","@timestamp":"t","host":{"name":"other"}}"#)
        var fields = line.withUnsafeBufferPointer { Self.builder.make(line: $0, timestamp: Self.timestamp) }
        var spans: [MemberSpan] = []
        var scratch: [UInt8] = []
        let result = fields.withRawText(FieldPath.message.components[0]) { text, base in
            ((try? JSONCompactor.validate(text, scratch: &scratch, members: &spans)), base)
        }
        let (placement, base) = try #require(result)
        #expect(placement == .inPlace)
        fields.merge(spans: spans, at: base)
        #expect(fields.json == #"{"@timestamp":"t","message":"{\"level\":\"warn\",\"@timestamp\":\"t\",\"host\":{\"name\":\"other\"}}","input":{"type":"stdin"},"host":{"name":"other"},"level":"warn"}"#)
    }

    /// Keys are compared byte for byte only while no key of the event is written with an escape;
    /// a parsed line, a merged object and an added member each say when one is.
    @Test func escapedKeysAreStillFound() throws {
        let line = json(#"{"err\u006fr":"timeout","lev\u0065l":"ERROR","plain":1}"#)
        var fields = line.withUnsafeBufferPointer { Self.builder.make(line: $0, timestamp: Self.timestamp) }
        #expect(!fields.escapedKeys)
        var spans: [MemberSpan] = []
        var scratch: [UInt8] = []
        var escaped = false
        let result = fields.withRawText(FieldPath.message.components[0]) { text, base in
            ((try? JSONCompactor.validate(text, scratch: &scratch, members: &spans, escapedKeys: &escaped)), base)
        }
        let (_, base) = try #require(result)
        #expect(escaped)
        fields.merge(spans: spans, at: base, escapedKeys: escaped)
        #expect(fields.escapedKeys)
        #expect(fields.value(at: path("error"))?.string == "timeout")
        var hint = 0
        #expect(fields.memberIndex(Array("level".utf8), hint: &hint) != nil)
        let paths = PathSet([path("error"), path("level"), path("plain"), path("missing")])
        let slots = UnsafeMutableBufferPointer<ValueSlot>.allocate(capacity: 4)
        defer { slots.deallocate() }
        paths.locate(in: fields, into: slots)
        #expect(slots[0].found && slots[1].found && slots[2].found && !slots[3].found)
        // Without escapes, the flag stays off and lookups still find what is there.
        var plain = try Fields(json: #"{"error":"x","level":"INFO"}"#)
        #expect(!plain.escapedKeys && plain.value(at: path("error"))?.string == "x")
        plain.set(path("a\"b"), json: json("1"))  // a name that needs an escape in JSON
        #expect(plain.escapedKeys && plain.value(at: path("a\"b")) != nil)
        #expect(try Fields(json: #"{"\u0065rror":"x"}"#).escapedKeys)
        // A merge whose caller does not know assumes escapes.
        var unknown = try Fields(json: #"{"a":1}"#)
        let object = json(#"{"b":2}"#)
        object.withUnsafeBufferPointer {
            unknown.merge(objectText: $0, spans: [MemberSpan(keyStart: 2, keyEnd: 3, valueStart: 5, valueEnd: 6)])
        }
        #expect(unknown.escapedKeys && unknown.value(at: path("b"))?.integer == 2)
    }

    @Test func utf8Repair() {
        func repaired(_ bytes: [UInt8]) -> [UInt8] { bytes.withUnsafeBufferPointer { UTF8Repair.repaired($0) } }
        func isValid(_ bytes: [UInt8]) -> Bool { bytes.withUnsafeBufferPointer { UTF8Repair.isValid($0) } }
        #expect(isValid([]) && repaired([]) == [])
        #expect(isValid(json("plain ascii, long enough for the fast path")))
        #expect(isValid(json("\u{E9}\u{4E2D}\u{1F600}\u{10FFFF}\u{FFFF}")))
        #expect(repaired([0x61, 0xC0, 0x80, 0x62]) == [0x61, 0xEF, 0xBF, 0xBD, 0xEF, 0xBF, 0xBD, 0x62])
        #expect(repaired([0xED, 0xA0, 0x80]) == json("\u{FFFD}\u{FFFD}\u{FFFD}"))
        #expect(repaired([0xF4, 0x90, 0x80, 0x80]) == json("\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}"))
        #expect(repaired([0xE2, 0x82]) == json("\u{FFFD}"))
        // Random bytes (ASCII, well-formed sequences, stray high bytes): the same answer as Swift's
        // own decoder, for every length around the eight-byte fast path.
        let pieces: [[UInt8]] = [json("a"), json("bc"), json("\u{E9}"), json("\u{4E2D}"), json("\u{1F600}"), [0x80], [0xC3],
            [0xE2, 0x82], [0xF0, 0x9F], [0xED, 0xB0, 0x80], [0xC1, 0x81], [0xF4, 0x90, 0x80, 0x80], [0xFF], json("0123456789")]
        var state: UInt64 = 12345
        for length in 0..<400 {
            var bytes: [UInt8] = []
            for _ in 0..<(length % 40) {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                bytes += pieces[Int(state >> 33) % pieces.count]
            }
            let oracle = Array(String(decoding: bytes, as: UTF8.self).utf8)
            #expect(repaired(bytes) == oracle)
            #expect(isValid(bytes) == (oracle == bytes))
        }
    }
}
