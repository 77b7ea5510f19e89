import Foundation
import Testing

/// Issue 17, items 5 to 7: Elasticsearch unreachable at start, `check --connect`, `test` with
/// only filters and `--explain`, `baseline`'s choice of features, `run --help`.
@Suite struct ConnectTestAndHelpTests {
    static func esPipeline(_ url: String, in dir: URL) throws -> String {
        try Driftwood.write(
            """
            name: p
            shutdown_timeout: 30s
            inputs: [{type: stdin}]
            outputs:
              - {type: elasticsearch, id: es, hosts: ["\(url)"], timeouts: {connect: 2s}}
            """, to: "p.yml", in: dir)
    }

    @Test func checkConnectSaysWhatIsWrongAndExitsNonZero() throws {
        let dir = try Driftwood.temporaryDirectory()
        let refused = try Driftwood.run(["check", "--connect", Self.esPipeline("http://127.0.0.1:\(FirstHour.closedPort())", in: dir)], directory: dir)
        #expect(refused.code == 1, "\(refused.stderr)")
        #expect(refused.stdout.hasPrefix("ok: "))
        #expect(refused.stderr.contains("es: cannot be reached: ") && refused.stderr.contains("connection refused"), "\(refused.stderr)")
        let dns = try Driftwood.run(["check", "--connect", Self.esPipeline("http://no-such-host.invalid:9200", in: dir)], directory: dir)
        #expect(dns.code == 1)
        #expect(dns.stderr.contains("cannot resolve the host name (DNS)"), "\(dns.stderr)")
        let tls = try Driftwood.run(["check", "--connect", Self.esPipeline("https://127.0.0.1:\(FirstHour.closedPort())", in: dir)], directory: dir)
        #expect(tls.code == 1)

        let server = try Osmem.start()
        defer { server.stop() }
        let ok = try Driftwood.run(["check", "--connect", Self.esPipeline(server.url, in: dir)], directory: dir)
        #expect(ok.code == 0, "\(ok.stderr)")
        #expect(ok.stdout.contains("es: reachable: \(server.url): ok (OpenSearch "), "\(ok.stdout)")
        // Without --connect nothing is tried.
        let offline = try Driftwood.run(["check", Self.esPipeline("http://127.0.0.1:\(FirstHour.closedPort())", in: dir)], directory: dir)
        #expect(offline.code == 0)
    }

    @Test func runWaitsForElasticsearchSayingWhyAndCtrlCExitsPromptly() throws {
        let dir = try Driftwood.temporaryDirectory()
        let pipeline = try Self.esPipeline("http://127.0.0.1:\(FirstHour.closedPort())", in: dir)
        let running = try Driftwood.Running(["run", pipeline], directory: dir)
        #expect(running.waitForLog("checking again in 2s"), "the check is repeated with backoff:\n\(running.stderr)")
        let lines = running.stderr.split(separator: "\n").filter { $0.contains("elasticsearch output es cannot be reached") }
        #expect(lines.first?.contains("connection refused") == true, "\(running.stderr)")
        // The pipeline runs meanwhile (its output retrying); Ctrl-C does not wait out the 30s
        // shutdown_timeout for deliveries that cannot happen.
        _ = running.feed(Data("{\"a\":1}\n".utf8), close: false)
        let sent = Date()
        kill(running.pid, SIGINT)
        let code = running.wait(timeout: 20)
        #expect(code == 1, "not everything was delivered:\n\(running.stderr)")
        #expect(Date().timeIntervalSince(sent) < 5, "Ctrl-C while Elasticsearch never answered must exit promptly")
        #expect(running.stderr.contains("stopped while Elasticsearch could not be reached"), "\(running.stderr)")
        #expect(running.stderr.contains("summary: output es: received 1, delivered 0"), "\(running.stderr)")
    }

