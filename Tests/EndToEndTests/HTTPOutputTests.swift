import Foundation
import Testing

/// The `http` output through the real binary, against `Tests/Fixtures/http/receiver.py`, which
/// answers as told (200, 429, 503, 400, 413, a hang, a reset, garbage, a cut-short 200) and
/// records every request.
@Suite(.serialized) struct HTTPOutputTests {
    static let script = Driftwood.packageRoot.appendingPathComponent("Tests/Fixtures/http/receiver.py").path

    static func receiver() throws -> LocalServer {
        try LocalServer(
            name: "http-receiver", executable: "/usr/bin/env", arguments: ["python3", script], keepStdinOpen: true)
    }

    /// `n` JSON lines `{"n": i, …}`.
    static func lines(_ n: Int, from start: Int = 0) -> Data {
        Data((start..<(start + n)).map { #"{"n":\#($0),"model":"fraud","msg":"prediction"}"# + "\n" }.joined().utf8)
    }

    static func pipeline(_ url: String, _ output: String = "") -> String {
        let extra = output.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n")
        return """
            inputs: [{type: stdin}]
            filters: [{type: parse, format: json, remove_source: true}]
            outputs:
              - type: http
                id: hook
                url: "\(url)/ingest"
            \(extra)
            shutdown_timeout: 20s
            """
    }

    static let fast = "retry: {initial_backoff: 20ms, max_backoff: 200ms}"

    static func requests(_ receiver: LocalServer) throws -> [[String: Any]] {
        let (_, body) = try receiver.request("GET", "/_receiver/requests")
        return try JSONSerialization.jsonObject(with: body) as! [[String: Any]]
    }

    /// The `n` of every event in requests answered 2xx, in the order received.
    static func accepted(_ requests: [[String: Any]]) -> [[Int]] {
        requests.filter { ($0["status"] as? Int).map { (200..<300).contains($0) } ?? false }
            .map { ($0["events"] as? [[String: Any]] ?? []).compactMap { $0["n"] as? Int } }
    }

    static func run(_ p: String, _ input: Data, in dir: URL, environment: [String: String] = [:]) throws -> Driftwood.Result {
        try Driftwood.run(["run", p], stdin: input, directory: dir, environment: environment)
    }

    /// A request that is not full goes out once the stream pauses (`batch.idle`), not only
    /// after `batch.timeout`: here a file is read to its end and then nothing more comes, with
    /// a timeout of a minute. With `idle` as long as the timeout, the same events wait.
    @Test(arguments: [("100ms", true), ("60s", false)])
    func aPausedStreamIsSentAfterIdleNotTimeout(idle: String, sentEarly: Bool) throws {
        let receiver = try Self.receiver()
        defer { receiver.stop() }
        let dir = try Driftwood.temporaryDirectory()
        try Self.lines(30).write(to: dir.appendingPathComponent("app.log"))
        let p = try Driftwood.write(
            """
            data_dir: data
            inputs: [{type: file, paths: [\(dir.path)/app.log], start_at: beginning}]
            filters: [{type: parse, format: json, remove_source: true}]
            outputs:
              - type: http
                url: "\(receiver.url)/ingest"
                batch: {max_events: 1000, timeout: 60s, idle: \(idle)}
            """, to: "p.yml", in: dir)
        let running = try Driftwood.Running(["run", p], directory: dir)
        let started = Date()
        let arrived = MetricsScrape.eventually(timeout: 3) { Self.accepted((try? Self.requests(receiver)) ?? []).joined().count == 30 }
        #expect(arrived == sentEarly, "after \(Date().timeIntervalSince(started)) s: \((try? Self.requests(receiver)) ?? [])")
        kill(running.pid, SIGTERM)
        #expect(running.wait(timeout: 30) == 0, "\(running.stderr)")
        // At stop every event goes out either way, once.
        #expect(Self.accepted(try Self.requests(receiver)).joined().sorted() == Array(0..<30))
    }

    @Test func shipsNDJSONWithGzipHeadersAndBearerOnceEachInOrder() throws {
        let receiver = try Self.receiver()
        defer { receiver.stop() }
        let dir = try Driftwood.temporaryDirectory()
        let p = try Driftwood.write(
            Self.pipeline(
                receiver.url,
                """
                compression: gzip
                headers: {X-Team: ml}
                auth: {bearer: "${HOOK_TOKEN}"}
                batch: {max_events: 100}
                """), to: "p.yml", in: dir)
        let result = try Self.run(p, Self.lines(1000), in: dir, environment: ["HOOK_TOKEN": "tok-s3cret"])
        #expect(result.code == 0, "\(result.stderr)")
        let requests = try Self.requests(receiver)
        let batches = Self.accepted(requests)
        #expect(batches.flatMap { $0 }.sorted() == Array(0..<1000))
        #expect(batches.allSatisfy { $0 == $0.sorted() && $0.count <= 100 })
        for r in requests {
            let headers = r["headers"] as? [String: String] ?? [:]
            #expect(headers["Authorization"] == "Bearer tok-s3cret")
            #expect(headers["X-Team"] == "ml")
            #expect(headers["Content-Encoding"] == "gzip")
            #expect(headers["Content-Type"] == "application/x-ndjson")
            #expect(r["encoding"] as? String == "ndjson" && r["method"] as? String == "POST" && r["path"] as? String == "/ingest")
        }
        #expect(!result.stderr.contains("tok-s3cret"))
    }

    @Test func jsonArrayAndOneObjectARequest() throws {
        let receiver = try Self.receiver()
        defer { receiver.stop() }
        let dir = try Driftwood.temporaryDirectory()
        let array = try Driftwood.write(
            Self.pipeline(receiver.url, "encoding: json_array\nmethod: PUT\nbatch: {max_events: 7}"), to: "a.yml", in: dir)
        #expect(try Self.run(array, Self.lines(20), in: dir).code == 0)
        var requests = try Self.requests(receiver)
        #expect(requests.allSatisfy { $0["encoding"] as? String == "json_array" && $0["method"] as? String == "PUT" })
        #expect(Self.accepted(requests).flatMap { $0 }.sorted() == Array(0..<20))
        #expect(requests.allSatisfy { ($0["headers"] as? [String: String])?["Content-Type"] == "application/json" })
        let single = try Driftwood.write(Self.pipeline(receiver.url, "encoding: json"), to: "j.yml", in: dir)
        #expect(try Self.run(single, Self.lines(5, from: 100), in: dir).code == 0)
        requests = Array(try Self.requests(receiver).dropFirst(requests.count))
        #expect(requests.count == 5 && requests.allSatisfy { $0["encoding"] as? String == "json" })
        #expect(Self.accepted(requests).flatMap { $0 }.sorted() == Array(100..<105))
    }

    @Test func retriesWhatTheStatusSaysWithoutLossOrDuplicates() throws {
        let receiver = try Self.receiver()
        defer { receiver.stop() }
        try receiver.request(
            "POST", "/_receiver/answers",
            json: [["status": 503, "times": 2], ["status": 429], ["status": 408], ["status": 500]])
        let dir = try Driftwood.temporaryDirectory()
        let p = try Driftwood.write(
            Self.pipeline(receiver.url, "batch: {max_events: 50}\nconcurrency: 1\n\(Self.fast)"), to: "p.yml", in: dir)
        let result = try Self.run(p, Self.lines(300), in: dir)
        #expect(result.code == 0, "\(result.stderr)")
        let requests = try Self.requests(receiver)
        #expect(requests.prefix(5).map { "\($0["status"] ?? "")" } == ["503", "503", "429", "408", "500"])
        // Every event accepted exactly once, each batch in order.
        let batches = Self.accepted(requests)
        #expect(batches.flatMap { $0 }.sorted() == Array(0..<300))
        #expect(batches.allSatisfy { $0 == $0.sorted() })
        #expect(result.stderr.contains("request failed; retrying"))
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent(".driftwood/p/dead_letter/hook.jsonl").path))
    }

