import DriftwoodCore
import Foundation
import Testing

@testable import DriftwoodStages

/// The `/health` body and status code.
@Suite struct HealthReportTests {
    static func report(_ state: OutputHealth.State, error: String? = nil) -> OutputHealth.Report {
        OutputHealth.Report(
            state: state, lastError: error,
            lastDelivery: state == .ok ? Timestamp(unixMilliseconds: 1_795_514_400_123) : nil,
            eventsDelivered: state == .ok ? 42 : 0, eventsPending: state == .ok ? 0 : 7)
    }

    @Test func statusIsTheWorstOutputs() {
        let ok = HealthReport.Output(id: "a", report: Self.report(.ok))
        let retrying = HealthReport.Output(id: "b", report: Self.report(.retrying, error: "x"))
        let blocked = HealthReport.Output(id: "c", report: Self.report(.blocked, error: "y"))
        #expect(HealthReport(uptimeSeconds: 1, outputs: []).status == .ok)
        #expect(HealthReport(uptimeSeconds: 1, outputs: [ok]).status == .ok)
        #expect(HealthReport(uptimeSeconds: 1, outputs: [ok, retrying]).status == .degraded)
        #expect(HealthReport(uptimeSeconds: 1, outputs: [blocked, ok, retrying]).status == .unhealthy)
        #expect(HealthReport(uptimeSeconds: 1, outputs: [ok, retrying]).httpStatus == 200)
        #expect(HealthReport(uptimeSeconds: 1, outputs: [retrying, blocked]).httpStatus == 503)
    }

    @Test func jsonShape() throws {
        let report = HealthReport(
            uptimeSeconds: 93,
            outputs: [
                .init(id: "archive", report: Self.report(.ok)),
                .init(id: "es \"main\"", report: Self.report(.blocked, error: "connection_failed: refused")),
            ])
        let text = String(decoding: report.json, as: UTF8.self)
        #expect(
            text
                == #"{"status":"unhealthy","uptime_seconds":93,"outputs":{"#
                + #""archive":{"state":"ok","last_error":null,"last_delivery":"2026-11-24T10:00:00.123Z","events_delivered":42,"events_pending":0},"#
                + #""es \"main\"":{"state":"blocked","last_error":"connection_failed: refused","last_delivery":null,"events_delivered":0,"events_pending":7}}}"#
        )
        // And it is JSON a client can read.
        let object = try #require(try JSONSerialization.jsonObject(with: Data(report.json)) as? [String: Any])
        #expect((object["outputs"] as? [String: Any])?.count == 2)
    }

    @Test func aFailingCheckpointSaveIsDegradedAndSaysWhy() throws {
        let failing = HealthReport(uptimeSeconds: 5, outputs: [], checkpointError: "state/checkpoints.json.tmp: No space left on device")
        #expect(failing.status == .degraded && failing.httpStatus == 200)
        #expect(
            String(decoding: failing.json, as: UTF8.self)
                == #"{"status":"degraded","uptime_seconds":5,"outputs":{},"checkpoints":{"state":"failing","last_error":"state/checkpoints.json.tmp: No space left on device"}}"#
        )
        // A blocked output still makes it unhealthy.
        let blocked = HealthReport(
            uptimeSeconds: 5, outputs: [.init(id: "es", report: Self.report(.blocked))], checkpointError: "x")
        #expect(blocked.status == .unhealthy)
    }
}
