import Foundation
import Testing

@testable import DriftwoodCore

/// JSONTestSuite (https://github.com/nst/JSONTestSuite) run through `JSONCompactor`:
/// every `y_` accepted with its value intact, every `n_` rejected, no `i_` crashing.
@Suite("JSON conformance (JSONTestSuite)")
struct JSONConformanceTests {
    /// Tests/Fixtures/JSONTestSuite/test_parsing, found from this file's path.
    static let fixtures: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // DriftwoodCoreTests
        .deletingLastPathComponent()  // Tests
        .appendingPathComponent("Fixtures/JSONTestSuite/test_parsing", isDirectory: true)

    /// y_ cases whose value Foundation cannot be the judge of (it rejects or misreads them), with
    /// the reason; their compacted bytes are still checked against the white-space-stripped input.
    /// Empty: with Swift 6.3.1's Foundation on Linux all 95 y_ cases parse (the lone-surrogate
    /// escape cases are i_, not y_, in the current suite). Add a case here only with a reason.
    static let foundationExceptions: [String: String] = [:]

    static func cases(_ prefix: String) throws -> [(name: String, bytes: [UInt8])] {
        let names = try FileManager.default.contentsOfDirectory(atPath: fixtures.path)
            .filter { $0.hasPrefix(prefix) && $0.hasSuffix(".json") }
            .sorted()
        return try names.map { name in
            (name, Array(try Data(contentsOf: fixtures.appendingPathComponent(name))))
        }
    }

    @Test func fixtureDirectoryIsComplete() throws {
        #expect(try Self.cases("y_").count > 90)
        #expect(try Self.cases("n_").count > 180)
        #expect(try Self.cases("i_").count > 30)
    }

    /// The y_ cases that repeat a key, and what is kept: the last value, written once.
    static let duplicateKeyCases = [
        "y_object_duplicated_key.json": #"{"a":"c"}"#,
        "y_object_duplicated_key_and_value.json": #"{"a":"b"}"#,
    ]

    @Test func everyYCaseIsAcceptedWithItsValue() throws {
        let cases = try Self.cases("y_")
        #expect(cases.count > 90)
        var compared = 0
        for (name, input) in cases {
            let output: [UInt8]
            do {
                output = try JSONCompactor.compact(input)
            } catch {
                Issue.record("\(name) rejected: \(error)")
                continue
            }
            // Byte-exact: the input with only the white space between tokens removed (a key
            // written twice is written once, with its last value).
            let expected = Self.duplicateKeyCases[name].map { Array($0.utf8) } ?? stripInsignificantWhitespace(input)
            #expect(output == expected, "\(name)")
            #expect(String(validating: output, as: UTF8.self) != nil, "\(name) output is not UTF-8")
            #expect((try? JSONCompactor.compact(output)) == output, "\(name) not idempotent")

            if Self.foundationExceptions[name] != nil { continue }
            let original = try JSONSerialization.jsonObject(with: Data(input), options: .fragmentsAllowed)
            let reparsed = try JSONSerialization.jsonObject(with: Data(output), options: .fragmentsAllowed)
            #expect(jsonFoundationValuesEqual(original, reparsed), "\(name): value changed by compaction")
            compared += 1
        }
        #expect(compared + Self.foundationExceptions.count == cases.count)
    }

    @Test func foundationComparisonCanFail() throws {
        func parse(_ s: String) throws -> Any {
            try JSONSerialization.jsonObject(with: Data(s.utf8), options: .fragmentsAllowed)
        }
        #expect(jsonFoundationValuesEqual(try parse(#"{"a":[1.0,"x",null]}"#), try parse(#"{"a":[1,"x",null]}"#)))
        #expect(!jsonFoundationValuesEqual(try parse(#"["x"]"#), try parse(#"["y"]"#)))
        #expect(!jsonFoundationValuesEqual(try parse(#"[1]"#), try parse(#"[1,1]"#)))
        #expect(!jsonFoundationValuesEqual(try parse(#"{"a":1}"#), try parse(#"{"b":1}"#)))
        #expect(!jsonFoundationValuesEqual(try parse(#"{"a":1e5}"#), try parse(#"{"a":1e6}"#)))
        #expect(!jsonFoundationValuesEqual(try parse(#"null"#), try parse(#""null""#)))
    }

    @Test func everyNCaseIsRejected() throws {
        let cases = try Self.cases("n_")
        #expect(cases.count > 180)
        for (name, input) in cases {
            #expect(throws: JSONSyntaxError.self, "\(name) accepted") { try JSONCompactor.compact(input) }
            // `validate` must agree with `compact`, and keep no member spans from a failed parse.
            var scratch: [UInt8] = []
            var spans: [MemberSpan] = []
            let placement = input.withUnsafeBufferPointer { buf in
                try? JSONCompactor.validate(buf, scratch: &scratch, members: &spans)
            }
            #expect(placement == nil, "\(name) accepted by validate")
            #expect(spans.isEmpty, "\(name) left member spans behind")
        }
    }

