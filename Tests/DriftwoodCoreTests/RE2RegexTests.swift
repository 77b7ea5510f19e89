import Testing

@testable import DriftwoodCore

@Suite struct RE2RegexTests {
    @Test func namedGroupsInBothSpellings() throws {
        let r = try RE2Regex(#"^(?<ts>\S+) (?P<level>[A-Z]+) (\d+) (?<msg>.*)$"#)
        #expect(r.groupCount == 4)
        #expect(r.groupNames == ["ts", "level", nil, "msg"])
        var line = "2026-11-24T10:00:00Z ERROR 42 model failed"
        let groups = try #require(line.withUTF8 { r.groups(in: $0) })
        let text = Array(line.utf8)
        #expect(groups.map { $0.map { String(decoding: text[$0], as: UTF8.self) } } == [
            "2026-11-24T10:00:00Z", "ERROR", "42", "model failed",
        ])
    }

    @Test func groupThatTookNoPartIsNil() throws {
        let r = try RE2Regex(#"(?<a>x)|(?<b>y)"#)
        var line = "y"
        let groups = try #require(line.withUTF8 { r.groups(in: $0) })
        #expect(groups[0] == nil && groups[1] == 0..<1)
        var other = "z"
        #expect(other.withUTF8 { r.groups(in: $0) } == nil)
    }

    @Test func emptyTextAndEmptyMatch() throws {
        let r = try RE2Regex("(?<e>)")
        #expect(r.matches(""))
        let groups = try #require(r.groups(in: UnsafeBufferPointer(start: nil, count: 0)))
        #expect(groups == [0..<0])
    }

    @Test func catastrophicPatternsMatchInLinearTime() throws {
        // `(a+)+$` takes exponential time in a backtracking engine: 30 bytes would take years.
        let r = try RE2Regex(#"^(?<x>(a+)+)$"#)
        let line = String(repeating: "a", count: 10_000) + "!"
        let start = ContinuousClock.now
        for _ in 0..<100 { #expect(!r.matches(line)) }
        #expect(ContinuousClock.now - start < .seconds(2))
        #expect(r.matches(String(repeating: "a", count: 30)))
    }

    @Test func unicodeIsMatchedByCodePoint() throws {
        #expect(try RE2Regex("^.{3}$").matches("äöü"))
        #expect(try RE2Regex(#"^\w+$"#).matches("abc_123"))
    }

    @Test(arguments: [
        (#"^(a)\1$"#, #"backreferences (\1) are not supported"#),
        (#"(?<n>a)\k<n>"#, #"backreferences (\k…) are not supported"#),
        ("foo(?=bar)", "lookahead and lookbehind ((?=…) are not supported"),
        ("foo(?!bar)", "lookahead and lookbehind ((?!…) are not supported"),
        ("(?<=foo)bar", "lookahead and lookbehind ((?<=…) are not supported"),
        ("(?<!foo)bar", "lookahead and lookbehind ((?<!…) are not supported"),
        ("(?>a+)b", "atomic groups ((?>…) are not supported"),
        ("a++b", "possessive quantifiers (++) are not supported"),
    ])
    func backtrackingConstructsAreRefusedWithAReason(_ pattern: String, _ reason: String) {
        do {
            _ = try RE2Regex(pattern)
            Issue.record("\(pattern) compiled")
        } catch {
            #expect(error.pattern == pattern)
            #expect(error.reason.hasPrefix(reason), "\(error.reason)")
            #expect(error.reason.contains("linear time"))
        }
    }

    @Test func otherSyntaxErrorsKeepRE2sMessage() {
        do {
            _ = try RE2Regex("(?<a>[unclosed")
            Issue.record("compiled")
        } catch {
            #expect(error.reason.hasPrefix("missing ]"), "\(error.reason)")
        }
    }

    @Test func translationLeavesClassesEscapesAndLookbehindAlone() {
        #expect(RE2Syntax.translate("(?<a>x)") == "(?P<a>x)")
        #expect(RE2Syntax.translate("(?P<a>x)") == "(?P<a>x)")
        #expect(RE2Syntax.translate(#"\(?<a>"#) == #"\(?<a>"#)
        #expect(RE2Syntax.translate("[(?<a>]") == "[(?<a>]")
        #expect(RE2Syntax.translate("[]](?<a>x)") == "[]](?P<a>x)")
        #expect(RE2Syntax.translate("[[:alpha:]](?<a>x)") == "[[:alpha:]](?P<a>x)")
        #expect(RE2Syntax.translate(#"\Q(?<a>\E(?<b>x)"#) == #"\Q(?<a>\E(?P<b>x)"#)
        #expect(RE2Syntax.translate("(?<=a)(?<!b)") == "(?<=a)(?<!b)")
    }
}
