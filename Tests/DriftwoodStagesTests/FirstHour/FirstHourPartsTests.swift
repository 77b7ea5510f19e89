import DriftwoodCore
import Foundation
import Logging
import Synchronization
import Testing

@testable import DriftwoodStages

/// The pure parts behind issue 17: file problems, nested variable defaults, the probe's reading
/// of `GET /`, 409 counting, the failure tally's rate limit.
@Suite struct FirstHourPartsTests {
    @Test func fileProblemsNameTheAbsolutePathAndTheReason() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fa-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        #expect(FileAccess.problem(dir.path + "/nope")?.description == "cannot read \(dir.path)/nope: no such file")
        #expect(FileAccess.problem(dir.path)?.reason == "not a file (a directory)")
        try "x".write(toFile: dir.path + "/f", atomically: true, encoding: .utf8)
        #expect(FileAccess.problem(dir.path + "/f") == nil)
        #expect(try FileAccess.read(dir.path + "/f") == [UInt8(ascii: "x")])
        #expect(FileAccess.problem(dir.path + "/f/g")?.reason.hasPrefix("no such file") == true)
        let cwd = FileManager.default.currentDirectoryPath
        #expect(FileAccess.absolute("a/./b/../c") == (cwd == "/" ? "" : cwd) + "/a/c")
        let relative = FileAccess.problem("surely-not-here.yml")!
        #expect(relative.description.contains("is relative to the working directory \(cwd)"))
    }

    @Test func aDefaultMayHoldReferences() {
        let text = #"r: "${MODEL_REGISTRY:-${DRIFTWOOD_HOME:-.}/samples/models.yml}""#
        #expect(EnvironmentSubstitution.apply(text, environment: [:]).text == #"r: "./samples/models.yml""#)
        #expect(EnvironmentSubstitution.apply(text, environment: ["DRIFTWOOD_HOME": "/opt/dw"]).text == #"r: "/opt/dw/samples/models.yml""#)
        #expect(
            EnvironmentSubstitution.apply(text, environment: ["MODEL_REGISTRY": "/etc/m.yml", "DRIFTWOOD_HOME": "/opt"]).text
                == #"r: "/etc/m.yml""#)
        let undefined = EnvironmentSubstitution.apply("a: ${X:-${Y}}", environment: [:]).undefined
        #expect(undefined.map(\.name) == ["Y"])
    }

    @Test func theProbeReadsTheAnswerToGetRoot() {
        func outcome(_ status: Int, _ body: String) -> ElasticsearchProbe.Outcome {
            ElasticsearchProbe.outcome(status: status, body: Array(body.utf8), url: "http://h:9200")
        }
        #expect(outcome(200, #"{"version":{"number":"8.15.0"}}"#).server == "Elasticsearch 8.15.0")
        #expect(outcome(200, #"{"version":{"number":"8.15.0"}}"#).ok)
        #expect(outcome(200, #"{"version":{"number":"2.17.0","distribution":"opensearch"}}"#).server == "OpenSearch 2.17.0")
        #expect(outcome(200, #"{"version":{"number":"6.8.23"}}"#).problem == "Elasticsearch 6.8.23 is too old (7.0 or later is needed)")
        #expect(outcome(401, "{}").problem?.hasPrefix("401 Unauthorized") == true)
        #expect(outcome(403, "{}").ok, "a user who may index but not read cluster information")
        #expect(outcome(200, "<html>").problem == "answers, but not as Elasticsearch (no version.number in GET /)")
        #expect(outcome(503, "busy").problem == "HTTP 503 to GET /: busy")
        #expect(
            ElasticsearchProbe.describe(TransportFailure(kind: .connection, message: "Could not resolve host: x")).hasPrefix(
                "cannot resolve the host name (DNS)"))
        #expect(
            ElasticsearchProbe.describe(TransportFailure(kind: .connection, message: "Failed to connect: Connection refused"))
                .hasPrefix("connection refused"))
        #expect(ElasticsearchProbe.describe(TransportFailure(kind: .tls, message: "SSL certificate problem")).hasPrefix("TLS failed"))
    }

    @Test func alreadyPresentCountsThe409sOfAnAnswerWithErrors() {
        let body = #"{"took":1,"errors":true,"items":[{"create":{"status":201}},{"create":{"status":409}},{"create":{"status": 409}},{"create":{"status":4090}}]}"#
        #expect(AlreadyPresent.count(in: Array(body.utf8)) == 2)
        #expect(AlreadyPresent.count(in: Array(#"{"errors":false,"items":[{"create":{"status":201}}]}"#.utf8)) == 0)
    }

    final class Lines: @unchecked Sendable {
        let lines = Mutex<[String]>([])
    }

    struct Capture: LogHandler {
        let sink: Lines
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) { sink.lines.withLock { $0.append("\(event.message)") } }
    }

    @Test func theTallyWarnsAtOnceThenAtMostOncePerIntervalAndFlushesTheRest() {
        let sink = Lines()
        let logger = Logger(label: "t") { _ in Capture(sink: sink) }
        let tally = FailureTally(interval: 3600)
        for _ in 0..<1000 { tally.record("_timestamp_failure", stage: "parse_0", logger: logger) }
        tally.record("_field_conflict", stage: "parse_0", logger: logger)
        tally.record("_parse_failure", stage: "other", logger: logger)
        #expect(sink.lines.withLock { $0 } == [
            "events tagged as failures: _timestamp_failure=1 (tags: docs/events.md)",
            "events tagged as failures: _parse_failure=1 (tags: docs/events.md)",
        ])
        tally.flush()
        #expect(sink.lines.withLock { $0.last } == "events tagged as failures: _field_conflict=1 _timestamp_failure=999 (tags: docs/events.md)")
        #expect(tally.totals() == ["_timestamp_failure": 1000, "_field_conflict": 1, "_parse_failure": 1])
    }
}