    @Test func everyICaseRunsWithoutCrashing() throws {
        let cases = try Self.cases("i_")
        #expect(cases.count > 30)
        var rejected: Set<String> = []
        for (name, input) in cases {
            guard let output = try? JSONCompactor.compact(input) else {
                rejected.insert(name)
                continue
            }
            // Whatever is accepted comes out as valid UTF-8 and compacts to itself.
            #expect(String(validating: output, as: UTF8.self) != nil, "\(name)")
            #expect((try? JSONCompactor.compact(output)) == output, "\(name)")
            if name.hasPrefix("i_string_") {
                // Ill-formed UTF-8 is replaced per maximal subpart, exactly as Swift's own decoder does.
                #expect(output == Array(String(decoding: input, as: UTF8.self).utf8), "\(name)")
            }
        }
        // Only the UTF-16 texts and the byte order mark are refused: huge numbers, lone surrogate
        // escapes, ill-formed UTF-8 inside strings and 500-deep nesting are all accepted.
        #expect(
            rejected == [
                "i_string_UTF-16LE_with_BOM.json", "i_string_utf16BE_no_BOM.json", "i_string_utf16LE_no_BOM.json",
                "i_structure_UTF-8_BOM_empty_object.json",
            ])
    }

    @Test func invalidUTF8InStringsIsReplacedPerMaximalSubpart() throws {
        let expected: [String: [UInt8]] = [
            "i_string_UTF-8_invalid_sequence.json": [0xE6, 0x97, 0xA5, 0xD1, 0x88, 0xEF, 0xBF, 0xBD],
            "i_string_invalid_utf-8.json": [0xEF, 0xBF, 0xBD],
            "i_string_UTF8_surrogate_U+D800.json": Array(repeating: [0xEF, 0xBF, 0xBD], count: 3).flatMap { $0 },
            "i_string_not_in_unicode_range.json": Array(repeating: [0xEF, 0xBF, 0xBD], count: 4).flatMap { $0 },
            "i_string_overlong_sequence_2_bytes.json": Array(repeating: [0xEF, 0xBF, 0xBD], count: 2).flatMap { $0 },
            "i_string_truncated-utf-8.json": Array(repeating: [0xEF, 0xBF, 0xBD], count: 2).flatMap { $0 },
        ]
        let cases = Dictionary(uniqueKeysWithValues: try Self.cases("i_string_").map { ($0.name, $0.bytes) })
        for (name, content) in expected {
            let input = try #require(cases[name], "missing fixture \(name)")
            #expect(try JSONCompactor.compact(input) == Array("[\"".utf8) + content + Array("\"]".utf8), "\(name)")
        }
    }
}

/// Removes the white space between tokens; strings are copied untouched. A reference for y_ cases.
private func stripInsignificantWhitespace(_ input: [UInt8]) -> [UInt8] {
    var out: [UInt8] = []
    var inString = false
    var escaped = false
    for b in input {
        if inString {
            out.append(b)
            if escaped {
                escaped = false
            } else if b == UInt8(ascii: "\\") {
                escaped = true
            } else if b == UInt8(ascii: "\"") {
                inString = false
            }
        } else if b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 {
            continue
        } else {
            if b == UInt8(ascii: "\"") { inString = true }
            out.append(b)
        }
    }
    return out
}

/// Deep equality of two values from `JSONSerialization`: numbers by value, strings exactly.
/// Swift collection types are tried first: asking whether a dictionary `is NSNull` bridges it.
func jsonFoundationValuesEqual(_ a: Any, _ b: Any) -> Bool {
    if let x = a as? String {
        return (b as? String).map { Array(x.utf8) == Array($0.utf8) } ?? false
    }
    if let x = a as? [Any] {
        guard let y = b as? [Any], x.count == y.count else { return false }
        return zip(x, y).allSatisfy { jsonFoundationValuesEqual($0, $1) }
    }
    if let x = a as? [String: Any] {
        guard let y = b as? [String: Any], x.count == y.count else { return false }
        return x.allSatisfy { key, value in y[key].map { jsonFoundationValuesEqual(value, $0) } ?? false }
    }
    if let x = a as? NSNumber {
        guard let y = b as? NSNumber else { return false }
        return x.doubleValue == y.doubleValue || (x.doubleValue.isNaN && y.doubleValue.isNaN)
    }
    return a is NSNull && b is NSNull
}
