import Foundation
import Testing

/// `driftwood run` through the real binary: stdin → parse → enrich → JSONL.
@Suite struct RunStdinTests {
    @Test func shipsEveryLineInOrderWithModelVersions() throws {
        let dir = try Driftwood.temporaryDirectory()
        try Driftwood.write("fraud-detector: \"1.4.2\"\nchurn-predictor: 2.0.1\n", to: "models.yml", in: dir)
        let pipeline = try Driftwood.write(
            """
            inputs:
              - type: stdin
            filters:
              - {type: parse, format: json, remove_source: true}
              - type: enrich
                model_version: {registry: models.yml, name_field: model}
                fields: {service.name: fraud-api, team: "%{model}"}
            outputs:
              - {type: jsonl, path: out/events.jsonl}
            """, to: "p.yml", in: dir)
        var lines: [String] = []
        for i in 0..<5000 {
            let model = ["fraud-detector", "churn-predictor", "unknown-model"][i % 3]
            lines.append(#"{"n":\#(i),"model":"\#(model)","features":{"amount":\#(Double(i) / 4)},"msg":"a \"quoted\" \u00e9"}"#)
        }
        let input = lines.joined(separator: "\n") + "\n"
        let result = try Driftwood.run(["run", pipeline], stdin: Data(input.utf8), directory: dir)
        #expect(result.code == 0, "\(result.stderr)")
        let events = try Driftwood.jsonLines(dir.appendingPathComponent("out/events.jsonl").path)
        #expect(events.count == 5000)
        for (i, event) in events.enumerated() {
            #expect(event["n"] as? Int == i)
            #expect(event["message"] == nil)
            let expected = ["1.4.2", "2.0.1", "unknown"][i % 3]
            #expect(event["model_version"] as? String == expected)
            #expect((event["service"] as? [String: Any])?["name"] as? String == "fraud-api")
            #expect(event["team"] as? String == event["model"] as? String)
            #expect((event["input"] as? [String: Any])?["type"] as? String == "stdin")
            #expect(event["msg"] as? String == "a \"quoted\" é")
        }
        // @timestamp is first on every line, and numbers keep their spelling.
        let raw = try String(contentsOf: dir.appendingPathComponent("out/events.jsonl"), encoding: .utf8)
        #expect(raw.split(separator: "\n").allSatisfy { $0.hasPrefix(#"{"@timestamp":""#) })
        #expect(raw.contains(#""amount":0.25}"#))
    }

    @Test func badInputNeverCrashesAndKeepsTheGoodLines() throws {
        let dir = try Driftwood.temporaryDirectory()
        let pipeline = try Driftwood.write(
            """
            inputs:
              - {type: stdin, max_line_bytes: 1KiB}
            filters:
              - {type: parse, format: json}
            outputs:
              - {type: jsonl, path: out.jsonl}
            """, to: "p.yml", in: dir)
        var input = Data()
        input.append(Data(#"{"ok":1}"#.utf8 + [0x0A]))
        input.append(Data([0xFF, 0xFE, 0x00, 0x01, 0x0A]))  // binary junk
        input.append(Data([0x0A]))  // an empty line: no event
        input.append(Data(String(repeating: "x", count: 5000).utf8 + [0x0A]))  // a giant line
        input.append(Data(String(repeating: "[", count: 10_000).utf8 + [0x0A]))  // deep nesting
        input.append(Data(#"{"ok":2}"#.utf8 + [0x0D, 0x0A]))  // CRLF
        input.append(Data(#"{"ok":3}"#.utf8))  // no final newline
        let result = try Driftwood.run(["run", pipeline], stdin: input, directory: dir)
        #expect(result.code == 0, "\(result.stderr)")
        let events = try Driftwood.jsonLines(dir.appendingPathComponent("out.jsonl").path)
        #expect(events.count == 6)
        #expect(events.compactMap { $0["ok"] as? Int } == [1, 2, 3])
        let tags = events.map { ($0["tags"] as? [String]) ?? [] }
        #expect(tags[1] == ["_parse_failure"])
        #expect((events[1]["message"] as? String)?.hasPrefix("\u{FFFD}") == true)
        #expect(tags[2].contains("_line_truncated") && tags[2].contains("_parse_failure"))
        #expect((events[2]["message"] as? String)?.utf8.count == 1024)
        #expect(tags[3].contains("_parse_failure"))
    }

    @Test func stdoutAndConditionsAndDrop() throws {
        let dir = try Driftwood.temporaryDirectory()
        let pipeline = try Driftwood.write(
            """
            inputs: [{type: stdin}]
            filters:
              - {type: parse, format: json, remove_source: true}
              - {type: drop, when: 'level == "DEBUG"'}
              - {type: mutate, when: 'exists(latency)', convert: {latency: float}, rename: {lvl: level.name}}
            outputs:
              - {type: stdout}
              - {type: jsonl, path: errors.jsonl, when: 'level == "ERROR"'}
            """, to: "p.yml", in: dir)
        let input = """
            {"level":"INFO","latency":"12"}
            {"level":"DEBUG"}
            {"level":"ERROR","latency":3}

            """
        let result = try Driftwood.run(["run", pipeline], stdin: Data(input.utf8), directory: dir)
        #expect(result.code == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines.first?.contains(#""latency":12.0"#) == true)
        let errors = try Driftwood.jsonLines(dir.appendingPathComponent("errors.jsonl").path)
        #expect(errors.count == 1)
        #expect(errors.first?["level"] as? String == "ERROR")
    }

    @Test func logFormatJSONWritesOneObjectALineOnStderr() throws {
        let dir = try Driftwood.temporaryDirectory()
        let pipeline = try Driftwood.write(
            "inputs: [{type: stdin}]\noutputs: [{type: stdout}]\n", to: "p.yml", in: dir)
        let result = try Driftwood.run(
            ["run", pipeline, "--log-format", "json"], stdin: Data("hello\n".utf8), directory: dir)
        #expect(result.code == 0)
        let logLines = result.stderr.split(separator: "\n")
        #expect(!logLines.isEmpty)
        var objects: [[String: Any]] = []
        for line in logLines {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object?["log.level"] != nil && object?["message"] != nil && object?["@timestamp"] != nil)
            #expect(object?["log.logger"] as? String == "driftwood" && object?["event.dataset"] as? String == "driftwood.log")
            objects += object.map { [$0] } ?? []
        }
        // Metadata goes under driftwood. (ECS has no such keys), so none clashes with an ECS field.
        let started = objects.first { $0["message"] as? String == "pipeline started" }
        #expect(started?["driftwood.pipeline"] as? String == "p" && started?["driftwood.outputs"] as? String == "1")
        // Event data goes to stdout only.
        #expect(!result.stderr.contains("hello"))
        #expect(result.stdout.contains(#""message":"hello""#))
    }
}
