import Foundation
import Logging
import Testing

@testable import DriftwoodCore
@testable import DriftwoodStages

/// The parse, enrich, mutate and drop filters, built from pipeline text and run as the engine does.
@Suite struct FilterTests {
    static let readTime = "2026-01-01T00:00:00.000Z"

    /// An event as the stdin input makes it from `text` (`message` held as raw text).
    static func line(_ text: String) -> Event {
        let builder = LineEventBuilder(inputType: "stdin", hostName: "h1")
        return Event(fields: Array(text.utf8).withUnsafeBufferPointer {
            builder.make(line: $0, timestamp: Array("\"\(readTime)\"".utf8))
        })
    }

    static func json(_ text: String) -> Event { Event(fields: try! Fields(json: text)) }

    /// Runs the filters (flow-style YAML items, e.g. `{type: parse}`) over `events`.
    static func run(_ filters: String, _ events: [Event]) throws -> [Fields] {
        let config = try PipelineConfig.load(
            text: "inputs: [{type: stdin}]\nfilters: [\(filters)]\noutputs: [{type: stdout}]\n", file: "f.yml",
            environment: [:], catalog: StageCatalog.descriptors)
        let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
        let chain = FilterChain(try PipelineBuilder.filters(config, logger: logger, hostName: "test-host"))
        var batch = events
        chain.run(&batch)
        return batch.map(\.fields)
    }

    static func one(_ filters: String, _ event: Event) throws -> Fields {
        let out = try run(filters, [event])
        try #require(out.count == 1)
        return out[0]
    }

    /// The compact JSON of the value at `path`, or nil.
    static func at(_ f: Fields, _ path: String) -> String? {
        f.value(at: FieldPath(path)!).map { String(decoding: $0.json, as: UTF8.self) }
    }

    // MARK: parse json

