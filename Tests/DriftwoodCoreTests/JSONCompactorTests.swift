import Testing

@testable import DriftwoodCore

private func compact(_ s: String) throws -> String {
    String(decoding: try JSONCompactor.compact(Array(s.utf8)), as: UTF8.self)
}

private func syntaxError(_ bytes: [UInt8]) -> JSONSyntaxError? {
    do {
        _ = try JSONCompactor.compact(bytes)
        return nil
    } catch {
        return error
    }
}

/// Compacts `input` recording members; returns each member's key and value text, read from the output.
private func members(of input: String) throws -> (output: [UInt8], members: [(key: String, value: String)]) {
    var out: [UInt8] = []
    var spans: [MemberSpan] = []
    _ = try Array(input.utf8).withUnsafeBufferPointer { (buf) throws(JSONSyntaxError) in
        try JSONCompactor.compact(buf, into: &out, members: &spans)
    }
    return (out, spans.map { text(out, $0) })
}

private func text(_ out: [UInt8], _ s: MemberSpan) -> (key: String, value: String) {
    (
        String(decoding: out[Int(s.keyStart)..<Int(s.keyEnd)], as: UTF8.self),
        String(decoding: out[Int(s.valueStart)..<Int(s.valueEnd)], as: UTF8.self)
    )
}

private let fffd: [UInt8] = [0xEF, 0xBF, 0xBD]

@Suite("JSONCompactor")
struct JSONCompactorTests {
    @Test func whiteSpaceBetweenTokensIsRemoved() throws {
        #expect(try compact(" { \"a\" : [ 1 , 2 ] ,\n\t\"b\" :\r\n{ } , \"c\":[ ] }\n") == #"{"a":[1,2],"b":{},"c":[]}"#)
        #expect(try compact("\t\r\n true \n") == "true")
        // White space inside strings is content.
        #expect(try compact(#"{ "a b" : " x  y\t" }"#) == #"{"a b":" x  y\t"}"#)
    }

    @Test(arguments: [
        "1.0", "1e5", "1E+5", "1e-05", "-0", "-0.0e-0", "0.000", "12345678901234567890123456789",
        "1.7976931348623157e309", #""\u00e9""#, #""\u00E9\uD83D\uDE00""#, #""\/""#, #""\b\f\n\r\t\"\\""#,
        #""\u0000\u001f""#, "\"caf\u{E9} \u{4E2D} \u{1F600} \u{FFFF} \u{10FFFF}\"", #"{"\u0041":"\ud800"}"#,
    ])
    func escapesAndNumberSpellingsAreKeptByteExact(_ value: String) throws {
        #expect(try compact(value) == value)
        #expect(try compact(" [ \(value) , \(value) ] ") == "[\(value),\(value)]")
        #expect(try compact("{\"k\" : \(value) }") == "{\"k\":\(value)}")
    }

    @Test func memberSpansCoverTopLevelMembersOnly() throws {
        let input = #"{ "a" : 1, "b" : { "c" : [ 1, { "d" : 2 } ] }, "e":[ ], "f" : { }, "g":"s\"}", "h":[[1],{"x":{}}], "\u0041":null }"#
        let (output, found) = try members(of: input)
        #expect(String(decoding: output, as: UTF8.self)
            == #"{"a":1,"b":{"c":[1,{"d":2}]},"e":[],"f":{},"g":"s\"}","h":[[1],{"x":{}}],"\u0041":null}"#)
        #expect(found.map(\.key) == ["a", "b", "e", "f", "g", "h", #"\u0041"#])
        #expect(found.map(\.value) == ["1", #"{"c":[1,{"d":2}]}"#, "[]", "{}", #""s\"}""#, #"[[1],{"x":{}}]"#, "null"])
    }

    @Test func noSpansForEmptyObjectsArraysOrScalars() throws {
        #expect(try members(of: "{ }").members.isEmpty)
        #expect(try members(of: #"[{"a":1},{"b":{"c":2}}]"#).members.isEmpty)
        #expect(try members(of: #""{\"a\":1}""#).members.isEmpty)
        let single = try members(of: #"{"":{}}"#)
        #expect(single.members.count == 1)
        #expect(single.members.first?.key == "" && single.members.first?.value == "{}")
    }

    @Test func spansAreOffsetsIntoTheWholeOutputAndErrorsRestoreIt() throws {
        var out = Array("prefix".utf8)
        var spans = [MemberSpan(keyStart: 0, keyEnd: 0, valueStart: 0, valueEnd: 0)]
        let range = try Array(#"{"k": "v"}"#.utf8).withUnsafeBufferPointer { (buf) throws(JSONSyntaxError) in
            try JSONCompactor.compact(buf, into: &out, members: &spans)
        }
        #expect(range == 6..<15)
        #expect(spans.count == 2)
        #expect(text(out, spans[1]) == ("k", #""v""#))
        let before = (out, spans)
        #expect(throws: JSONSyntaxError.self) {
            try Array(#"{"a":1,"b":[1,2"#.utf8).withUnsafeBufferPointer { (buf) throws(JSONSyntaxError) in
                try JSONCompactor.compact(buf, into: &out, members: &spans)
            }
        }
        #expect(out == before.0 && spans == before.1)
    }

