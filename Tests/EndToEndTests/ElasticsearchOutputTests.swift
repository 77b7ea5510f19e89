import Foundation
import Testing

/// The elasticsearch output through the real binary, against osmem-server (an in-memory
/// OpenSearch-compatible server) and, for what osmem-server never does, the fault proxy in front
/// of it. Serialized: each test starts its own servers, and osmem-server indexes only a few
/// thousand documents a second on a small machine.
@Suite(.serialized) struct ElasticsearchOutputTests {
    /// `n` model-log lines; line `i` carries `"n": i`, alternating between two days.
    static func lines(_ n: Int, from start: Int = 0, bad: (Int) -> Bool = { _ in false }) -> Data {
        var text = ""
        for i in start..<(start + n) {
            let day = i % 2 == 0 ? "24" : "25"
            let latency = bad(i) ? #""slow""# : "\(Double(i % 50) / 2)"
            text +=
                #"{"ts":"2026-11-\#(day)T10:00:00.\#(String(format: "%03d", i % 1000))Z","level":"INFO","model":"fraud-detector","n":\#(i),"request_id":"req-\#(i)","latency_ms":\#(latency),"msg":"prediction"}"#
                + "\n"
        }
        return Data(text.utf8)
    }

    /// A stdin → parse (with the log's time) → elasticsearch pipeline; `output` holds more keys.
    static func pipeline(hosts: [String], _ output: String = "", filters: String = "") -> String {
        let extra = output.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n")
        return """
            inputs: [{type: stdin}]
            filters:
              - {type: parse, format: json, remove_source: true, timestamp: {field: ts}}
            \(filters)
            outputs:
              - type: elasticsearch
                id: es
                hosts: [\(hosts.map { "\"\($0)\"" }.joined(separator: ", "))]
            \(extra)
            shutdown_timeout: 20s
            """
    }

    /// The `n` values of the documents in `index`, sorted.
    static func numbers(_ server: LocalServer, _ index: String) throws -> [Int] {
        try server.documents(index).compactMap { $0["n"] as? Int }.sorted()
    }

    static let fast = "retry: {initial_backoff: 20ms, max_backoff: 300ms}"

    @Test func shipsEveryEventOnceIntoDailyIndicesAndAResendMakesNoDuplicates() throws {
        let osmem = try Osmem.start()
        defer { osmem.stop() }
        let dir = try Driftwood.temporaryDirectory()
        let p = try Driftwood.write(
            Self.pipeline(
                hosts: [osmem.url], "index: \"model-logs-%{+yyyy.MM.dd}\"\nbatch: {max_events: 150}\n\(Self.fast)"),
            to: "p.yml", in: dir)
        let input = Self.lines(600)
        let first = try Driftwood.run(["run", p], stdin: input, directory: dir, timeout: 120)
        #expect(first.code == 0, "\(first.stderr)")
        #expect(try osmem.count("model-logs-2026.11.24") == 300)
        #expect(try osmem.count("model-logs-2026.11.25") == 300)
        // The same data again (a restart after a crash): fingerprint ids, 409s, no new documents.
        let second = try Driftwood.run(["run", p], stdin: input, directory: dir, timeout: 120)
        #expect(second.code == 0, "\(second.stderr)")
        #expect(try Self.numbers(osmem, "model-logs-*") == Array(0..<600))
        let docs = try osmem.documents("model-logs-2026.11.24")
        #expect(docs.allSatisfy { ($0["_id"] as? String)?.count == 32 })
        #expect(docs.allSatisfy { ($0["@timestamp"] as? String)?.hasPrefix("2026-11-24T10:00:00.") == true })
        #expect(!second.stderr.contains("dead-letter"))
        #expect(second.stderr.contains("summary: output es: received 600, delivered 600 (already present 600, dead letters 0)"), "\(second.stderr)")
    }