    @Test func jsonMergesIntoTheRoot() throws {
        let f = try Self.one("{type: parse}", Self.line(#"{"level":"INFO","latency_ms":12,"nested":{"a":[1, 2]}}"#))
        #expect(f.keys == ["@timestamp", "message", "input", "host", "level", "latency_ms", "nested"])
        #expect(Self.at(f, "level") == #""INFO""# && Self.at(f, "latency_ms") == "12")
        #expect(Self.at(f, "nested.a") == "[1,2]")
        #expect(!f.hasTag("_parse_failure"))
        // Spaces and escapes (not compact in place) and a `message` held as JSON text.
        for event in [Self.line(#"{ "m" : "a\"b\u00e9" , "n" : [ 1 ] }"#), Self.json(#"{"message":"{ \"m\" : \"a\\\"b\\u00e9\", \"n\": [ 1 ] }"}"#)] {
            let g = try Self.one("{type: parse}", event)
            #expect(g.value(at: FieldPath("m")!)?.string == "a\"bé")
            #expect(Self.at(g, "n") == "[1]")
        }
    }

    @Test func jsonTargetNestsAndRemoveSource() throws {
        let f = try Self.one("{type: parse, target: parsed.inner, remove_source: true}", Self.line(#"{"level":"INFO"}"#))
        #expect(Self.at(f, "parsed") == #"{"inner":{"level":"INFO"}}"#)
        #expect(!f.contains(.message) && !f.contains(FieldPath("level")!))
        let root = try Self.one("{type: parse, remove_source: true}", Self.line(#"{"level":"INFO"}"#))
        #expect(root.keys == ["@timestamp", "input", "host", "level"])
        // A field other than message.
        let other = try Self.one("{type: parse, field: raw, remove_source: true}", Self.json(#"{"raw":"{\"x\":1}"}"#))
        #expect(other.json == #"{"x":1}"#)
    }

    @Test func ownMessageKeyIsKeptWithRemoveSource() throws {
        for event in [Self.line(#"{"message":"hello","level":"WARN"}"#), Self.json(#"{"message":"{\"message\":\"hello\",\"level\":\"WARN\"}"}"#)] {
            let f = try Self.one("{type: parse, remove_source: true}", event)
            #expect(f.value(at: .message)?.string == "hello")
            #expect(Self.at(f, "level") == #""WARN""#)
        }
    }

    @Test func nonObjectOrBadJSONIsAParseFailure() throws {
        for text in ["[1,2]", "42", #""str""#, "not json", #"{"a":"#, "", "\u{1}\u{2}binary"] {
            let f = try Self.one("{type: parse, remove_source: true}", Self.line(text))
            #expect(f.hasTag("_parse_failure"), "\(text)")
            #expect(f.value(at: .message)?.string == text, "the line keeps its message")
            #expect(f.keys == ["@timestamp", "message", "input", "host", "tags"])
        }
        // Under a target, any JSON value will do.
        let nested = try Self.one("{type: parse, target: t}", Self.line("[1,2]"))
        #expect(Self.at(nested, "t") == "[1,2]" && !nested.hasTag("_parse_failure"))
    }

    @Test func timestampFormats() throws {
        let cases: [(formats: String, value: String, expected: String)] = [
            ("[iso8601]", #""2026-11-24T10:00:00.123+02:00""#, "2026-11-24T08:00:00.123Z"),
            ("[unix]", "1795514400.5", "2026-11-24T10:00:00.500Z"),
            ("[unix]", #""1795514400""#, "2026-11-24T10:00:00.000Z"),
            ("[unix_ms]", "1795514400123", "2026-11-24T10:00:00.123Z"),
            (#"["yyyy-MM-dd HH:mm:ss.SSS"]"#, #""2026-11-24 10:00:00.123""#, "2026-11-24T10:00:00.123Z"),
            ("[unix_ms, iso8601]", #""2026-11-24T10:00:00Z""#, "2026-11-24T10:00:00.000Z"),
        ]
        for c in cases {
            let f = try Self.one("{type: parse, timestamp: {field: ts, formats: \(c.formats)}}", Self.line(#"{"ts":\#(c.value)}"#))
            #expect(f.value(at: .timestamp)?.string == c.expected, "\(c.formats) \(c.value)")
            #expect(f.keys.first == "@timestamp" && !f.contains(.tags))
        }
        for line in [#"{"ts":"yesterday"}"#, #"{"other":1}"#, #"{"ts":true}"#] {
            let f = try Self.one("{type: parse, timestamp: {field: ts, formats: [iso8601, unix]}}", Self.line(line))
            #expect(f.hasTag("_timestamp_failure") && !f.hasTag("_parse_failure"), "\(line)")
            #expect(f.value(at: .timestamp)?.string == Self.readTime, "read time kept")
        }
    }

    // MARK: logfmt and regex

    @Test func logfmt() throws {
        let f = try Self.one("{type: parse, format: logfmt}", Self.line(#"level=INFO msg="say \"hi\" now" latency=12 debug"#))
        #expect(Self.at(f, "level") == #""INFO""# && Self.at(f, "latency") == #""12""#)
        #expect(f.value(at: FieldPath("msg")!)?.string == #"say "hi" now"#)
        #expect(Self.at(f, "debug") == "true")
        let nested = try Self.one("{type: parse, format: logfmt, target: kv, remove_source: true}", Self.line("a=1 b=x"))
        #expect(Self.at(nested, "kv") == #"{"a":"1","b":"x"}"# && !nested.contains(.message))
        for bad in [#"msg="unclosed"#, "", "   "] {
            #expect(try Self.one("{type: parse, format: logfmt}", Self.line(bad)).hasTag("_parse_failure"), "\(bad)")
        }
    }

    @Test func regexNamedGroups() throws {
        let filter = #"""
            {type: parse, format: regex, pattern: '^(?<ts>\S+) (?<level>[A-Z]+) (?<msg>.*)$', remove_source: true,
              timestamp: {field: ts}}
            """#
        let f = try Self.one(filter, Self.line("2026-11-24T10:00:00Z ERROR boom: it broke"))
        #expect(f.keys == ["@timestamp", "input", "host", "ts", "level", "msg"])
        #expect(f.value(at: FieldPath("msg")!)?.string == "boom: it broke")
        #expect(f.value(at: .timestamp)?.string == "2026-11-24T10:00:00.000Z")
        let miss = try Self.one(filter, Self.line("no match here"))
        #expect(miss.hasTag("_parse_failure") && miss.value(at: .message)?.string == "no match here")
    }

    // MARK: enrich

    @Test func enrichStaticFieldsAndTemplates() throws {
        let filter = #"""
            {type: enrich, fields: {service.name: fraud-api, count: 3, ratio: 0.5, flag: true, quoted: "3",
              none: null, list: [1, a], label: "%{model}/%{level}"}}
            """#
        let f = try Self.one(filter, Self.json(#"{"model":"m1","level":"INFO"}"#))
        #expect(Self.at(f, "service") == #"{"name":"fraud-api"}"#)
        #expect(Self.at(f, "count") == "3" && Self.at(f, "ratio") == "0.5" && Self.at(f, "flag") == "true")
        #expect(Self.at(f, "quoted") == #""3""# && Self.at(f, "none") == "null" && Self.at(f, "list") == #"[1,"a"]"#)
        #expect(Self.at(f, "label") == #""m1/INFO""#)
        let missing = try Self.one(filter, Self.json(#"{"level":"WARN"}"#))
        #expect(Self.at(missing, "label") == #""_unknown_/WARN""#)
        let conflict = try Self.one("{type: enrich, fields: {message.x: 1}}", Self.line("plain"))
        #expect(conflict.hasTag("_field_conflict") && conflict.value(at: .message)?.string == "plain")
    }

    @Test func enrichFixedModelVersionAndHost() throws {
        let f = try Self.one(#"{type: enrich, model_version: {value: "1.4.2", target: meta.version}, host: true}"#, Self.line("x"))
        #expect(Self.at(f, "meta") == #"{"version":"1.4.2"}"#)
        #expect(Self.at(f, "host") == #"{"name":"test-host"}"#)
        let bare = try Self.one("{type: enrich, host: true}", Self.json("{}"))
        #expect(bare.json == #"{"host":{"name":"test-host"}}"#)
    }

    static func registryFile(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("dw-reg-\(UUID().uuidString).yml").path
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        return path
    }

    @Test func enrichRegistryLookupAndDefault() throws {
        let path = try Self.registryFile("fraud: \"2.0\"\nchurn: 1.10\n")
        let filter = #"{type: enrich, model_version: {registry: "\#(path)", default: none-known}}"#
        let out = try Self.run(filter, [#"{"model":"fraud"}"#, #"{"model":"churn"}"#, #"{"model":"other"}"#, "{}"].map(Self.json))
        #expect(out.map { Self.at($0, "model_version") } == [#""2.0""#, #""1.10""#, #""none-known""#, #""none-known""#])
        let plain = try Self.one(#"{type: enrich, model_version: {registry: "\#(path)"}}"#, Self.json(#"{"model":"x"}"#))
        #expect(Self.at(plain, "model_version") == #""unknown""#)
    }

    /// A pipeline whose one filter enriches from the registry at `path`, as the engine builds
    /// it for one filter worker (call again for another worker's copy).
    static func registryChain(_ path: String) throws -> FilterChain {
        let config = try PipelineConfig.load(
            text: "inputs: [{type: stdin}]\nfilters: [{type: enrich, model_version: {registry: \"\(path)\"}}]\noutputs: [{type: stdout}]\n",
            file: "f.yml", environment: [:], catalog: StageCatalog.descriptors)
        let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
        return FilterChain(try PipelineBuilder.filters(config, logger: logger, hostName: "h"))
    }

    /// The `model_version` `chain` gives `n` events of model `fraud`.
    static func versions(_ chain: FilterChain, _ n: Int) -> [String?] {
        var batch = (0..<n).map { _ in json(#"{"model":"fraud"}"#) }
        chain.run(&batch)
        return batch.map { at($0.fields, "model_version") }
    }

    @Test func enrichRegistryChangeIsPickedUp() throws {
        let path = try Self.registryFile("fraud: v1\n")
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -3600)], ofItemAtPath: path)
        let chain = try Self.registryChain(path)
        #expect(Self.versions(chain, 3) == Array(repeating: #""v1""#, count: 3))
        try "fraud: v2\n".write(toFile: path, atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.modificationDate: Date()], ofItemAtPath: path)
        Thread.sleep(forTimeInterval: 1.2)
        let after = Self.versions(chain, 140)
        #expect(after.last == #""v2""#, "the rewritten registry was not picked up")
        #expect(after.allSatisfy { $0 == #""v1""# || $0 == #""v2""# })
        // A broken rewrite keeps the previous mapping.
        try "fraud: [unclosed\n".write(toFile: path, atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: 60)], ofItemAtPath: path)
        Thread.sleep(forTimeInterval: 1.2)
        #expect(Self.versions(chain, 140).last == #""v2""#)
    }

    /// The engine runs a copy of the enrich filter on each filter worker. They share the registry
    /// file: once one copy has read a new mapping, the other writes it from its next event on,
    /// instead of re-reading on a clock of its own (old and new versions alternated for a second).
    @Test func enrichCopiesSwitchToANewRegistryTogether() throws {
        let path = try Self.registryFile("fraud: v1\n")
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -3600)], ofItemAtPath: path)
        let first = try Self.registryChain(path)
        let second = try Self.registryChain(path)
        #expect(Self.versions(first, 2) == [#""v1""#, #""v1""#] && Self.versions(second, 2) == [#""v1""#, #""v1""#])
        try "fraud: v2\n".write(toFile: path, atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.modificationDate: Date()], ofItemAtPath: path)
        Thread.sleep(forTimeInterval: 1.1)
        // The first copy looks at the file within 64 events; the second has looked at nothing since.
        #expect(Self.versions(first, 64).last == #""v2""#)
        #expect(Self.versions(second, 1) == [#""v2""#], "the second copy kept the old mapping")
        // A name the registry does not know, and a number, get the default.
        var other = [Self.json(#"{"model":"churn"}"#), Self.json(#"{"model":7}"#)]
        second.run(&other)
        #expect(other.map { Self.at($0.fields, "model_version") } == [#""unknown""#, #""unknown""#])
    }

    // MARK: mutate and drop

    @Test func mutateRenameCopyConvertRemove() throws {
        let filter = """
            {type: mutate, rename: {a: b, user.id: uid}, copy: {b: c}, remove: [user.n, gone],
              convert: {c: string, s2i: integer, s2f: float, five: float, s2b: boolean, f2i: integer, arr: integer}}
            """
        let event = Self.json(
            #"{"a":1,"user":{"id":7,"n":"x","k":2},"s2i":" 12","s2f":"1.5","five":"5","s2b":"yes","f2i":3.9,"arr":["1",2],"gone":0}"#)
        let f = try Self.one(filter, event)
        #expect(f.json == #"{"user":{"k":2},"s2i":12,"s2f":1.5,"five":5.0,"s2b":true,"f2i":3,"arr":[1,2],"b":1,"uid":7,"c":"1"}"#)
    }

    @Test func mutateConvertFailureAndFieldConflict() throws {
        let f = try Self.one("{type: mutate, convert: {n: integer, ok: integer}}", Self.json(#"{"n":"abc","ok":"4"}"#))
        #expect(f.hasTag("_convert_failure"))
        #expect(Self.at(f, "n") == #""abc""# && Self.at(f, "ok") == "4")
        let c = try Self.one("{type: mutate, rename: {a: msg.sub}}", Self.json(#"{"a":1,"msg":"text"}"#))
        #expect(c.hasTag("_field_conflict"))
        #expect(Self.at(c, "a") == "1" && Self.at(c, "msg") == #""text""#, "nothing moved, nothing overwritten")
    }

    @Test func dropWithWhenAndWithout() throws {
        let lines = [#"{"level":"INFO","i":0}"#, #"{"level":"DEBUG","i":1}"#, "not json", #"{"level":"ERROR","i":3}"#]
        let out = try Self.run(#"{type: parse}, {type: drop, when: 'level == "DEBUG"'}"#, lines.map(Self.line))
        #expect(out.map { $0.value(at: .message)?.string } == [lines[0], lines[2], lines[3]])
        #expect(try Self.run("{type: drop}", lines.map(Self.line)).isEmpty)
    }

    @Test func whenSelectsWhichEventsAFilterTouches() throws {
        let out = try Self.run(
            #"{type: parse}, {type: enrich, when: 'level == "ERROR"', fields: {alert: true}}"#,
            [#"{"level":"ERROR"}"#, #"{"level":"INFO"}"#].map(Self.line))
        #expect(out.map { Self.at($0, "alert") } == ["true", nil])
    }
}
