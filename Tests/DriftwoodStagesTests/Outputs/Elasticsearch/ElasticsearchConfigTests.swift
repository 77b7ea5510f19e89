import DriftwoodCore
import Foundation
import Testing

@testable import DriftwoodStages

/// `type: elasticsearch` read strictly: defaults, every key, and the errors users see.
@Suite struct ElasticsearchConfigTests {
    /// A pipeline whose only output is `type: elasticsearch` with `keys` (YAML lines at its indentation).
    static func pipeline(_ keys: String) -> String {
        let indented = keys.split(separator: "\n", omittingEmptySubsequences: false).map { "    " + $0 }
            .joined(separator: "\n")
        return "inputs: [{type: stdin}]\noutputs:\n  - type: elasticsearch\n\(indented)\n"
    }

    static func load(_ keys: String) throws(ConfigErrors) -> PipelineConfig {
        try PipelineConfig.load(
            text: pipeline(keys), file: "p.yml", environment: [:], catalog: StageCatalog.descriptors)
    }

    static func config(_ keys: String) throws -> ElasticsearchConfig {
        try load(keys).outputs[0].config as! ElasticsearchConfig
    }

    static func errors(_ keys: String) -> [String] {
        do {
            _ = try load(keys)
            return []
        } catch {
            return error.errors.map(\.description)
        }
    }

    @Test func defaults() throws {
        let c = try Self.config("id: es")
        #expect(c.hosts.map(\.baseURL) == ["http://127.0.0.1:9200"])
        #expect(c.index.source == "driftwood-%{+yyyy.MM.dd}")
        #expect(c.dataStream == nil)
        #expect(c.action == .create)
        if case .fingerprint = c.documentID {} else { Issue.record("document_id defaults to fingerprint") }
        #expect(c.gzip && c.compressionLevel == 1)
        #expect(c.batch == .init(maxEvents: 5000, maxBytes: 10 << 20, timeout: .seconds(1)))
        #expect(c.concurrency == 2)
        #expect(c.retry == .init(backoff: Backoff(initial: .milliseconds(100), maximum: .seconds(30)), maxAttempts: nil))
        #expect(c.auth == nil && c.tls == .init(caFile: nil, verify: true) && c.template == nil)
        #expect(c.deadLetterFile(dataDir: ".driftwood/p", outputID: "es") == ".driftwood/p/dead_letter/es.jsonl")
        #expect(c.timeouts == .init(connect: .seconds(5), request: .seconds(60)))
    }