    @Test func installsTheTemplateFirstAndDeadLettersRejectedDocumentsThenReplaysThem() throws {
        let osmem = try Osmem.start()
        defer { osmem.stop() }
        let proxy = try FaultProxy.start(upstream: osmem)
        defer { proxy.stop() }
        let dir = try Driftwood.temporaryDirectory()
        let template = Driftwood.packageRoot.appendingPathComponent("templates/model-logs.json").path
        let p = try Driftwood.write(
            Self.pipeline(
                hosts: [proxy.url],
                """
                index: "model-logs-%{+yyyy.MM.dd}"
                template: {name: model-logs, file: "\(template)"}
                batch: {max_events: 100}
                \(Self.fast)
                """), to: "p.yml", in: dir)
        // Every 10th line has a latency the template maps as a number: 400 mapper_parsing_exception.
        let result = try Driftwood.run(
            ["run", p, "--data-dir", "state"], stdin: Self.lines(300, bad: { $0 % 10 == 3 }), directory: dir,
            timeout: 120)
        #expect(result.code == 0, "\(result.stderr)")
        // The health check's GET / aside, the template goes first.
        let requests = try proxy.recorded().filter { !($0["method"] as? String == "GET" && $0["path"] as? String == "/") }
        #expect(requests.first?["method"] as? String == "PUT")
        #expect(requests.first?["path"] as? String == "/_index_template/model-logs")
        #expect(try osmem.get("/_index_template/model-logs")["index_templates"] != nil)
        let mapping = try osmem.get("/model-logs-2026.11.24/_mapping")
        #expect("\(mapping)".contains("latency_ms") && "\(mapping)".contains("keyword"))
        #expect(try osmem.count("model-logs-*") == 270)

        let deadLetters = try Driftwood.jsonLines(dir.appendingPathComponent("state/dead_letter/es.jsonl").path)
        #expect(deadLetters.count == 30)
        var rejected: [Int] = []
        for line in deadLetters {
            let error = line["error"] as? [String: Any]
            #expect(error?["type"] as? String == "mapper_parsing_exception")
            #expect((error?["reason"] as? String)?.contains("latency_ms") == true)
            let http = (line["http"] as? [String: Any])?["response"] as? [String: Any]
            #expect(http?["status_code"] as? Int == 400)
            #expect((line["@timestamp"] as? String)?.count == 24)
            #expect((line["elasticsearch"] as? [String: Any])?["action"] as? String == "create")
            let original = (line["event"] as? [String: Any])?["original"] as? String ?? ""
            let event = try JSONSerialization.jsonObject(with: Data(original.utf8)) as! [String: Any]
            #expect(event["latency_ms"] as? String == "slow")
            rejected.append(event["n"] as! Int)
        }
        #expect(rejected.sorted() == Array(stride(from: 3, to: 300, by: 10)))

        // Replay, as the README shows: unwrap the original event, fix it, ship it again.
        let replay = try Driftwood.write(
            """
            inputs: [{type: stdin}]
            filters:
              - {type: parse, format: json, target: dead_letter, remove_source: true}
              - {type: parse, format: json, field: dead_letter.event.original}
              - {type: mutate, remove: [dead_letter, latency_ms]}
            outputs:
              - type: elasticsearch
                hosts: ["\(osmem.url)"]
                index: "model-logs-%{+yyyy.MM.dd}"
            """, to: "replay.yml", in: dir)
        let dlq = try Data(contentsOf: dir.appendingPathComponent("state/dead_letter/es.jsonl"))
        let replayed = try Driftwood.run(["run", replay], stdin: dlq, directory: dir, timeout: 120)
        #expect(replayed.code == 0, "\(replayed.stderr)")
        #expect(try Self.numbers(osmem, "model-logs-*") == Array(0..<300))
        let fixed = try osmem.documents("model-logs-*").first { $0["n"] as? Int == 3 }
        #expect(fixed?["@timestamp"] as? String == "2026-11-25T10:00:00.003Z")  // the original time, not the replay's
        #expect(fixed?["dead_letter"] == nil && fixed?["latency_ms"] == nil)
    }

