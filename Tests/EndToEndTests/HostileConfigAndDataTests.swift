import Foundation
import Testing

/// What careful users and attackers try on a pipeline file and on log data, through the real
/// binary: catastrophic regexes, alias bombs, secrets with YAML in them, odd timestamps,
/// duplicate keys, and wrong values that must be named in the error.
@Suite struct HostileConfigAndDataTests {
    static let evil = "^(?<x>(a+)+)$"

    @Test func catastrophicRegexesDoNotStallThePipeline() throws {
        let dir = try Driftwood.temporaryDirectory()
        // A backtracking engine needs ~2^30 steps for each of these lines in each of the three places.
        let bad = String(repeating: "a", count: 29) + "!"
        try Driftwood.write(
            [bad, "aaaa", bad, "level=ok", bad].joined(separator: "\n") + "\n", to: "app.log", in: dir)
        let pipeline = try Driftwood.write(
            """
            inputs:
              - type: file
                paths: [app.log]
                mode: read
                multiline: {start: '\(Self.evil)', timeout: 100ms}
            filters:
              - {type: parse, format: regex, pattern: '\(Self.evil)'}
              - type: mutate
                when: 'message =~ "\(Self.evil)"'
                rename: {x: matched}
            outputs:
              - {type: jsonl, path: out.jsonl}
            """, to: "p.yml", in: dir)
        let start = Date()
        let result = try Driftwood.run(["run", pipeline, "--data-dir", dir.appendingPathComponent("data").path], directory: dir)
        let elapsed = Date().timeIntervalSince(start)
        #expect(result.code == 0, "\(result.stderr)")
        // The process as a whole (start, read, write, stop); the regexes themselves take
        // microseconds, a backtracking engine would take hours: 20 s leaves room for a loaded machine.
        #expect(elapsed < 20, "took \(elapsed)s")
        let events = try Driftwood.jsonLines(dir.appendingPathComponent("out.jsonl").path)
        // multiline: only "aaaa" matches the start pattern, so lines join around it.
        #expect(events.count == 2)
        #expect(events[0]["message"] as? String == bad)
        #expect((events[0]["tags"] as? [String])?.contains("_parse_failure") == true)
        #expect(events[1]["message"] as? String == ["aaaa", bad, "level=ok", bad].joined(separator: "\n"))
    }