    private func validate(_ bytes: [UInt8], scratch: inout [UInt8], spans: inout [MemberSpan]) throws -> JSONCompactor.Placement {
        try bytes.withUnsafeBufferPointer { (buf) throws(JSONSyntaxError) in
            try JSONCompactor.validate(buf, scratch: &scratch, members: &spans)
        }
    }

    @Test func validateIsInPlaceForCompactValidInput() throws {
        let input = Array(#"{"a":"\u00e9 é","b":[1,{"c":2}],"d":{}}"#.utf8)
        var scratch = Array("stale".utf8)
        var spans: [MemberSpan] = []
        #expect(try validate(input, scratch: &scratch, spans: &spans) == .inPlace)
        #expect(spans.map { text(input, $0).key } == ["a", "b", "d"])
        #expect(spans.map { text(input, $0).value } == [#""\u00e9 é""#, #"[1,{"c":2}]"#, "{}"])
        // Nothing is copied: the stale scratch contents are dropped and nothing is written.
        #expect(scratch.isEmpty)
    }

    @Test(arguments: [
        Array(#"{"a": 1}"#.utf8), Array("{\"a\":1}\n".utf8), Array(" 1".utf8),
        Array(#"{"a":"x"#.utf8) + [0xFF] + Array(#""}"#.utf8), Array(#"["#.utf8) + [0x22, 0xC3, 0x22] + [0x5D],
    ])
    func validateUsesScratchWhenTheTextChanges(_ input: [UInt8]) throws {
        var scratch = Array("stale".utf8)
        var spans: [MemberSpan] = []
        #expect(try validate(input, scratch: &scratch, spans: &spans) == .scratch)
        #expect(scratch == (try JSONCompactor.compact(input)))
        #expect(scratch != input)
        for s in spans { #expect(scratch[Int(s.keyStart) - 1] == 0x22 && scratch[Int(s.valueEnd) - 1] != 0x20) }
    }

    @Test(arguments: [
        // (ill-formed bytes, how many U+FFFD they become, the well-formed bytes after them)
        ([0x80], 1, []), ([0xBF, 0x80], 2, []), ([0xC3], 1, []), ([0xE2, 0x82], 1, []), ([0xF0, 0x9F, 0x98], 1, []),
        ([0xC0, 0x80], 2, []), ([0xC1, 0xBF], 2, []), ([0xE0, 0x80, 0x80], 3, []), ([0xED, 0xA0, 0x80], 3, []),
        ([0xED, 0xBF, 0xBF], 3, []), ([0xF4, 0x90, 0x80, 0x80], 4, []), ([0xF5, 0x80], 2, []), ([0xFF], 1, []),
        ([0xFE, 0xFF], 2, []), ([0xF8, 0x88, 0x80, 0x80, 0x80], 5, []), ([0xE2, 0x82, 0xC3, 0xA9], 1, [0xC3, 0xA9]),
    ] as [([UInt8], Int, [UInt8])])
    func invalidUTF8InStringsBecomesReplacementCharacters(_ bad: [UInt8], _ replacements: Int, _ tail: [UInt8]) throws {
        let repaired = Array([[UInt8]](repeating: fffd, count: replacements).joined()) + tail
        // Swift's own decoder replaces the same maximal subparts.
        #expect(Array(String(decoding: bad, as: UTF8.self).utf8) == repaired)
        for prefix in ["", "0123456789abcdef"] {  // slow path, and after the eight-byte fast path
            let input = Array("[\"\(prefix)".utf8) + bad + Array("\",{\"".utf8) + bad + Array("\":1}]".utf8)
            let output = try JSONCompactor.compact(input)
            #expect(output == Array("[\"\(prefix)".utf8) + repaired + Array("\",{\"".utf8) + repaired + Array("\":1}]".utf8))
            #expect(String(validating: output, as: UTF8.self) != nil)
            #expect(try JSONCompactor.compact(output) == output)
        }
    }

    @Test(arguments: ["é", "\u{4E2D}", "\u{1F600}", "\u{FFFF}", "\u{10FFFF}", "\u{D7FF}", "\u{E000}", "\u{80}", "\u{7F}"])
    func wellFormedUTF8IsKeptInPlace(_ s: String) throws {
        let input = Array("{\"\(s)\":\"\(s)\(s)\"}".utf8)
        var scratch: [UInt8] = []
        var spans: [MemberSpan] = []
        #expect(try validate(input, scratch: &scratch, spans: &spans) == .inPlace)
        #expect(try JSONCompactor.compact(input) == input)
    }

    @Test(arguments: [
        [0x5B, 0xFF, 0x5D], [0xEF, 0xBB, 0xBF, 0x7B, 0x7D], Array(#"{"a":1}"#.utf8) + [0x80],
        Array("[1,\u{E9}]".utf8), Array("[\u{A0}1]".utf8), [0x5B, 0x31, 0x00, 0x5D], Array("{\"a\"\u{3000}:1}".utf8),
    ] as [[UInt8]])
    func bytesOutsideStringsMustBeJSON(_ input: [UInt8]) {
        #expect(throws: JSONSyntaxError.self) { try JSONCompactor.compact(input) }
    }

    @Test func specialBytesAreFoundAtEveryPosition() throws {
        // Every position, so a control byte is caught inside and after the eight-byte fast path.
        for length in 0..<24 {
            for position in 0..<max(length, 1) {
                for control: UInt8 in [0x00, 0x09, 0x0A, 0x1F] {
                    var body = [UInt8](repeating: UInt8(ascii: "a"), count: max(length, 1))
                    body[position] = control
                    let error = syntaxError([0x22] + body + [0x22])
                    #expect(error?.offset == position + 1)
                }
                var plain = [UInt8](repeating: 0x7F, count: length)
                if position < length { plain[position] = UInt8(ascii: "~") }
                #expect(try JSONCompactor.compact([0x22] + plain + [0x22]) == [0x22] + plain + [0x22])
                // An escaped quote, and an ill-formed byte, at the same position.
                var escaped = [UInt8](repeating: UInt8(ascii: "b"), count: length)
                escaped.insert(contentsOf: [0x5C, 0x22], at: min(position, length))
                #expect(try JSONCompactor.compact([0x22] + escaped + [0x22]) == [0x22] + escaped + [0x22])
                var bad = [UInt8](repeating: UInt8(ascii: "c"), count: length)
                bad.insert(0xFF, at: min(position, length))
                var fixed = [UInt8](repeating: UInt8(ascii: "c"), count: length)
                fixed.insert(contentsOf: fffd, at: min(position, length))
                #expect(try JSONCompactor.compact([0x22] + bad + [0x22]) == [0x22] + fixed + [0x22])
            }
        }
    }

    @Test func deepNestingThrowsInsteadOfCrashing() throws {
        let arrays = [UInt8](repeating: UInt8(ascii: "["), count: 10_000)
        #expect(syntaxError(arrays) != nil)
        #expect(syntaxError(arrays + [UInt8](repeating: UInt8(ascii: "]"), count: 10_000)) != nil)
        let objects = Array(String(repeating: #"{"a":"#, count: 10_000).utf8)
        #expect(syntaxError(objects + Array("1".utf8) + [UInt8](repeating: UInt8(ascii: "}"), count: 10_000)) != nil)
        let error = try #require(syntaxError(arrays))
        #expect((512...513).contains(error.offset))
    }

    @Test(arguments: [1, 500, JSONCompactor.maxDepth])
    func nestingUpToTheLimitIsAccepted(_ depth: Int) throws {
        let arrays = String(repeating: "[ ", count: depth) + "1" + String(repeating: " ]", count: depth)
        #expect(try compact(arrays) == String(repeating: "[", count: depth) + "1" + String(repeating: "]", count: depth))
        let objects = String(repeating: #"{"a" : "#, count: depth) + "1" + String(repeating: "}", count: depth)
        let (output, found) = try members(of: objects)
        #expect(output.count == 6 * depth + 1)
        #expect(found.count == 1 && found[0].key == "a" && found[0].value.count == 6 * (depth - 1) + 1)
        #expect(syntaxError(Array(("[" + arrays + "]").utf8)) == nil || depth == JSONCompactor.maxDepth)
        if depth == JSONCompactor.maxDepth { #expect(syntaxError(Array(("[" + arrays + "]").utf8)) != nil) }
    }

    @Test(arguments: [
        ("[1,2,x]", 5), (#"{"a" 1}"#, 5), ("[1 2]", 3), ("{} x", 3), (#""abc"#, 4), (#"["a\x"]"#, 4),
        (#"{"a":1,}"#, 7), ("[1.]", 3), ("[-]", 2), ("[1e]", 3), ("[01]", 2), ("[1,]", 3), ("nul", 0), ("truex", 4),
        ("{1:2}", 1), ("[", 1), (#"{"a":"#, 5), ("\u{1}", 0), ("  ", 2), (#""a""b""#, 3), ("[] ]", 3),
    ] as [(String, Int)])
    func errorsCarryTheOffsetOfTheProblem(_ input: String, _ offset: Int) {
        let error = syntaxError(Array(input.utf8))
        #expect(error?.offset == offset, "\(input): \(String(describing: error))")
        #expect(error?.description.contains("at byte \(offset)") == true)
    }

    @Test func emptyInputThrows() {
        #expect(syntaxError([]) == JSONSyntaxError(offset: 0, reason: "expected a value"))
        var scratch: [UInt8] = []
        var spans: [MemberSpan] = []
        #expect(throws: JSONSyntaxError.self) { try validate([], scratch: &scratch, spans: &spans) }
    }
}