    @Test func retriesThrough503429DroppedConnectionsAndItemLevel429s() throws {
        let osmem = try Osmem.start()
        defer { osmem.stop() }
        let proxy = try FaultProxy.start(upstream: osmem)
        defer { proxy.stop() }
        try proxy.inject([
            ["kind": "status", "status": 503, "times": 2],
            ["kind": "status", "status": 429, "times": 1],
            ["kind": "drop", "times": 1],
            ["kind": "items", "status": 429, "every": 3, "times": 2],
            ["kind": "items", "status": 503, "every": 5, "times": 1],
        ])
        let dir = try Driftwood.temporaryDirectory()
        let p = try Driftwood.write(
            Self.pipeline(hosts: [proxy.url], "index: faults\nbatch: {max_events: 100}\nconcurrency: 1\n\(Self.fast)"),
            to: "p.yml", in: dir)
        let result = try Driftwood.run(["run", p], stdin: Self.lines(400), directory: dir, timeout: 120)
        #expect(result.code == 0, "\(result.stderr)")
        #expect(try Self.numbers(osmem, "faults") == Array(0..<400))
        let statuses = try proxy.bulkRequests().map { "\($0["status"] ?? "")" }
        #expect(statuses.prefix(4) == ["503", "503", "429", "dropped"])
        #expect(result.stderr.contains("bulk request failed; retrying"))
        #expect(result.stderr.contains("Elasticsearch did not take every document; retrying those"))
        #expect(!result.stderr.contains("dead-letter"))
        // Only the items answered 429/503 went again, not their whole requests.
        let sent = try proxy.bulkRequests().filter { "\($0["status"] ?? "")" == "200" }
            .reduce(0) { $0 + (($1["lines"] as? [Any])?.count ?? 0) / 2 }
        #expect(sent > 400 && sent <= 400 + 34 + 34 + 20)
    }

    @Test func aSlowAnswerTimesOutAndTheResendIsIdempotent() throws {
        let osmem = try Osmem.start()
        defer { osmem.stop() }
        let proxy = try FaultProxy.start(upstream: osmem)
        defer { proxy.stop() }
        // The first request is held 3 s before it reaches the server, past the 1 s request
        // time limit: driftwood gives up on it and sends it again, the server then gets it twice.
        try proxy.inject([["kind": "delay", "seconds": 3, "times": 1]])
        let dir = try Driftwood.temporaryDirectory()
        let p = try Driftwood.write(
            Self.pipeline(
                hosts: [proxy.url],
                "index: slow\nbatch: {max_events: 500}\ntimeouts: {request: 1s}\nconcurrency: 1\n\(Self.fast)"),
            to: "p.yml", in: dir)
        let result = try Driftwood.run(["run", p], stdin: Self.lines(200), directory: dir, timeout: 120)
        #expect(result.code == 0, "\(result.stderr)")
        #expect(result.stderr.contains("timeout"))
        Thread.sleep(forTimeInterval: 3)  // let the held request land too
        #expect(try Self.numbers(osmem, "slow") == Array(0..<200))
    }

    @Test func basicAuthIsSentEveryTimeAndRefusalsAreLoggedWithoutThePassword() throws {
        let proxy = try FaultProxy.start(upstream: nil)
        defer { proxy.stop() }
        try proxy.inject([["kind": "require_auth", "status": 401, "times": 2]])
        let dir = try Driftwood.temporaryDirectory()
        let p = try Driftwood.write(
            Self.pipeline(
                hosts: [proxy.url],
                """
                index: auth
                auth: {username: elastic, password: "${ES_PASSWORD}"}
                retry: {initial_backoff: 20ms, max_backoff: 200ms}
                """), to: "p.yml", in: dir)
        let result = try Driftwood.run(
            ["run", p], stdin: Self.lines(50), directory: dir, timeout: 60, environment: ["ES_PASSWORD": "hunter2-secret"])
        #expect(result.code == 0, "\(result.stderr)")
        let requests = try proxy.bulkRequests()
        #expect(requests.count == 3)
        let expected = "Basic " + Data("elastic:hunter2-secret".utf8).base64EncodedString()
        #expect(requests.allSatisfy { ($0["headers"] as? [String: String])?["Authorization"] == expected })
        // Logged as an error on every refused attempt, never with the secret.
        #expect(result.stderr.components(separatedBy: "Elasticsearch refused the request").count - 1 == 2)
        #expect(result.stderr.contains("security_exception"))
        #expect(!result.stderr.contains("hunter2"))
        #expect(!result.stderr.contains(Data("elastic:hunter2-secret".utf8).base64EncodedString()))
    }

