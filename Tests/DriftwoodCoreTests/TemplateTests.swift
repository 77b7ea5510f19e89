import Testing

@testable import DriftwoodCore

@Suite struct TemplateTests {
    static let event = try! Fields(
        json: """
            {"@timestamp":"2026-11-24T10:00:00.123Z","model":"fraud-v1","latency_ms":250,"score":0.5,"ok":true,
            "service":{"name":"fraud-api"},"error":null,"empty":"","obj":{"a":[1,2]},"quoted":"a\\"b"}
            """)

    func render(_ template: String, _ fields: Fields = TemplateTests.event) throws -> String {
        try Template(template).render(fields)
    }

    func error(_ template: String) -> TemplateError? {
        #expect(throws: TemplateError.self) { try Template(template) }
    }

    @Test func fieldReferences() throws {
        #expect(try render("out/%{model}.jsonl") == "out/fraud-v1.jsonl")
        #expect(try render("%{service.name}") == "fraud-api")
        #expect(try render("%{[service][name]}") == "fraud-api")  // Logstash spelling
        #expect(try render("%{model}-%{service.name}") == "fraud-v1-fraud-api")
        #expect(try render("%{quoted}") == #"a"b"#)  // decoded, not JSON-escaped
    }

    @Test func nonStringValuesRenderAsCompactJSON() throws {
        #expect(try render("ms=%{latency_ms}") == "ms=250")
        #expect(try render("%{score}") == "0.5")
        #expect(try render("%{ok}") == "true")
        #expect(try render("%{obj}") == #"{"a":[1,2]}"#)
    }

    @Test func missingNullOrEmptyRendersUnknown() throws {
        #expect(try render("logs-%{nope}") == "logs-_unknown_")
        #expect(try render("%{service.nope}/x") == "_unknown_/x")
        #expect(try render("%{model.sub}") == "_unknown_")  // parent is not an object
        #expect(try render("%{error}") == "_unknown_")
        #expect(try render("a/%{empty}/b") == "a/_unknown_/b")
    }

    @Test func rawTextMembers() throws {
        var fields = Fields()
        fields.set(.message, string: "line \"1\"")
        #expect(try render("[%{message}]", fields) == #"[line "1"]"#)
    }

    @Test func dateFromTimestamp() throws {
        #expect(try render("model-logs-%{+yyyy.MM.dd}") == "model-logs-2026.11.24")
        #expect(try render("out/%{model}-%{+yyyy-MM-dd}.jsonl") == "out/fraud-v1-2026-11-24.jsonl")
        #expect(try render("%{+yyyy-MM-dd'T'HH:mm:ss.SSS}") == "2026-11-24T10:00:00.123")
        #expect(try render("%{+HH}h%{+mm}") == "10h00")
        // Offsets are converted to UTC first: 01:30+02:00 is the previous day in UTC.
        let local = try Fields(json: #"{"@timestamp":"2026-11-24T01:30:00+02:00"}"#)
        #expect(try render("%{+yyyy.MM.dd HH:mm}", local) == "2026.11.23 23:30")
        // A numeric @timestamp is epoch milliseconds, as Elasticsearch reads it.
        let numeric = try Fields(json: #"{"@timestamp":1795514400123}"#)
        #expect(try render("%{+yyyy.MM.dd}", numeric) == "2026.11.24")
    }

    @Test func dateIsUnknownWithoutAUsableTimestamp() throws {
        // Never the current time: an index or path date always agrees with `@timestamp`.
        let template = try Template("logs-%{+yyyy.MM.dd}")
        for json in [
            #"{"a":1}"#, #"{"@timestamp":"yesterday"}"#, #"{"@timestamp":"292278994-08-17T07:12:55.807Z"}"#,
            #"{"@timestamp":"10000-01-01T00:00:00.000Z"}"#, #"{"@timestamp":253402300800000}"#,
            #"{"@timestamp":1e20}"#, #"{"@timestamp":null}"#,
        ] {
            #expect(template.render(try Fields(json: json)) == "logs-_unknown_", "\(json)")
        }
        // The edges of years 0001–9999 still render.
        #expect(template.render(try Fields(json: #"{"@timestamp":253402300799999}"#)) == "logs-9999.12.31")
        #expect(template.render(try Fields(json: #"{"@timestamp":"0001-01-01T00:00:00Z"}"#)) == "logs-0001.01.01")
    }

    @Test func constantTemplates() throws {
        let plain = try Template("model-logs")
        #expect(plain.isConstant)
        #expect(plain.render(TemplateTests.event) == "model-logs")
        #expect(plain.source == "model-logs")
        #expect(try Template("100% sure {not a ref} %").isConstant)
        #expect(try render("100% sure {not a ref} %") == "100% sure {not a ref} %")
        #expect(try Template("").isConstant)
        #expect(try !Template("x-%{model}").isConstant)
        #expect(try !Template("x-%{+yyyy}").isConstant)
    }

    @Test func renderIntoAppends() throws {
        var out = Array("index=".utf8)
        try Template("%{model}-%{+yyyy.MM}").render(TemplateTests.event, into: &out)
        try Template("!").render(TemplateTests.event, into: &out)
        #expect(String(decoding: out, as: UTF8.self) == "index=fraud-v1-2026.11!")
    }

    @Test func errorsNameTheColumn() {
        let open = error("logs-%{model")
        #expect(open?.column == 6)
        #expect(open?.message.contains("unterminated") == true)
        #expect(error("a-%{b-%{c}")?.column == 3)
        let empty = error("logs-%{}")
        #expect(empty?.column == 8)
        #expect(empty?.message.contains("empty reference") == true)
        #expect(error("%{a..b}")?.message.contains("bad field path") == true)
        #expect(error("%{.a}")?.column == 3)
        #expect(error("%{ model }")?.column == 3)
        #expect(error("%{[a]b}")?.column == 3)
        #expect(error("x%{+}")?.column == 5)
        // The pattern's own column, counted within the template: 'hh' starts at column 13.
        let pattern = error("idx-%{+yyyy.hh}")
        #expect(pattern?.column == 13)
        #expect(pattern?.message.contains("'hh'") == true)
        #expect(error("%{model")?.description.hasPrefix("column 1: ") == true)
    }

    @Test func pathPartsHaveSeparatorsAndControlCharactersReplaced() throws {
        let fields = try Fields(json: #"{"m":"a/b\\c\nd\te\u001bf\u007fg","dot":".."}"#)
        #expect(try Template("out/%{m}.jsonl").renderPath(fields) == "out/a_b_c_d_e_f_g.jsonl")
        #expect(try Template("out/%{dot}/x").renderPath(fields) == "out/_/x")
        // Not a path: left as it is.
        #expect(try Template("%{m}").render(fields) == "a/b\\c\nd\te\u{1B}f\u{7F}g")
    }
}
