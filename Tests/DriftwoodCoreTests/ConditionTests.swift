import Testing

@testable import DriftwoodCore

@Suite struct ConditionTests {
    static let sample = """
        {"@timestamp":"2026-11-24T10:00:00.123Z","level":"ERROR","latency_ms":250,"score":0.75,"ok":false,
        "error":null,"features":{"amount":120.5,"country":"FR","nested":{"deep":"yes"}},"log":{"level":"warn"},
        "model":"fraud-v1","msg":"timeout after 30s","big":9007199254740993,"esc":"say \\"hi\\"","tags":["a"]}
        """

    static func fields(_ json: String = sample) -> Fields {
        try! Fields(json: json)
    }

    func check(_ expression: String, _ fields: Fields = ConditionTests.fields()) throws -> Bool {
        try Condition(expression).matches(fields)
    }

    func error(_ expression: String) -> ConditionError? {
        #expect(throws: ConditionError.self) { try Condition(expression) }
    }

    // MARK: Operators

    @Test func stringEquality() throws {
        #expect(try check(#"level == "ERROR""#))
        #expect(try !check(#"level == "error""#))
        #expect(try check(#"level != "INFO""#))
        #expect(try !check(#"level != "ERROR""#))
        #expect(try check(#"log.level == "warn""#))
        #expect(try check(#"esc == "say \"hi\"""#))
        #expect(try check(#"features.nested.deep == "yes""#))
    }

    @Test func numberComparisons() throws {
        #expect(try check("latency_ms == 250"))
        #expect(try check("latency_ms == 250.0"))
        #expect(try check("latency_ms != 251"))
        #expect(try check("latency_ms > 249 and latency_ms >= 250 and latency_ms < 251 and latency_ms <= 250"))
        #expect(try !check("latency_ms > 250 or latency_ms < 250"))
        #expect(try check("features.amount > 100.25"))
        #expect(try check("score < 1e0 and score > -0.5"))
        #expect(try check("latency_ms > -1"))
        // Integers compare exactly, beyond what a Double holds (2^53 + 1).
        #expect(try check("big == 9007199254740993"))
        #expect(try !check("big == 9007199254740992"))
    }

    @Test func stringOrderingIsByBytes() throws {
        #expect(try check(#"model > "fraud""#))
        #expect(try check(#"model < "fraud-v2""#))
        #expect(try check(#"model >= "fraud-v1" and model <= "fraud-v1""#))
        #expect(try check(#"level < "a""#))  // uppercase sorts before lowercase
        #expect(try !check(#"level > "a""#))
    }

    @Test func boolAndNull() throws {
        #expect(try check("ok == false"))
        #expect(try !check("ok == true"))
        #expect(try check("ok != true"))
        #expect(try check("error == null"))  // present and null
        #expect(try check("missing == null"))  // absent
        #expect(try !check("error != null"))
        #expect(try !check("missing != null"))
        #expect(try check("level != null"))
        #expect(try !check("level == null"))
    }

    @Test func typeMismatchIsFalseExceptForNotEqual() throws {
        #expect(try !check(#"latency_ms == "250""#))
        #expect(try check(#"latency_ms != "250""#))
        #expect(try !check("level == 1"))
        #expect(try !check(#"ok == "false""#))
        #expect(try !check(#"latency_ms > "100""#))
        #expect(try !check("level < 5"))
        #expect(try !check("features == 1"))
        #expect(try !check(#"tags == "a""#))
    }

    @Test func missingFieldIsFalseExceptForNotEqual() throws {
        #expect(try !check(#"nope == "x""#))
        #expect(try check(#"nope != "x""#))
        #expect(try !check("nope > 1 or nope < 1 or nope >= 1 or nope <= 1"))
        #expect(try !check(#"nope =~ ".*""#))
        #expect(try !check(#"features.missing == "x""#))
        #expect(try !check(#"level.sub == "x""#))  // parent is a string, not an object
    }