    @Test func apiKeysAndDataStreamsHaveTheRightRequestShape() throws {
        let osmem = try Osmem.start()
        defer { osmem.stop() }
        let proxy = try FaultProxy.start(upstream: osmem)
        defer { proxy.stop() }
        let dir = try Driftwood.temporaryDirectory()
        let p = try Driftwood.write(
            Self.pipeline(
                hosts: [proxy.url],
                """
                data_stream: {type: logs, dataset: model, namespace: test}
                auth: {api_key: "key-id:key-secret"}
                compression: none
                """), to: "p.yml", in: dir)
        let result = try Driftwood.run(["run", p], stdin: Self.lines(40), directory: dir, timeout: 60)
        #expect(result.code == 0, "\(result.stderr)")
        let requests = try proxy.bulkRequests()
        #expect(!requests.isEmpty)
        let key = Data("key-id:key-secret".utf8).base64EncodedString()
        for request in requests {
            #expect((request["path"] as? String)?.hasPrefix("/logs-model-test/_bulk?") == true)
            let headers = request["headers"] as? [String: String] ?? [:]
            #expect(headers["Authorization"] == "ApiKey \(key)")
            #expect(headers["Content-Type"] == "application/x-ndjson")
            #expect(headers["Content-Encoding"] == nil)
            let lines = request["lines"] as? [String] ?? []
            for action in stride(from: 0, to: lines.count, by: 2).map({ lines[$0] }) {
                let object = try JSONSerialization.jsonObject(with: Data(action.utf8)) as! [String: Any]
                #expect(object.keys.sorted() == ["create"])
                let create = object["create"] as! [String: Any]
                #expect(create.keys.sorted() == ["_id"])  // the data stream is in the path
                #expect((create["_id"] as? String)?.count == 32)
            }
        }
        // osmem-server has no data streams: without a data-stream template the name is a plain index.
        #expect(try osmem.count("logs-model-test") == 40)
    }

    @Test func gzipBodiesAreSentAsGzip() throws {
        let proxy = try FaultProxy.start(upstream: nil)
        defer { proxy.stop() }
        let dir = try Driftwood.temporaryDirectory()
        let p = try Driftwood.write(
            Self.pipeline(hosts: [proxy.url], "index: gz\nbatch: {max_events: 5000}"), to: "p.yml", in: dir)
        let result = try Driftwood.run(["run", p], stdin: Self.lines(3000), directory: dir, timeout: 60)
        #expect(result.code == 0, "\(result.stderr)")
        let requests = try proxy.bulkRequests()
        #expect(requests.allSatisfy { ($0["headers"] as? [String: String])?["Content-Encoding"] == "gzip" })
        #expect(requests.reduce(0) { $0 + (($1["lines"] as? [Any])?.count ?? 0) } == 6000)
        #expect(requests.allSatisfy { ($0["path"] as? String)?.hasPrefix("/gz/_bulk?filter_path=") == true })
    }

    @Test func requestsOver413AreSplitUntilTheyFit() throws {
        let osmem = try Osmem.start()
        defer { osmem.stop() }
        let proxy = try FaultProxy.start(upstream: osmem)
        defer { proxy.stop() }
        try proxy.inject([["kind": "max_items", "limit": 40, "times": 1000]])
        let dir = try Driftwood.temporaryDirectory()
        let p = try Driftwood.write(
            Self.pipeline(hosts: [proxy.url], "index: split\nbatch: {max_events: 200}\n\(Self.fast)"), to: "p.yml",
            in: dir)
        let result = try Driftwood.run(["run", p], stdin: Self.lines(300), directory: dir, timeout: 120)
        #expect(result.code == 0, "\(result.stderr)")
        #expect(try Self.numbers(osmem, "split") == Array(0..<300))
        let requests = try proxy.bulkRequests()
        #expect(requests.contains { "\($0["status"] ?? "")" == "413" })
        #expect(requests.filter { "\($0["status"] ?? "")" == "200" }.allSatisfy { ($0["lines"] as! [Any]).count <= 80 })
        #expect(result.stderr.contains("sending it again in two halves"))
    }