    @Test func everyKey() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("es-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let template = dir.appendingPathComponent("t.json").path
        try #"{"index_patterns": ["model-logs-*"], "template": {}}"#.write(toFile: template, atomically: true, encoding: .utf8)
        let ca = dir.appendingPathComponent("ca.pem").path
        try "pem".write(toFile: ca, atomically: true, encoding: .utf8)
        let c = try Self.config(
            """
            hosts: ["https://es1:9243/prefix/", "es2:9200"]
            index: "model-logs-%{model}-%{+yyyy.MM.dd}"
            action: index
            document_id: "%{request_id}"
            compression: none
            compression_level: 6
            batch: {max_events: 100, max_bytes: 1MiB, timeout: 250ms, idle: 20ms}
            concurrency: 4
            retry: {initial_backoff: 50ms, max_backoff: 5s, max_attempts: 3}
            auth: {username: elastic, password: s3cret}
            tls: {ca_file: "\(ca)", verify: false}
            template: {name: model-logs, file: "\(template)"}
            dead_letter: {path: dead/es.jsonl}
            timeouts: {connect: 1s, request: 10s}
            """)
        #expect(c.hosts.map(\.baseURL) == ["https://es1:9243/prefix", "http://es2:9200"])
        #expect(c.index.source == "model-logs-%{model}-%{+yyyy.MM.dd}")
        #expect(c.action == .index)
        if case .template(let t) = c.documentID { #expect(t.source == "%{request_id}") } else { Issue.record("template id") }
        #expect(!c.gzip && c.compressionLevel == 6)
        #expect(c.batch == .init(maxEvents: 100, maxBytes: 1 << 20, timeout: .milliseconds(250), idle: .milliseconds(20)))
        #expect(c.concurrency == 4)
        #expect(c.retry == .init(backoff: Backoff(initial: .milliseconds(50), maximum: .seconds(5)), maxAttempts: 3))
        #expect(c.auth == .basic(username: "elastic", password: "s3cret"))
        #expect(c.tls == .init(caFile: ca, verify: false))
        #expect(c.template?.name == "model-logs")
        #expect(String(decoding: c.template?.body ?? [], as: UTF8.self) == #"{"index_patterns":["model-logs-*"],"template":{}}"#)
        #expect(c.deadLetterFile(dataDir: "d", outputID: "es") == "dead/es.jsonl")
        #expect(c.timeouts == .init(connect: .seconds(1), request: .seconds(10)))
    }

    @Test func dataStreamsAndAPIKeys() throws {
        let c = try Self.config("data_stream: {dataset: model}\nauth: {api_key: \"id:key\"}")
        #expect(c.dataStream == .init(type: "logs", dataset: "model", namespace: "default"))
        #expect(c.index.source == "logs-model-default")
        #expect(c.action == .create)
        #expect(c.auth == .apiKey(Data("id:key".utf8).base64EncodedString()))
        #expect(try Self.config("auth: {api_key: ZW5jb2RlZA==}").auth == .apiKey("ZW5jb2RlZA=="))
    }

    @Test func secretsNeverShowInDescriptions() throws {
        let c = try Self.config("auth: {username: elastic, password: hunter2}")
        #expect(!"\(c)".contains("hunter2"))
        #expect(!"\(c.auth!)".contains("hunter2"))
        #expect(!"\(ElasticsearchConfig.Auth.apiKey("c2VjcmV0"))".contains("c2VjcmV0"))
    }

    @Test func errorsNameTheKeyAndSuggest() {
        let errors = Self.errors(
            """
            hots: ["http://a:9200"]
            index: Model-Logs
            action: upsert
            document_id: fingerprnt
            compression: zstd
            batch: {max_event: 10, timeout: 0s, idle: 0ms}
            concurrency: 0
            retry: {initial_backoff: 1s, max_backoff: 10ms, max_attempts: 0}
            auth: {username: elastic}
            template: {name: model-logs, file: /nonexistent/t.json}
            dead_letter: {}
            timeouts: {connect: soon}
            """)
        let expected = [
            "p.yml:4:5: outputs[0] (elasticsearch): unknown key 'hots' (did you mean 'hosts'?)",
            "p.yml:5:12: outputs[0].index (elasticsearch): index names must be lowercase",
            "p.yml:6:13: outputs[0].action (elasticsearch): expected one of create, index",
            "p.yml:7:18: outputs[0].document_id (elasticsearch): a constant id would give every event the same document",
            "(did you mean 'fingerprint'?)",
            "p.yml:8:18: outputs[0].compression (elasticsearch): expected one of gzip, none",
            "outputs[0].batch (elasticsearch): unknown key 'max_event' (did you mean 'max_events'?)",
            "outputs[0].batch.timeout (elasticsearch): must be longer than 0",
            "outputs[0].batch.idle (elasticsearch): must be longer than 0",
            "outputs[0].concurrency (elasticsearch): must be at least 1",
            "outputs[0].retry.max_backoff (elasticsearch): must not be shorter than initial_backoff",
            "outputs[0].retry.max_attempts (elasticsearch): must be at least 1",
            "outputs[0].auth (elasticsearch): missing required key 'password'",
            "outputs[0].template.file (elasticsearch): cannot read /nonexistent/t.json: no such file",
            "outputs[0].dead_letter (elasticsearch): missing required key 'path'",
            "outputs[0].timeouts.connect (elasticsearch): expected a duration",
        ]
        for e in expected {
            #expect(errors.contains { $0.contains(e) }, "missing: \(e)\n\(errors.joined(separator: "\n"))")
        }
    }

    @Test func conflictingKeys() {
        let both = Self.errors("index: a\ndata_stream: {dataset: model}\naction: index")
        #expect(both.contains { $0.contains("give either 'index' or 'data_stream', not both") })
        #expect(both.contains { $0.contains("data streams take only 'create' actions") })
        #expect(Self.errors("auth: {username: u, password: p, api_key: k}").contains {
            $0.contains("give either username and password, or api_key, not both")
        })
        #expect(Self.errors("data_stream: {dataset: my-model}").contains { $0.contains("must not contain '-'") })
    }

    @Test func hostURLs() throws {
        #expect(try ElasticsearchHost("http://127.0.0.1:9200/").baseURL == "http://127.0.0.1:9200")
        #expect(try ElasticsearchHost("localhost:9200").baseURL == "http://localhost:9200")
        #expect(try ElasticsearchHost("https://[::1]:9243/es").baseURL == "https://[::1]:9243/es")
        #expect(throws: ElasticsearchHost.ParseError.self) { try ElasticsearchHost("http://elastic:pw@es:9200") }
        #expect(throws: ElasticsearchHost.ParseError.self) { try ElasticsearchHost("ftp://es") }
        #expect(throws: ElasticsearchHost.ParseError.self) { try ElasticsearchHost("http://es:99999") }
        #expect(throws: ElasticsearchHost.ParseError.self) { try ElasticsearchHost("http://es:9200/?x=1") }
        let errors = Self.errors(#"hosts: ["http://elastic:hunter2@es:9200"]"#)
        #expect(errors.contains { $0.contains("credentials in a host URL are not allowed") })
        #expect(!errors.joined().contains("hunter2"))
    }
}