    @Test func exists() throws {
        #expect(try check("exists(level)"))
        #expect(try check("exists(error)"))  // null counts as present
        #expect(try check("exists(features.nested.deep)"))
        #expect(try check("exists( @timestamp )"))
        #expect(try !check("exists(features.nope)"))
        #expect(try check("not exists(nope)"))
        // `exists` is an ordinary field name when no parenthesis follows.
        #expect(try check(#"exists == "yes""#, ConditionTests.fields(#"{"exists":"yes"}"#)))
    }

    @Test func regex() throws {
        #expect(try check(#"msg =~ "timeout""#))  // anywhere in the value
        #expect(try check(#"msg =~ "^timeout after \d+s$""#))  // \d kept without doubling
        #expect(try !check(#"msg =~ "^after""#))
        #expect(try check(#"model =~ "v[0-9]""#))
        #expect(try !check(#"latency_ms =~ "250""#))  // not a string
        #expect(try check(#"esc =~ "\"hi\"""#))  // escaped value decoded before matching
        var fields = ConditionTests.fields(#"{"@timestamp":"x"}"#)
        fields.set(.message, string: "Traceback (most recent call last):")
        #expect(try Condition(#"message =~ "^Traceback""#).matches(fields))
    }

    @Test func rawTextMembersCompareLikeStrings() throws {
        var fields = Fields()
        fields.set(.message, string: "hello")
        #expect(try check(#"message == "hello""#, fields))
        #expect(try check(#"message > "hell" and message < "help""#, fields))
        #expect(try !check("message == 1", fields))
    }

    @Test func sharedAcrossTasks() async throws {
        // One compiled condition (regex included) is evaluated by many tasks at once.
        let condition = try Condition(#"msg =~ "^timeout after \d+s$" and latency_ms > 100"#)
        let hits = await withTaskGroup(of: Int.self) { group in
            for k in 0..<8 {
                group.addTask {
                    let yes = ConditionTests.fields()
                    let no = ConditionTests.fields(#"{"msg":"timeout after Xs","latency_ms":\#(k)}"#)
                    var n = 0
                    for _ in 0..<200 where condition.matches(yes) && !condition.matches(no) { n += 1 }
                    return n
                }
            }
            return await group.reduce(0, +)
        }
        #expect(hits == 8 * 200)
    }

    // MARK: Structure

    @Test func precedenceNotThenAndThenOr() throws {
        let f = ConditionTests.fields(#"{"a":1,"b":2,"c":3}"#)
        // and binds tighter than or: true or (false and false)
        #expect(try check("a == 1 or b == 0 and c == 0", f))
        // ... so parentheses change the answer.
        #expect(try !check("(a == 1 or b == 0) and c == 0", f))
        // not binds tighter than and: (not false) and true
        #expect(try check("not a == 0 and b == 2", f))
        #expect(try !check("not (a == 1 and b == 2)", f))
        #expect(try check("not not a == 1", f))
        #expect(try check("((a == 1))", f))
        #expect(try check("a == 0 or b == 0 or c == 3", f))
        #expect(try !check("a == 1 and b == 2 and c == 0", f))
    }

    @Test func longChainsAndDeepNesting() throws {
        let f = ConditionTests.fields(#"{"a":1}"#)
        let chain = (0..<5000).map { "a == \($0 + 2)" }.joined(separator: " or ") + " or a == 1"
        #expect(try check(chain, f))
        #expect(try check(String(repeating: "(", count: 100) + "a == 1" + String(repeating: ")", count: 100), f))
        let deep = error(String(repeating: "(", count: 101) + "a == 1" + String(repeating: ")", count: 101))
        #expect(deep?.column == 101)
        #expect(deep?.message.contains("nested more than 100") == true)
        #expect(try check(String(repeating: "not ", count: 100) + "a == 1", f))
    }

    @Test func whitespaceAndTightSpelling() throws {
        #expect(try check(#"level=="ERROR"and latency_ms>=250"#))
        #expect(try check("\n  exists(level)\tand\n(ok==false)  "))
        #expect(try check(#"latency_ms==250 and not(level=="INFO")"#))
    }

    @Test func specExample() throws {
        let c = try Condition(#"level == "ERROR" or exists(error)"#)
        #expect(c.source == #"level == "ERROR" or exists(error)"#)
        #expect(c.matches(ConditionTests.fields(#"{"level":"INFO","error":{"type":"x"}}"#)))
        #expect(c.matches(ConditionTests.fields(#"{"level":"ERROR"}"#)))
        #expect(!c.matches(ConditionTests.fields(#"{"level":"INFO"}"#)))
        #expect(c.matches(Event(fields: ConditionTests.fields(#"{"level":"ERROR"}"#))))
    }

    @Test func pathsWithDashesAndAt() throws {
        let f = ConditionTests.fields(#"{"@metadata":{"x-id":"7"},"http-status":404}"#)
        #expect(try check(#"@metadata.x-id == "7""#, f))
        #expect(try check("http-status >= 400", f))
    }

    // MARK: Errors

    @Test func unknownOperator() {
        let e = error(#"level = "ERROR""#)
        #expect(e?.column == 7)
        #expect(e?.message.contains("unknown operator '='") == true)
        #expect(e?.message.contains("==") == true)
        #expect(error(#"level === "ERROR""#)?.column == 7)
        #expect(error(#"level !~ "x""#)?.column == 7)
        let and = error(#"level == "E" && ok == false"#)
        #expect(and?.column == 14)
        #expect(and?.message.contains("(write 'and')") == true)
    }

    @Test func unterminatedString() {
        let e = error(#"level == "ERROR"#)
        #expect(e?.column == 10)
        #expect(e?.message.contains("unterminated string") == true)
        #expect(error(#"level == "a\""#)?.column == 10)  // the escaped quote does not close it
    }

    @Test func missingParenthesis() {
        let e = error(#"(level == "ERROR" or ok == true"#)
        #expect(e?.column == 32)
        #expect(e?.message.contains("expected ')'") == true)
        #expect(e?.message.contains("column 1") == true)
        #expect(error("exists(level")?.column == 13)
        #expect(error("exists()")?.column == 8)
        let extra = error("ok == true)")
        #expect(extra?.column == 11)
        #expect(extra?.message.contains("expected 'and', 'or' or the end") == true)
    }

    @Test func badRegex() {
        let e = error(#"msg =~ "a(b""#)
        #expect(e?.column == 8)
        #expect(e?.message.contains(#"bad regex "a(b""#) == true)
        #expect(error("msg =~ 5")?.message.contains("regex in double quotes") == true)
    }

    @Test func barePath() {
        let e = error("level")
        #expect(e?.column == 1)
        #expect(e?.message.contains(#"expected a comparison like level == "ERROR" or exists(level)"#) == true)
        #expect(error("ok == true and debug")?.column == 16)
        #expect(error("(debug) or ok == true")?.column == 2)
        let missingOp = error(#"level "ERROR""#)
        #expect(missingOp?.column == 7)
        #expect(missingOp?.message.contains("expected an operator") == true)
    }

    @Test func otherErrorsNameWhatWasExpected() {
        #expect(error("")?.message == "expected a condition, found the end of the condition")
        #expect(error("   ")?.column == 4)
        #expect(error("level == ")?.message.contains("expected a value after '=='") == true)
        #expect(error("level == ERROR")?.message.contains(#"did you mean "ERROR"?"#) == true)
        #expect(error(#""ERROR" == level"#)?.message.contains("expected a field path") == true)
        #expect(error("level < true")?.column == 9)
        #expect(error("level >= null")?.message.contains("compares numbers or strings") == true)
        #expect(error("a..b == 1")?.message.contains("bad field path") == true)
        #expect(error("a. == 1")?.column == 1)
        #expect(error("n == 12abc")?.column == 6)
        #expect(error("n == 1.")?.column == 8)
        #expect(error("ok == true and")?.column == 15)
        #expect(error("not")?.message.contains("expected a condition") == true)
        #expect(error("!ok == true")?.message.contains("'not'") == true)
        #expect(error("ok == true; x")?.column == 11)
        // Columns count characters, not bytes.
        #expect(error(#"é == "x" ="#)?.column == 10)
    }

    @Test func errorDescriptionHasTheColumn() {
        #expect(error("level")?.description.hasPrefix("column 1: ") == true)
    }
}