    @Test func aDeadHostSitsOutWhileTheOtherCarriesTheLoad() throws {
        let osmem = try Osmem.start()
        defer { osmem.stop() }
        let dead = "http://127.0.0.1:\(try Self.closedPort())"
        let dir = try Driftwood.temporaryDirectory()
        let p = try Driftwood.write(
            Self.pipeline(hosts: [dead, osmem.url], "index: two\nbatch: {max_events: 50}\n\(Self.fast)"), to: "p.yml",
            in: dir)
        let result = try Driftwood.run(["run", p], stdin: Self.lines(400), directory: dir, timeout: 120)
        #expect(result.code == 0, "\(result.stderr)")
        #expect(try Self.numbers(osmem, "two") == Array(0..<400))
        #expect(result.stderr.contains("host sits out"))
        #expect(result.stderr.contains(dead))
    }

    @Test func maxAttemptsSendsWhatCannotBeDeliveredToTheDeadLetterFile() throws {
        let proxy = try FaultProxy.start(upstream: nil)
        defer { proxy.stop() }
        try proxy.down(status: 503)
        let dir = try Driftwood.temporaryDirectory()
        let p = try Driftwood.write(
            Self.pipeline(
                hosts: [proxy.url],
                "index: gone\nretry: {initial_backoff: 10ms, max_backoff: 50ms, max_attempts: 3}\ndead_letter: {path: dlq/gone.jsonl}"),
            to: "p.yml", in: dir)
        let result = try Driftwood.run(["run", p], stdin: Self.lines(25), directory: dir, timeout: 60)
        #expect(result.code == 0, "\(result.stderr)")
        let lines = try Driftwood.jsonLines(dir.appendingPathComponent("dlq/gone.jsonl").path)
        #expect(lines.count == 25)
        #expect(lines.allSatisfy { (($0["error"] as? [String: Any])?["reason"] as? String)?.hasPrefix("gave up after 3 attempts") == true })
        #expect(try proxy.bulkRequests().count == 3)
    }