    @Test func a400IsDeadLetteredBesideTheEventAnd413Splits() throws {
        let receiver = try Self.receiver()
        defer { receiver.stop() }
        try receiver.request(
            "POST", "/_receiver/answers",
            json: [
                ["kind": "max_events", "limit": 10, "times": 100],
                ["status": 400, "body": #"{"error":"field n must be a string"}"#, "times": 1],
            ] as [[String: Any]])
        let dir = try Driftwood.temporaryDirectory()
        let p = try Driftwood.write(
            Self.pipeline(receiver.url, "batch: {max_events: 40}\nconcurrency: 1\n\(Self.fast)"), to: "p.yml", in: dir)
        let result = try Self.run(p, Self.lines(40), in: dir)
        #expect(result.code == 0, "\(result.stderr)")
        let requests = try Self.requests(receiver)
        // 40 → 413 → 20 + 20 → 413 → four of 10: the first of those gets the 400.
        #expect(requests.prefix(3).map { "\($0["status"] ?? "")" } == ["413", "413", "400"])
        let accepted = Self.accepted(requests).flatMap { $0 }
        let dead = try Driftwood.jsonLines(dir.appendingPathComponent(".driftwood/p/dead_letter/hook.jsonl").path)
        #expect(dead.count == 10)
        let deadNumbers = dead.compactMap { line -> Int? in
            let original = (line["event"] as? [String: Any])?["original"] as? String ?? ""
            return (try? JSONSerialization.jsonObject(with: Data(original.utf8)) as? [String: Any])?["n"] as? Int
        }
        #expect(deadNumbers == Array(0..<10))
        #expect((accepted + deadNumbers).sorted() == Array(0..<40))
        let first = dead[0]
        #expect(((first["http"] as? [String: Any])?["response"] as? [String: Any])?["status_code"] as? Int == 400)
        #expect(((first["error"] as? [String: Any])?["reason"] as? String)?.contains("field n must be a string") == true)
        #expect(first["url"] as? String == receiver.url + "/ingest")
        #expect(result.stderr.contains("sending it again in two halves"))
    }

    @Test func hangsResetsGarbageAndUnreadableAnswersAreRetried() throws {
        let receiver = try Self.receiver()
        defer { receiver.stop() }
        try receiver.request(
            "POST", "/_receiver/answers",
            json: [
                ["kind": "hang", "seconds": 3], ["kind": "reset"], ["kind": "garbage"], ["kind": "unreadable"],
            ] as [[String: Any]])
        let dir = try Driftwood.temporaryDirectory()
        let p = try Driftwood.write(
            Self.pipeline(
                receiver.url, "batch: {max_events: 100}\nconcurrency: 1\ntimeouts: {request: 1s}\n\(Self.fast)"),
            to: "p.yml", in: dir)
        let result = try Self.run(p, Self.lines(200), in: dir)
        #expect(result.code == 0, "\(result.stderr)")
        let requests = try Self.requests(receiver)
        #expect(requests.prefix(4).map { "\($0["status"] ?? "")" } == ["hang", "reset", "garbage", "unreadable"])
        let batches = Self.accepted(requests)
        #expect(batches.flatMap { $0 }.sorted() == Array(0..<200))
        #expect(result.stderr.contains("timeout"))
    }

    /// An endpoint that never gives a readable answer: the file's checkpoint stays where it was.
    @Test func anEndpointThatNeverAnswersReadablyAcknowledgesNothing() throws {
        let receiver = try Self.receiver()
        defer { receiver.stop() }
        try receiver.request("POST", "/_receiver/always", json: ["kind": "unreadable"])
        let dir = try Driftwood.temporaryDirectory()
        try FileLogs.append(FileLogs.lines(0..<50), to: dir.appendingPathComponent("app.log").path)
        let p = try Driftwood.write(
            """
            inputs: [{type: file, paths: ["app.log"]}]
            filters: [{type: parse, format: json, remove_source: true}]
            outputs:
              - {type: http, id: hook, url: "\(receiver.url)/ingest", \(Self.fast)}
            shutdown_timeout: 2s
            """, to: "p.yml", in: dir)
        let running = try Driftwood.Running(["run", p], directory: dir)
        Thread.sleep(forTimeInterval: 3)
        kill(running.pid, SIGTERM)
        _ = running.wait(timeout: 20)
        #expect(try Self.requests(receiver).count >= 3)
        let checkpoints = dir.appendingPathComponent(".driftwood/p/checkpoints.json")
        let saved = (try? String(contentsOf: checkpoints, encoding: .utf8)) ?? ""
        #expect(!saved.contains("\"offset\":\(FileLogs.lines(0..<50).utf8.count)"), "\(saved)")
        // Then the endpoint recovers: a restart sends all 50.
        try receiver.request("POST", "/_receiver/normal", json: [String: Any]())
        let again = try Driftwood.Running(["run", p], directory: dir)
        let deadline = Date().addingTimeInterval(30)
        while Self.accepted(try Self.requests(receiver)).flatMap({ $0 }).count < 50 && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.1)
        }
        kill(again.pid, SIGTERM)
        _ = again.wait(timeout: 20)
        let last = try Self.requests(receiver).suffix(2)
        #expect(Set(Self.accepted(try Self.requests(receiver)).flatMap { $0 }) == Set(0..<50), "\(again.stderr) \(last)")
    }

    @Test func refusalsAreLoggedOnEveryAttemptWithoutTheSecret() throws {
        let receiver = try Self.receiver()
        defer { receiver.stop() }
        try receiver.request("POST", "/_receiver/answers", json: [["status": 401, "times": 2], ["status": 403]])
        let dir = try Driftwood.temporaryDirectory()
        let p = try Driftwood.write(
            Self.pipeline(receiver.url, "auth: {username: svc, password: \"${HOOK_PASSWORD}\"}\n\(Self.fast)"),
            to: "p.yml", in: dir)
        let result = try Self.run(p, Self.lines(10), in: dir, environment: ["HOOK_PASSWORD": "hunter2-secret"])
        #expect(result.code == 0, "\(result.stderr)")
        #expect(result.stderr.components(separatedBy: "the HTTP endpoint refused the request").count - 1 == 3)
        #expect(!result.stderr.contains("hunter2"))
        let requests = try Self.requests(receiver)
        let expected = "Basic " + Data("svc:hunter2-secret".utf8).base64EncodedString()
        #expect(requests.count == 4 && requests.allSatisfy { ($0["headers"] as? [String: String])?["Authorization"] == expected })
        #expect(Self.accepted(requests).flatMap { $0 } == Array(0..<10))
    }
}