    @Test func regexesThatNeedBacktrackingAreConfigErrorsNamingThePatternAndWhy() throws {
        let dir = try Driftwood.temporaryDirectory()
        let pipeline = try Driftwood.write(
            #"""
            inputs:
              - type: file
                paths: [app.log]
                multiline: {start: '^(\d)\1'}
            filters:
              - {type: parse, format: regex, pattern: '(?<word>\w+)(?=!)'}
              - {type: drop, when: 'message =~ "(?<!x)y"'}
            outputs: [{type: stdout}]
            """#, to: "p.yml", in: dir)
        let result = try Driftwood.run(["check", pipeline], directory: dir)
        #expect(result.code == 2)
        for expected in [
            #"p.yml:4:24: inputs[0].multiline.start (file): bad regex '^(\d)\1': backreferences (\1) are not supported"#,
            #"p.yml:6:43: filters[0].pattern (parse): bad regex '(?<word>\w+)(?=!)': lookahead and lookbehind ((?=…) are not supported"#,
            #"p.yml:7:24: filters[1].when (drop): bad condition at column 12: bad regex "(?<!x)y": lookahead and lookbehind ((?<!…) are not supported"#,
        ] {
            #expect(result.stderr.contains(expected), "missing: \(expected)\n\(result.stderr)")
        }
        #expect(result.stderr.contains("linear time"))
    }

    @Test func namedGroupsWorkInBothSpellings() throws {
        let dir = try Driftwood.temporaryDirectory()
        let pipeline = try Driftwood.write(
            #"""
            inputs: [{type: stdin}]
            filters:
              - {type: parse, format: regex, pattern: '^(?<ts>\S+) (?P<level>[A-Z]+) (\d+) (?<msg>.*)$'}
            outputs: [{type: stdout}]
            """#, to: "p.yml", in: dir)
        let result = try Driftwood.run(
            ["test", pipeline], stdin: Data("2026-11-24T10:00:00Z ERROR 42 scored \"ok\" é\n".utf8), directory: dir)
        #expect(result.code == 0, "\(result.stderr)")
        #expect(result.stdout.contains(#""ts":"2026-11-24T10:00:00Z","level":"ERROR","msg":"scored \"ok\" é""#), "\(result.stdout)")
    }

    @Test func aliasBombIsRefusedQuicklyAtTheAlias() throws {
        let dir = try Driftwood.temporaryDirectory()
        var text = "inputs: [{type: stdin}]\noutputs: [{type: stdout}]\nfilters:\n  - type: enrich\n    fields:\n"
        text += "      a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        for k in 1...8 { text += "      a\(k): &a\(k) [" + Array(repeating: "*a\(k - 1)", count: 10).joined(separator: ",") + "]\n" }
        #expect(text.utf8.count < 800)
        let pipeline = try Driftwood.write(text, to: "p.yml", in: dir)
        let start = Date()
        let result = try Driftwood.run(["check", pipeline], directory: dir)
        #expect(Date().timeIntervalSince(start) < 5)
        #expect(result.code == 2)
        #expect(result.stderr.range(of: #"p\.yml:\d+:\d+: YAML aliases make this file stand for more than 100000 values"#, options: .regularExpression) != nil, "\(result.stderr)")
    }

    @Test func environmentValuesAreSubstitutedAfterParsing() throws {
        let dir = try Driftwood.temporaryDirectory()
        let pipeline = try Driftwood.write(
            """
            inputs: [{type: stdin}]
            filters:
              - type: enrich
                fields:
                  secret: ${DW_SECRET}
                  region: ${DW_REGION:-eu-1}
            outputs: [{type: stdout}]   # ${DW_NOT_READ_IN_COMMENTS}
            """, to: "p.yml", in: dir)
        let result = try Driftwood.run(
            ["run", pipeline], stdin: Data("x\n".utf8), directory: dir, environment: ["DW_SECRET": "s3cr3t #tail: [x"])
        #expect(result.code == 0, "\(result.stderr)")
        #expect(result.stdout.contains(#""secret":"s3cr3t #tail: [x","region":"eu-1""#), "\(result.stdout)")
        let missing = try Driftwood.run(["check", pipeline], directory: dir)
        #expect(missing.code == 2)
        #expect(missing.stderr.contains("p.yml:5:15: environment variable 'DW_SECRET' is not set"), "\(missing.stderr)")
    }

    @Test func timestampsOutsideYearsOneTo9999FailAndDatesComeFromTimestamp() throws {
        let dir = try Driftwood.temporaryDirectory()
        let pipeline = try Driftwood.write(
            """
            inputs: [{type: stdin}]
            filters:
              - {type: parse, format: json, timestamp: {field: t, formats: [unix, iso8601]}}
            outputs:
              - {type: jsonl, path: "out/%{+yyyy.MM.dd}.jsonl"}
            """, to: "p.yml", in: dir)
        let lines = [
            #"{"n":1,"t":1e20}"#, #"{"n":2,"t":253402300800}"#, #"{"n":3,"t":"10000-01-01T00:00:00Z"}"#,
            #"{"n":4,"t":"0000-06-01T00:00:00Z"}"#, #"{"n":5,"t":1795514400}"#,
        ]
        let result = try Driftwood.run(["run", pipeline], stdin: Data((lines.joined(separator: "\n") + "\n").utf8), directory: dir)
        #expect(result.code == 0, "\(result.stderr)")
        let out = dir.appendingPathComponent("out")
        var seen = 0
        for name in try FileManager.default.contentsOfDirectory(atPath: out.path) {
            for event in try Driftwood.jsonLines(out.appendingPathComponent(name).path) {
                seen += 1
                let n = event["n"] as? Int ?? 0
                let timestamp = try #require(event["@timestamp"] as? String)
                // The file's date is always the event's @timestamp date.
                #expect(name == timestamp.prefix(10).replacingOccurrences(of: "-", with: ".") + ".jsonl", "\(event)")
                if n == 5 {
                    #expect(timestamp == "2026-11-24T10:00:00.000Z")
                } else {
                    #expect((event["tags"] as? [String]) == ["_timestamp_failure"], "\(event)")
                    #expect(timestamp.count == 24)
                }
            }
        }
        #expect(seen == 5)
        // An unreadable @timestamp from the data names no date at all rather than today's.
        let odd = try Driftwood.run(
            ["run", pipeline], stdin: Data(#"{"@timestamp":"292278994-08-17T07:12:55.807Z"}"#.utf8 + [0x0A]), directory: dir)
        #expect(odd.code == 0, "\(odd.stderr)")
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("_unknown_.jsonl").path))
    }

    @Test func aKeyWrittenTwiceIsShippedOnceWithItsLastValue() throws {
        let dir = try Driftwood.temporaryDirectory()
        let pipeline = try Driftwood.write(
            """
            inputs: [{type: stdin}]
            filters:
              - {type: parse, format: json}
              - {type: parse, format: json, field: nested, target: parsed}
            outputs:
              - {type: jsonl, path: out.jsonl}
            """, to: "p.yml", in: dir)
        let line = #"{"a":1,"b":{"c":1,"c":[2]},"a":{"x":1,"x":2},"nested":"{\"k\":1,\"k\":2}"}"#
        let result = try Driftwood.run(["run", pipeline], stdin: Data((line + "\n").utf8), directory: dir)
        #expect(result.code == 0, "\(result.stderr)")
        let raw = try String(contentsOf: dir.appendingPathComponent("out.jsonl"), encoding: .utf8)
        #expect(raw.contains(#""a":{"x":2},"b":{"c":[2]},"nested":"#), "\(raw)")
        #expect(raw.contains(#""parsed":{"k":2}"#), "\(raw)")
        #expect(raw.components(separatedBy: #""a":"#).count == 2, "\(raw)")
    }

    @Test func valueErrorsNameTheValueGiven() throws {
        let dir = try Driftwood.temporaryDirectory()
        let pipeline = try Driftwood.write(
            """
            inputs: [{type: stdin, batch_size: many}]
            filters:
              - {type: parse, format: jsonn}
            outputs:
              - {type: jsonl, path: out.jsonl, rotate: {max_bytes: 10 megs}}
            shutdown_timeout: 30 seconds
            """, to: "p.yml", in: dir)
        let result = try Driftwood.run(["check", pipeline], directory: dir)
        #expect(result.code == 2)
        for expected in [
            "p.yml:1:36: inputs[0].batch_size (stdin): expected a whole number, found 'many'",
            "p.yml:3:27: filters[0].format (parse): expected one of json, logfmt, regex, found 'jsonn' (did you mean 'json'?)",
            "outputs[0].rotate.max_bytes (jsonl): expected a size like 512KiB, 10MiB, 1GiB or a number of bytes, found '10 megs'",
            "p.yml:6:19: shutdown_timeout: expected a duration like 250ms, 1s, 5m or 1h, found '30 seconds'",
        ] {
            #expect(result.stderr.contains(expected), "missing: \(expected)\n\(result.stderr)")
        }
    }
}