    @Test func runStartsOnceElasticsearchAnswers() throws {
        let server = try Osmem.start()
        defer { server.stop() }
        let dir = try Driftwood.temporaryDirectory()
        let result = try Driftwood.run(
            ["run", Self.esPipeline(server.url, in: dir)], stdin: Data(#"{"a":1}"#.utf8 + [10]), directory: dir,
            timeout: 60)
        #expect(result.code == 0, "\(result.stderr)")
        #expect(result.stderr.contains("elasticsearch reachable"), "\(result.stderr)")
        #expect(result.stderr.contains("summary: output es: received 1, delivered 1"), "\(result.stderr)")
    }

    @Test func testAcceptsAFileWithOnlyFiltersAndExplainsTheRoutes() throws {
        let dir = try Driftwood.temporaryDirectory()
        let filtersOnly = try Driftwood.write(
            """
            filters:
              - {type: parse, format: json, remove_source: true}
              - {type: mutate, remove: [secret]}
            """, to: "f.yml", in: dir)
        let result = try Driftwood.run(["test", filtersOnly], stdin: Data(#"{"a":1,"secret":2}"#.utf8 + [10]), directory: dir)
        #expect(result.code == 0, "\(result.stderr)")
        #expect(result.stdout.contains(#""a":1"#) && !result.stdout.contains("secret"), "\(result.stdout)")
        let unrouted = try Driftwood.run(["test", "--explain", filtersOnly], stdin: Data("{}\n".utf8), directory: dir)
        #expect(unrouted.stderr.contains("event 1 -> no output"), "\(unrouted.stderr)")

        let lines = #"{"ts":"2026-11-24T10:00:00Z","model":"m","level":"INFO"}"# + "\nnot json\n"
            + #"{"ts":"2026-11-24T10:00:01Z","model":"m","level":"ERROR"}"# + "\n"
        let demo = try Driftwood.run(
            ["test", "--explain", FirstHour.pipeline("demo.yml")], stdin: Data(lines.utf8), directory: dir,
            environment: FirstHour.environment())
        #expect(demo.code == 0, "\(demo.stderr)")
        #expect(demo.stderr.contains("event 1 -> jsonl_0\n"), "\(demo.stderr)")
        // jsonl_2 is the demo's problems.jsonl (jsonl_1 takes the ground-truth lines).
        #expect(demo.stderr.contains("event 2 -> jsonl_2\n"), "a line that did not parse goes to problems only:\n\(demo.stderr)")
        #expect(demo.stderr.contains("event 3 -> jsonl_0, jsonl_2\n"), "\(demo.stderr)")
    }

    @Test func baselinePrintsItsFeaturesLeavesOutIdentifiersAndLevelsAndChoosesTypesAlike() throws {
        let dir = try Driftwood.temporaryDirectory()
        let auto = try Driftwood.run(
            ["baseline", "--input", FirstHour.home + "/samples/model_logs.jsonl", "--output", dir.path + "/b.json"], directory: dir)
        #expect(auto.code == 0, "\(auto.stderr)")
        for kept in ["features.amount: numeric", "features.country: categorical", "prediction: numeric"] {
            #expect(auto.stderr.contains("baseline: feature \(kept)"), "\(auto.stderr)")
        }
        for left in ["level", "model", "request_id", "error"] {
            #expect(!auto.stderr.contains("baseline: feature \(left):"), "\(left) is not a model feature:\n\(auto.stderr)")
            #expect(auto.stderr.contains("left out \(left)"), "\(auto.stderr)")
        }
        // A status code with three values is categorical with and without --features.
        let lines = (0..<300).map { #"{"status":\#([200, 404, 500][$0 % 3]),"x":\#(Double($0) / 3)}"# }.joined(separator: "\n") + "\n"
        let input = try Driftwood.write(lines, to: "in.jsonl", in: dir)
        let named = try Driftwood.run(["baseline", "--input", input, "--features", "status,x", "--output", dir.path + "/n.json"], directory: dir)
        let every = try Driftwood.run(["baseline", "--input", input, "--output", dir.path + "/e.json"], directory: dir)
        for result in [named, every] {
            #expect(result.stderr.contains("baseline: feature status: categorical"), "\(result.stderr)")
            #expect(result.stderr.contains("baseline: feature x: numeric"), "\(result.stderr)")
        }
    }

    @Test func runHelpNamesExitCodesTheVariablesAndThatTailPipelinesNeverEnd() throws {
        let help = try Driftwood.run(["run", "--help"], directory: Driftwood.packageRoot)
        let text = help.stdout.replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "  ", with: " ")
        #expect(text.contains("Exit codes: 0"), "\(help.stdout)")
        #expect(text.contains("never ends by itself"))
        #expect(text.contains("--once"))
        var variables = Set<String>()
        for name in StackFiles.pipelineNames {
            let source = try StackFiles.text("pipelines/\(name)")
            var rest = source[...]
            while let r = rest.range(of: "${") {
                variables.insert(String(rest[r.upperBound...].prefix { $0 == "_" || $0.isLetter || $0.isNumber }))
                rest = rest[r.upperBound...]
            }
        }
        #expect(variables.contains("DRIFTWOOD_HOME") && variables.contains("TIME_FIELD"))
        for variable in variables {
            #expect(help.stdout.contains(variable), "run --help does not name \(variable), which a ready pipeline reads")
        }
        let parse = try String(contentsOf: Driftwood.packageRoot.appendingPathComponent("docs/stages/parse.md"), encoding: .utf8)
        #expect(parse.contains("is taken as UTC"))
    }
}
