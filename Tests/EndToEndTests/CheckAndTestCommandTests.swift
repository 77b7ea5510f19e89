import Foundation
import Testing

/// `driftwood check`, `driftwood test`, `--version` and exit codes, through the real binary.
@Suite struct CheckAndTestCommandTests {
    @Test func checkPrintsCounts() throws {
        let dir = try Driftwood.temporaryDirectory()
        let pipeline = try Driftwood.write(
            """
            inputs: [{type: stdin}]
            filters: [{type: parse, format: json}, {type: drop, when: 'exists(debug)'}]
            outputs: [{type: stdout}, {type: jsonl, path: "out/%{model}-%{+yyyy-MM-dd}.jsonl"}]
            """, to: "p.yml", in: dir)
        let result = try Driftwood.run(["check", pipeline], directory: dir)
        #expect(result.code == 0)
        #expect(result.stdout == "ok: 1 inputs, 2 filters, 2 outputs\n")
    }

    @Test func checkReportsEveryErrorWithFileLineColumnAndKey() throws {
        let dir = try Driftwood.temporaryDirectory()
        let pipeline = try Driftwood.write(
            """
            inputs:
              - type: stdin
                max_line_bytes: lots
            filters:
              - type: parse
                format: json
                feild: message
              - type: parse
                format: regex
                pattern: '(?<a>[unclosed'
              - type: drop
                when: 'level == '
              - type: frobnicate
            outputs:
              - type: jsonl
                path: out.jsonl
                compression: zip
                rotate: {max_bytes: 10MB, every: 1h}
            shutdown_timeout: soon
            """, to: "p.yml", in: dir)
        let result = try Driftwood.run(["check", pipeline], directory: dir)
        #expect(result.code == 2)
        #expect(result.stdout.isEmpty)
        let expected = [
            "p.yml:3:21: inputs[0].max_line_bytes (stdin): expected a size",
            "p.yml:7:5: filters[0] (parse): unknown key 'feild' (did you mean 'field'?)",
            "p.yml:10:14: filters[1].pattern (parse): bad regex",
            "p.yml:12:11: filters[2].when (drop): bad condition at column 10",
            "p.yml:13:11: filters[3].type: unknown filter type 'frobnicate'",
            "p.yml:17:18: outputs[0].compression (jsonl): expected one of none, gzip",
            "p.yml:18:31: outputs[0].rotate (jsonl): unknown key 'every'",
            "p.yml:19:19: shutdown_timeout: expected a duration",
        ]
        for e in expected {
            #expect(result.stderr.contains(e), "missing: \(e)\n\(result.stderr)")
        }
        #expect(result.stderr.contains("8 errors"))
        // Reported in file order.
        let lines = result.stderr.split(separator: "\n").compactMap { line -> Int? in
            let parts = line.split(separator: ":")
            return parts.count > 2 ? Int(parts[1]) : nil
        }
        #expect(lines == lines.sorted())
    }

    @Test func undefinedEnvironmentVariableIsAnErrorAndDefaultsWork() throws {
        let dir = try Driftwood.temporaryDirectory()
        let pipeline = try Driftwood.write(
            """
            inputs: [{type: stdin}]
            filters:
              - {type: enrich, fields: {env: "${DW_TEST_ENV:-dev}", region: "${DW_TEST_REGION}"}}
            outputs: [{type: stdout}]
            """, to: "p.yml", in: dir)
        let bad = try Driftwood.run(["check", pipeline], directory: dir)
        #expect(bad.code == 2)
        #expect(bad.stderr.contains("p.yml:3:66:"), "\(bad.stderr)")
        #expect(bad.stderr.contains("environment variable 'DW_TEST_REGION' is not set"))
        let good = try Driftwood.run(
            ["run", pipeline], stdin: Data("x\n".utf8), directory: dir, environment: ["DW_TEST_REGION": "eu-1"])
        #expect(good.code == 0, "\(good.stderr)")
        #expect(good.stdout.contains(#""env":"dev","region":"eu-1""#))
    }

    @Test func testCommandRunsFiltersOnlyAndWritesNoOutputs() throws {
        let dir = try Driftwood.temporaryDirectory()
        let pipeline = try Driftwood.write(
            """
            inputs: [{type: stdin}]
            filters:
              - {type: parse, format: logfmt, remove_source: true}
              - {type: mutate, convert: {latency_ms: float}}
            outputs: [{type: jsonl, path: should-not-exist.jsonl}]
            """, to: "p.yml", in: dir)
        let lines = try Driftwood.write(
            "level=info model=fraud latency_ms=12 msg=\"scored ok\"\nnot=\"closed\n", to: "lines.txt", in: dir)
        let result = try Driftwood.run(["test", pipeline, "--input", lines], directory: dir)
        #expect(result.code == 0, "\(result.stderr)")
        let out = result.stdout.split(separator: "\n")
        #expect(out.count == 2)
        #expect(out[0].contains(#""level":"info","model":"fraud","latency_ms":12.0,"msg":"scored ok""#))
        #expect(out[1].contains("_parse_failure"))
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("should-not-exist.jsonl").path))
    }

    @Test func versionAndUsageErrors() throws {
        let version = try Driftwood.run(["--version"])
        #expect(version.code == 0)
        #expect(version.stdout.first?.isNumber == true)
        let usage = try Driftwood.run(["run"])
        #expect(usage.code == 2)
        let unknown = try Driftwood.run(["frobnicate"])
        #expect(unknown.code == 2)
        let missing = try Driftwood.run(["check", "/nonexistent/pipeline.yml"])
        #expect(missing.code == 2)
    }
}
