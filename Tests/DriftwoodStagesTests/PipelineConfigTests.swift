import Testing

@testable import DriftwoodCore
@testable import DriftwoodStages

/// Pipeline files read strictly: each class of error with its file, line, column and key path.
@Suite struct PipelineConfigTests {
    static let file = "pipelines/model.yml"

    func load(_ text: String, file: String = Self.file, env: [String: String] = [:]) throws(ConfigErrors) -> PipelineConfig {
        try PipelineConfig.load(text: text, file: file, environment: env, catalog: StageCatalog.descriptors)
    }

    /// The errors `text` produces (none when it loads).
    func errors(_ text: String, env: [String: String] = [:]) -> [ConfigError] {
        do {
            _ = try load(text, env: env)
            return []
        } catch {
            return error.errors
        }
    }

    /// Expects exactly one error and returns it.
    func single(_ text: String, env: [String: String] = [:], sourceLocation: SourceLocation = #_sourceLocation)
        -> ConfigError?
    {
        let all = errors(text, env: env)
        #expect(all.count == 1, "\(all.map(\.description))", sourceLocation: sourceLocation)
        return all.first
    }

    // MARK: Unknown keys

    @Test func unknownTopLevelKeySuggestsTheClosest() throws {
        let e = try #require(single("inputs: [{type: stdin}]\noutputs: [{type: stdout}]\nshutdown_timout: 5s\n"))
        #expect(e.description == "pipelines/model.yml:3:1: unknown key 'shutdown_timout' (did you mean 'shutdown_timeout'?)")
        #expect(e.path == "" && e.stageType == nil)
    }

    @Test func unknownKeyInsideAStage() throws {
        let text = """
            inputs:
              - type: stdin
            outputs:
              - type: jsonl
                path: out.jsonl
                compresion: gzip
            """
        let e = try #require(single(text))
        #expect(
            e.description
                == "pipelines/model.yml:6:5: outputs[0] (jsonl): unknown key 'compresion' (did you mean 'compression'?)")
    }