    @Test func killMinus9MidShippingThenRestartLeavesEveryEventExactlyOnce() throws {
        let osmem = try Osmem.start()
        defer { osmem.stop() }
        let dir = try Driftwood.temporaryDirectory()
        let p = try Driftwood.write(
            Self.pipeline(hosts: [osmem.url], "index: crash\nbatch: {max_events: 50}\nconcurrency: 1\n\(Self.fast)"),
            to: "p.yml", in: dir)
        let total = 3000
        let input = Self.lines(total)
        let running = try Driftwood.Running(["run", p], directory: dir)
        _ = running.feed(input, close: false)
        let deadline = Date().addingTimeInterval(60)
        var landed = 0
        while landed < 200 && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.1)
            landed = (try? osmem.count("crash")) ?? 0
        }
        kill(running.pid, SIGKILL)
        running.wait(timeout: 10)
        let before = try osmem.count("crash")
        #expect(before > 0 && before < total, "killed at \(before) of \(total)")
        // Piping the same data again: what landed is recognised (409), the rest is sent.
        let again = try Driftwood.run(["run", p], stdin: input, directory: dir, timeout: 300)
        #expect(again.code == 0, "\(again.stderr)")
        #expect(try osmem.count("crash") == total)
        #expect(try Self.numbers(osmem, "crash") == Array(0..<total))
    }

    @Test func sigtermDrainsWhatWasReadIntoTheServerAndExitsZero() throws {
        let osmem = try Osmem.start()
        defer { osmem.stop() }
        let dir = try Driftwood.temporaryDirectory()
        let p = try Driftwood.write(
            Self.pipeline(hosts: [osmem.url], "index: drain\nbatch: {max_events: 100, timeout: 5s}\nconcurrency: 1"),
            to: "p.yml", in: dir)
        let running = try Driftwood.Running(["run", p], directory: dir)
        let input = Self.lines(500)
        let progress = running.feed(input, close: false)
        let deadline = Date().addingTimeInterval(20)
        while progress.written < input.count && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        Thread.sleep(forTimeInterval: 0.5)  // read, but mostly not yet delivered (stdin is still open)
        kill(running.pid, SIGTERM)
        let code = running.wait(timeout: 30)
        #expect(code == 0, "\(running.stderr)")
        #expect(try Self.numbers(osmem, "drain") == Array(0..<500))
    }

    @Test func memoryStaysFlatWhileElasticsearchIsDownAndShippingResumes() throws {
        // A null Elasticsearch (the proxy answers every item itself): this test is about volume.
        let proxy = try FaultProxy.start(upstream: nil, keepLines: false)
        defer { proxy.stop() }
        try proxy.down(status: 503)
        let dir = try Driftwood.temporaryDirectory()
        let p = try Driftwood.write(
            Self.pipeline(hosts: [proxy.url], "index: backlog\nretry: {initial_backoff: 50ms, max_backoff: 500ms}"),
            to: "p.yml", in: dir)
        let total = 300_000
        let input = Self.lines(total)  // ~60 MiB
        let running = try Driftwood.Running(["run", p], directory: dir)
        let progress = running.feed(input)
        // Wait until driftwood stops reading: the writer has stalled short of the end.
        var last = -1
        var stalledSince = Date()
        let deadline = Date().addingTimeInterval(90)
        while Date() < deadline {
            Thread.sleep(forTimeInterval: 0.25)
            let now = progress.written
            if now != last {
                last = now
                stalledSince = Date()
            } else if Date().timeIntervalSince(stalledSince) > 3 {
                break
            }
        }
        #expect(!progress.finished, "driftwood read all \(input.count) bytes while the server was down")
        #expect(progress.written < input.count / 2)
        let rss = running.peakRSS
        #expect(rss > 0 && rss < 150 << 20, "peak RSS \(rss >> 20) MiB")
        try proxy.up()
        var peak = rss
        let end = Date().addingTimeInterval(240)
        while running.process.isRunning && Date() < end {
            peak = max(peak, running.peakRSS)
            Thread.sleep(forTimeInterval: 0.1)
        }
        let code = running.wait(timeout: 1)
        #expect(code == 0, "\(running.stderr)")
        let delivered = try proxy.bulkRequests().filter { "\($0["status"] ?? "")" == "200" }
            .reduce(0) { $0 + ($1["line_count"] as? Int ?? 0) / 2 }
        #expect(delivered == total)
        #expect(peak < 150 << 20, "peak RSS \(peak >> 20) MiB")
    }

    @Test func httpsWithACAFileOrWithoutVerification() throws {
        let osmem = try Osmem.start()
        defer { osmem.stop() }
        let proxy = try FaultProxy.start(upstream: osmem, tls: true)
        defer { proxy.stop() }
        #expect(proxy.url.hasPrefix("https://127.0.0.1:"))
        let dir = try Driftwood.temporaryDirectory()
        let ca = "\(FaultProxy.tlsDirectory)/ca.pem"
        let trusted = try Driftwood.write(
            Self.pipeline(hosts: [proxy.url], "index: tls-ca\ntls: {ca_file: \"\(ca)\"}"), to: "ca.yml", in: dir)
        let first = try Driftwood.run(["run", trusted], stdin: Self.lines(100), directory: dir, timeout: 60)
        #expect(first.code == 0, "\(first.stderr)")
        #expect(try osmem.count("tls-ca") == 100)
        let unverified = try Driftwood.write(
            Self.pipeline(hosts: [proxy.url], "index: tls-noverify\ntls: {verify: false}"), to: "nv.yml", in: dir)
        let second = try Driftwood.run(["run", unverified], stdin: Self.lines(100), directory: dir, timeout: 60)
        #expect(second.code == 0, "\(second.stderr)")
        #expect(try osmem.count("tls-noverify") == 100)
    }

    @Test func anUntrustedCertificateIsAnErrorOnEveryAttempt() throws {
        let proxy = try FaultProxy.start(upstream: nil, tls: true)
        defer { proxy.stop() }
        let dir = try Driftwood.temporaryDirectory()
        let p = try Driftwood.write(
            Self.pipeline(
                hosts: [proxy.url],
                "index: tls\nretry: {initial_backoff: 10ms, max_backoff: 100ms, max_attempts: 2}\ndead_letter: {path: dlq.jsonl}"),
            to: "p.yml", in: dir)
        let result = try Driftwood.run(["run", p], stdin: Self.lines(10), directory: dir, timeout: 60)
        #expect(result.code == 0, "\(result.stderr)")
        #expect(result.stderr.contains("error") && result.stderr.contains("tls_error"))
        let lines = try Driftwood.jsonLines(dir.appendingPathComponent("dlq.jsonl").path)
        #expect(lines.count == 10)
        #expect(lines.allSatisfy { ($0["error"] as? [String: Any])?["type"] as? String == "tls_error" })
    }

    /// pipelines/model-logs-to-es.yml, its file input swapped for stdin (the filters, the output
    /// and the template as shipped), takes the sample logs and their alerts.
    @Test func theShippedPipelineAndTemplateTakeTheSampleLogs() throws {
        let osmem = try Osmem.start()
        defer { osmem.stop() }
        let root = Driftwood.packageRoot
        let dir = try Driftwood.temporaryDirectory()
        let shipped = try StackFiles.text("pipelines/model-logs-to-es.yml")
        let pipeline = try Driftwood.write(
            StackFiles.replacingInputs(of: shipped, with: "  - type: stdin"), to: "model-logs-stdin.yml", in: dir)
        let check = try Driftwood.run(["check", pipeline], directory: root)
        #expect(check.code == 0 && check.stdout == "ok: 1 inputs, 6 filters, 3 outputs\n", "\(check.stderr)")
        let samples = try Data(contentsOf: root.appendingPathComponent("samples/model_logs.jsonl"))
        let result = try Driftwood.run(
            ["run", pipeline, "--data-dir", dir.appendingPathComponent("data").path],
            stdin: samples, directory: root, timeout: 240,
            environment: ["ES_URL": osmem.url, "DRIFTWOOD_METRICS_ADDRESS": "127.0.0.1:0"])
        #expect(result.code == 0, "\(result.stderr)")
        // Broken lines too (they become events tagged _parse_failure); blank lines make none.
        let lines = samples.split(separator: 0x0A).count
        let documents = try osmem.documents("model-logs-*")
        let alerts = documents.filter { ($0["event"] as? [String: Any])?["kind"] as? String == "alert" }
        #expect(!alerts.isEmpty, "the samples' drift episode and error burst raise alerts")
        #expect(documents.count == lines + alerts.count)
        // The ground-truth lines that completed a pair carry the evaluation.
        #expect(documents.contains { ($0["evaluation"] as? [String: Any])?["correct"] is Bool })
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("data/dead_letter/es.jsonl").path))
        let mapping = "\(try osmem.get("/model-logs-*/_mapping"))"
        #expect(mapping.contains("model_version") && mapping.contains("latency_ms"))
        // The score and model-health reports, in their own indices with their own template.
        let reports = try osmem.documents("model-metrics-*")
        #expect(reports.count > 10)
        #expect(reports.allSatisfy { ($0["event"] as? [String: Any])?["kind"] as? String == "metric" })
        #expect(reports.contains { ($0["drift"] as? [String: Any])?["max"] is Double })
        #expect(reports.contains { ($0["monitor"] as? [String: Any])?["error_rate"] is Double })
        // (evaluate reports after 1000 pairs; the samples hold fewer labels, so none here: the
        // evaluate tests check its reports.)
        #expect(!documents.contains { ($0["event"] as? [String: Any])?["kind"] as? String == "metric" })
    }

    @Test func checkReportsElasticsearchMistakesWithHints() throws {
        let dir = try Driftwood.temporaryDirectory()
        let p = try Driftwood.write(
            """
            inputs: [{type: stdin}]
            outputs:
              - type: elasticsearch
                hots: ["http://127.0.0.1:9200"]
                index: Model-Logs
                batch: {max_bytes: lots}
                auth: {username: elastic, password: hunter2, api_key: abc}
            """, to: "p.yml", in: dir)
        let result = try Driftwood.run(["check", p], directory: dir)
        #expect(result.code == 2)
        for e in [
            "p.yml:4:5: outputs[0] (elasticsearch): unknown key 'hots' (did you mean 'hosts'?)",
            "p.yml:5:12: outputs[0].index (elasticsearch): index names must be lowercase",
            "p.yml:6:24: outputs[0].batch.max_bytes (elasticsearch): expected a size",
            "outputs[0].auth (elasticsearch): give either username and password, or api_key, not both",
        ] {
            #expect(result.stderr.contains(e), "missing: \(e)\n\(result.stderr)")
        }
        #expect(!result.stderr.contains("hunter2"))
    }

    /// A port on 127.0.0.1 with nothing listening (bound, then closed).
    static func closedPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        close(fd)
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
