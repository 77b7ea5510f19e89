import DriftwoodCore
import Foundation
import Testing

@testable import DriftwoodStages

@Suite struct DeadLetterFileTests {
    @Test func recordKeepsTheOriginalEventBesideTheError() throws {
        let source = Array(#"{"@timestamp":"2026-11-24T10:00:00.072Z","error":"model timeout","latency_ms":"abc"}"#.utf8)
        let action = Array(#"{"create":{"_index":"model-logs-2026.11.24","_id":"abc123"}}"#.utf8)
        let failure = BulkFailure(
            status: 400, type: "mapper_parsing_exception", reason: "failed to parse field [latency_ms] of type [float]")
        let line = DeadLetterFile.record(
            source: source[...], actionLine: action[...], failure: failure, at: Timestamp(unixMilliseconds: 1_795_514_400_123))
        #expect(line.last == 0x0A)
        let text = String(decoding: line.dropLast(), as: UTF8.self)
        #expect(
            text
                == #"{"@timestamp":"2026-11-24T10:00:00.123Z","error":{"type":"mapper_parsing_exception","reason":"failed to parse field [latency_ms] of type [float]"},"http":{"response":{"status_code":400}},"elasticsearch":{"action":"create","index":"model-logs-2026.11.24","id":"abc123"},"event":{"original":"{\"@timestamp\":\"2026-11-24T10:00:00.072Z\",\"error\":\"model timeout\",\"latency_ms\":\"abc\"}"}}"#
        )
        // event.original parses back to the event, byte for byte.
        let object = try JSONSerialization.jsonObject(with: Data(line)) as! [String: Any]
        #expect(((object["event"] as! [String: Any])["original"] as! String).utf8.elementsEqual(source))
    }

    @Test func noStatusWithoutAnAnswer() {
        let line = DeadLetterFile.record(
            source: Array("{}".utf8)[...], actionLine: Array(#"{"index":{"_index":"a"}}"#.utf8)[...],
            failure: BulkFailure(status: nil, type: "connection_failed", reason: "gave up after 3 attempts: refused"),
            at: Timestamp(unixMilliseconds: 0))
        let text = String(decoding: line, as: UTF8.self)
        #expect(!text.contains("http"))
        #expect(text.contains(#""elasticsearch":{"action":"index","index":"a"}"#))
    }

    @Test func theIndexComesFromThePathWhenTheActionLineHasNone() {
        let line = DeadLetterFile.record(
            source: Array("{}".utf8)[...], actionLine: Array(#"{"create":{"_id":"x"}}"#.utf8)[...],
            failure: BulkFailure(status: 400, type: "t", reason: "r"), at: Timestamp(unixMilliseconds: 0), index: "bench")
        #expect(String(decoding: line, as: UTF8.self).contains(#""elasticsearch":{"action":"create","index":"bench","id":"x"}"#))
    }

    @Test func appendsWholeLinesCreatingDirectories() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dlq-\(UUID().uuidString)")
        let file = DeadLetterFile(path: dir.appendingPathComponent("a/b/out.jsonl").path)
        try file.append(Array("one\n".utf8))
        try file.append(Array("two\n".utf8))
        file.close()
        #expect(try String(contentsOfFile: file.path, encoding: .utf8) == "one\ntwo\n")
    }
}