    @Test func unknownKeyInsideANestedMapping() throws {
        let text = """
            inputs: [{type: stdin}]
            outputs:
              - type: jsonl
                path: out.jsonl
                rotate:
                  max_bytes: 10MiB
                  max_byts: 1MiB
            """
        let e = try #require(single(text))
        #expect(
            e.description
                == "pipelines/model.yml:7:7: outputs[0].rotate (jsonl): unknown key 'max_byts' (did you mean 'max_bytes'?)")
    }

    @Test func unknownKeyWithNothingCloseHasNoSuggestion() throws {
        let e = try #require(single("inputs: [{type: stdin, zzzzzz: 1}]\noutputs: [{type: stdout}]\n"))
        #expect(e.message == "unknown key 'zzzzzz'")
        #expect((e.line, e.column, e.path) == (1, 24, "inputs[0]"))
    }

    // MARK: Wrong types

    @Test func mappingExpected() throws {
        let e = try #require(single("inputs: [{type: stdin}]\noutputs: [{type: stdout}]\nmetrics: 9600\n"))
        #expect(e.description == "pipelines/model.yml:3:10: metrics: expected a mapping of keys to values, found '9600'")
        let stage = try #require(single("inputs:\n  - stdin\noutputs: [{type: stdout}]\n"))
        #expect(stage.description == "pipelines/model.yml:2:5: inputs[0]: expected a mapping of keys to values, found 'stdin'")
    }

    @Test func numberExpected() throws {
        let e = try #require(single("inputs:\n  - type: stdin\n    batch_size: lots\noutputs: [{type: stdout}]\n"))
        #expect(e.description == "pipelines/model.yml:3:17: inputs[0].batch_size (stdin): expected a whole number, found 'lots'")
    }

    @Test func boolExpected() throws {
        let text = """
            inputs: [{type: stdin}]
            filters:
              - type: parse
                remove_source: maybe
            outputs: [{type: stdout}]
            """
        let e = try #require(single(text))
        #expect(e.description == "pipelines/model.yml:4:20: filters[0].remove_source (parse): expected true or false, found 'maybe'")
        // A quoted "true" is a string, not a bool.
        let quoted = errors(text.replacingOccurrences(of: "maybe", with: "\"true\""))
        #expect(quoted.map(\.message) == ["expected true or false, found 'true'"])
    }

    @Test func listExpected() throws {
        let e = try #require(single("inputs: {type: stdin}\noutputs: [{type: stdout}]\n"))
        #expect((e.line, e.column, e.path, e.message) == (1, 9, "inputs", "expected a list, found a mapping"))
    }

    // MARK: Missing required keys

    @Test func missingType() throws {
        let e = try #require(single("inputs:\n  - id: main\noutputs: [{type: stdout}]\n"))
        #expect(e.description == "pipelines/model.yml:2:5: inputs[0]: missing required key 'type'")
    }

    @Test func missingJSONLPath() throws {
        let e = try #require(single("inputs: [{type: stdin}]\noutputs:\n  - type: jsonl\n    compression: gzip\n"))
        #expect(e.description == "pipelines/model.yml:3:5: outputs[0] (jsonl): missing required key 'path'")
    }

    @Test func missingRegexPattern() throws {
        let e = try #require(single("inputs: [{type: stdin}]\nfilters:\n  - type: parse\n    format: regex\noutputs: [{type: stdout}]\n"))
        #expect((e.line, e.column, e.path, e.stageType) == (3, 5, "filters[0]", "parse"))
        #expect(e.message.hasPrefix("missing required key 'pattern'"))
    }

    @Test func missingSections() throws {
        let all = errors("name: x\n")
        #expect(all.map(\.message) == ["missing required key 'inputs'", "missing required key 'outputs'"])
        #expect(all.allSatisfy { $0.line == 1 && $0.column == 1 })
    }

    // MARK: Stage types

    @Test func unknownStageTypeSuggestsTheClosest() throws {
        let e = try #require(single("inputs:\n  - type: stdn\noutputs: [{type: stdout}]\n"))
        #expect(
            e.description
                == "pipelines/model.yml:2:11: inputs[0].type: unknown input type 'stdn' (expected one of file, kafka, stdin); did you mean 'stdin'?")
    }

    @Test func filterTypeUsedAsAnOutput() throws {
        let e = try #require(single("inputs: [{type: stdin}]\noutputs:\n  - type: parse\n"))
        #expect(e.description == "pipelines/model.yml:3:11: outputs[0].type: 'parse' is a filter, not an output")
        let input = try #require(single("inputs: [{type: stdin}]\noutputs: [{type: stdin}]\n"))
        #expect(input.message == "'stdin' is an input, not an output")
    }

    // MARK: Values

    @Test func badRegex() throws {
        let text = """
            inputs: [{type: stdin}]
            filters:
              - type: parse
                format: regex
                pattern: '(?<a>[unclosed'
            outputs: [{type: stdout}]
            """
        let e = try #require(single(text))
        #expect((e.line, e.column, e.path, e.stageType) == (5, 14, "filters[0].pattern", "parse"))
        #expect(e.message.hasPrefix("bad regex '(?<a>[unclosed': missing ]"))
        let noGroups = try #require(single(text.replacingOccurrences(of: "(?<a>[unclosed", with: "[a-z]+")))
        #expect(noGroups.message.contains("no named groups"))
    }

    @Test func badDurationAndSize() throws {
        let all = errors("inputs:\n  - type: stdin\n    max_line_bytes: 10XB\noutputs: [{type: stdout}]\nshutdown_timeout: 30\n")
        // In file order, though top-level settings are read before the stages.
        #expect(all.map(\.description) == [
            "pipelines/model.yml:3:21: inputs[0].max_line_bytes (stdin): expected a size like 512KiB, 10MiB, 1GiB or a number of bytes, found '10XB'",
            "pipelines/model.yml:5:19: shutdown_timeout: expected a duration like 250ms, 1s, 5m or 1h, found '30'",
        ])
    }

    @Test func badWhenExpression() throws {
        let e = try #require(single("inputs: [{type: stdin}]\nfilters:\n  - type: drop\n    when: 'level == '\noutputs: [{type: stdout}]\n"))
        #expect((e.line, e.column, e.path, e.stageType) == (4, 11, "filters[0].when", "drop"))
        #expect(e.message.hasPrefix("bad condition at column 10"))
    }

    @Test func badChoiceSuggests() throws {
        let e = try #require(single("inputs: [{type: stdin}]\noutputs:\n  - type: stdout\n    format: prety\n"))
        #expect(e.description == "pipelines/model.yml:4:13: outputs[0].format (stdout): expected one of json, pretty, found 'prety' (did you mean 'pretty'?)")
    }

    // MARK: Environment variables

    @Test func undefinedVariableIsLocatedInTheOriginalText() throws {
        let text = """
            inputs: [{type: stdin}]
            filters:
              - {type: enrich, fields: {a: "${DW_A}-${DW_B}", c: "${DW_C:-fallback}"}}
            outputs: [{type: stdout}]
            """
        let e = try #require(single(text, env: ["DW_A": "a-long-value"]))
        #expect(e.description == "pipelines/model.yml:3:41: environment variable 'DW_B' is not set (give a default with ${DW_B:-value})")
    }

    @Test func defaultsAndEscapedDollar() throws {
        let text = """
            inputs: [{type: stdin}]
            filters:
              - {type: enrich, fields: {a: "${DW_A:-dev}", b: "${DW_B:-x}", lit: "$${HOME}", plain: "$HOME"}}
            outputs: [{type: stdout}]
            """
        let config = try load(text, env: ["DW_B": "set", "HOME": "/root"])
        let enrich = try #require(config.filters.first?.config as? EnrichConfig)
        let values = enrich.fields.map { field -> String in
            guard case .json(let json) = field.value else { return "template" }
            return String(decoding: json, as: UTF8.self)
        }
        #expect(enrich.fields.map(\.path.text) == ["a", "b", "lit", "plain"])
        #expect(values == [#""dev""#, #""set""#, #""${HOME}""#, #""$HOME""#])
        // A defined but empty variable takes the default, as in the shell's ${VAR:-default}.
        let empty = try load(text, env: ["DW_A": ""])
        let a = try #require((empty.filters.first?.config as? EnrichConfig)?.fields.first?.value)
        guard case .json(let json) = a else { Issue.record("expected JSON"); return }
        #expect(String(decoding: json, as: UTF8.self) == #""dev""#)
    }

    func enrichValues(_ config: PipelineConfig) throws -> [String] {
        let enrich = try #require(config.filters.first?.config as? EnrichConfig)
        return enrich.fields.map { field -> String in
            guard case .json(let json) = field.value else { return "template" }
            return String(decoding: json, as: UTF8.self)
        }
    }

    @Test func aValueFromTheEnvironmentIsNeverYAML() throws {
        let text = """
            inputs: [{type: stdin}]
            filters:
              - type: enrich
                fields:
                  secret: ${DW_SECRET}
                  quoted: "${DW_SECRET}"
                  list: ${DW_LIST}
                  port: ${DW_PORT:-9200}
            outputs: [{type: stdout}]  # ${DW_ONLY_IN_A_COMMENT}
            """
        let config = try load(text, env: ["DW_SECRET": "abc #tail: x", "DW_LIST": "[a, b]"])
        #expect(try enrichValues(config) == [#""abc #tail: x""#, #""abc #tail: x""#, #""[a, b]""#, "9200"])
    }

    @Test func undefinedVariablesInEveryScalarStyleAreLocated() throws {
        let text = """
            inputs: [{type: stdin}]
            filters:
              - type: enrich
                fields:
                  plain: x ${DW_P}
                  single: 'y ${DW_S}'
                  block: |
                    first line
                    second ${DW_B} line
            outputs: [{type: stdout}]
            """
        #expect(errors(text).map { "\($0.line):\($0.column) \($0.message.prefix(27))" } == [
            "5:16 environment variable 'DW_P'", "6:18 environment variable 'DW_S'", "9:16 environment variable 'DW_B'",
        ])
    }

    @Test func aliasBombIsAConfigErrorAtTheAlias() throws {
        var text = "inputs: [{type: stdin}]\noutputs: [{type: stdout}]\nfilters:\n  - type: enrich\n    fields:\n"
        text += "      a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for k in 1...8 { text += "      a\(k): &a\(k) [" + Array(repeating: "*a\(k - 1)", count: 10).joined(separator: ", ") + "]\n" }
        let start = ContinuousClock.now
        let e = try #require(single(text))
        #expect(ContinuousClock.now - start < .seconds(5))
        #expect(e.message.contains("YAML aliases make this file stand for more than 100000 values"))
        // At an alias (`*a…`) on the line that crossed the budget.
        let line = text.split(separator: "\n", omittingEmptySubsequences: false)[e.line - 1]
        #expect(Array(line)[e.column - 1] == "*")
        // A few aliases are fine.
        let small = "inputs: [{type: stdin}]\noutputs: [{type: stdout}]\nfilters:\n  - type: enrich\n    fields:\n"
            + "      a: &v [1, 2]\n      b: *v\n"
        #expect(try enrichValues(try load(small)) == ["[1,2]", "[1,2]"])
    }

    @Test func valueErrorsNameTheValueGiven() throws {
        let text = """
            inputs:
              - type: file
                paths: [/tmp/x.log]
                mode: tial
                scan_interval: 5 minutes
                max_line_bytes: 0
                batch_size: 0
            filters:
              - type: parse
                format: jsonn
                remove_source: [true]
            outputs:
              - type: elasticsearch
                hosts: [http://127.0.0.1:9200]
                concurrency: 100
                compression_level: 13
            """
        let messages = errors(text).map(\.description)
        for expected in [
            "inputs[0].mode (file): expected one of tail, read, found 'tial' (did you mean 'tail'?)",
            "inputs[0].scan_interval (file): expected a duration like 250ms, 1s, 5m or 1h, found '5 minutes'",
            "inputs[0].max_line_bytes (file): must be at least 1 byte, found '0'",
            "inputs[0].batch_size (file): must be at least 1, found 0",
            "filters[0].format (parse): expected one of json, logfmt, regex, found 'jsonn' (did you mean 'json'?)",
            "filters[0].remove_source (parse): expected true or false, found a list",
            "outputs[0].concurrency (elasticsearch): must be at most 64, found '100'",
            "outputs[0].compression_level (elasticsearch): must be at most 12, found '13'",
        ] {
            #expect(messages.contains { $0.hasSuffix(expected) }, "\(expected) not in \(messages)")
        }
    }

    // MARK: YAML syntax, duplicate ids, many errors

    @Test func invalidYAML() throws {
        let e = try #require(single("inputs: [{type: stdin}]\nname: a: b\noutputs: [{type: stdout}]\n"))
        #expect((e.line, e.column, e.path) == (2, 8, ""))
        #expect(e.message.hasPrefix("invalid YAML: "))
        #expect(e.message.contains("mapping values are not allowed"))
        let empty = try #require(single(""))
        #expect(empty.message == "the pipeline file is empty")
    }

    @Test func duplicateStageIds() throws {
        let text = """
            inputs:
              - type: stdin
                id: main
            outputs:
              - type: stdout
              - type: stdout
                id: main
            """
        let e = try #require(single(text))
        #expect(
            e.description
                == "pipelines/model.yml:6:5: outputs[1] (stdout): id 'main' is already used by inputs[0]; stage ids must be unique")
    }

    @Test func everyErrorInAFileIsReportedInOrder() throws {
        let text = """
            inputs:
              - type: stdin
                max_line_bytes: lots
            filters:
              - type: parse
                feild: message
              - type: frobnicate
              - type: drop
                when: 'level =='
            outputs:
              - type: jsonl
                path: "${DW_UNSET}/out.jsonl"
                rotate: {max_bytes: 10MB, every: 1h}
            shutdown_timeout: soon
            """
        let all = errors(text)
        // In file order, whichever pass found them (environment, top level, stages).
        #expect(all.map { "\($0.line):\($0.column) \($0.path)" } == [
            "3:21 inputs[0].max_line_bytes",
            "6:5 filters[0]",
            "7:11 filters[1].type",
            "9:11 filters[2].when",
            "12:12 ",
            "13:31 outputs[0].rotate",
            "14:19 shutdown_timeout",
        ])
    }

    // MARK: Defaults

    @Test func defaults() throws {
        let text = """
            inputs: [{type: stdin}, {type: stdin, id: second}]
            filters: [{type: parse}, {type: drop, when: 'exists(debug)'}]
            outputs: [{type: stdout}, {type: jsonl, path: out.jsonl}]
            """
        let c = try load(text, file: "/etc/driftwood/model-logs.yml")
        #expect(c.name == "model-logs")
        #expect(c.dataDir == ".driftwood/model-logs")
        #expect(c.shutdownTimeout == .seconds(30))
        #expect(c.metricsAddress == nil)
        #expect(c.inputs.map(\.id) == ["stdin_0", "second"])
        #expect(c.filters.map(\.id) == ["parse_0", "drop_1"])
        #expect(c.outputs.map(\.id) == ["stdout_0", "jsonl_1"])
        #expect(c.filters[0].when == nil && c.filters[1].when?.source == "exists(debug)")
        #expect(c.outputs.map(\.path) == ["outputs[0]", "outputs[1]"])
        let named = try load("name: fraud\nshutdown_timeout: 250ms\nmetrics: {address: 127.0.0.1:9600}\n" + text)
        #expect(named.name == "fraud" && named.dataDir == ".driftwood/fraud")
        #expect(named.shutdownTimeout == .milliseconds(250))
        #expect(named.metricsAddress == "127.0.0.1:9600")
        #expect(c.unhealthyAfter == .seconds(60) && named.unhealthyAfter == .seconds(60))
    }

    @Test func metricsBlock() throws {
        let stages = "inputs: [{type: stdin}]\noutputs: [{type: stdout}]\n"
        let c = try load("metrics: {address: ':9600', unhealthy_after: 5s}\n" + stages)
        #expect(c.metricsAddress == ":9600" && c.unhealthyAfter == .seconds(5))
        #expect(HostPort(":9600") == HostPort("0.0.0.0:9600"))
        #expect(HostPort("*:9600") == HostPort("0.0.0.0:9600"))
        let typo = try #require(single("metrics: {address: 127.0.0.1:9600, unhealthy_afte: 5s}\n" + stages))
        #expect(
            typo.description
                == "pipelines/model.yml:1:36: metrics: unknown key 'unhealthy_afte' (did you mean 'unhealthy_after'?)")
        let zero = try #require(single("metrics: {unhealthy_after: 0s}\n" + stages))
        #expect(zero.description == "pipelines/model.yml:1:28: metrics.unhealthy_after: must be longer than 0s, found '0s'")
        let port = try #require(single("metrics: {address: localhost}\n" + stages))
        #expect(port.description == "pipelines/model.yml:1:20: metrics.address: expected HOST:PORT, like 127.0.0.1:9600, found 'localhost'")
    }

    // MARK: Units

    @Test func durations() {
        #expect(ConfigUnits.duration("250ms") == .milliseconds(250))
        #expect(ConfigUnits.duration("1s") == .seconds(1))
        #expect(ConfigUnits.duration("1.5s") == .milliseconds(1500))
        #expect(ConfigUnits.duration("5m") == .seconds(300))
        #expect(ConfigUnits.duration("5ms") == .milliseconds(5))
        #expect(ConfigUnits.duration("1h") == .seconds(3600))
        #expect(ConfigUnits.duration("0s") == .zero)
        for bad in ["5", "x", "-1s", "", "s", "1.2.3s", "1d", "1 s", "ms"] {
            #expect(ConfigUnits.duration(bad) == nil, "\(bad)")
        }
    }

    @Test func sizes() {
        #expect(ConfigUnits.size("512KiB") == 524_288)
        #expect(ConfigUnits.size("10MiB") == 10_485_760)
        #expect(ConfigUnits.size("1GiB") == 1_073_741_824)
        #expect(ConfigUnits.size("100") == 100)
        #expect(ConfigUnits.size("100B") == 100)
        #expect(ConfigUnits.size("10MB") == 10_000_000)
        #expect(ConfigUnits.size("1.5KiB") == 1536)
        for bad in ["10XB", "", "KiB", "-1", "1e3", "ten", "10 XiB"] {
            #expect(ConfigUnits.size(bad) == nil, "\(bad)")
        }
    }
}
