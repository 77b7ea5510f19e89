import Foundation
import Testing

/// The `mlflow` output through the real binary, against a real MLflow tracking server (started
/// once for the suite by `Tests/Fixtures/servers/serve.py`: SQLite store, throwaway directory).
@Suite(.serialized) struct MLflowOutputTests {
    static let server: Result<LocalServer, Error> = Result {
        let dir = try Driftwood.temporaryDirectory()
        return try LocalServer(
            name: "mlflow", executable: "/usr/bin/env",
            arguments: ["python3", AlertmanagerOutputTests.script, "mlflow", dir.appendingPathComponent("mlflow").path],
            keepStdinOpen: true, timeout: 180)
    }

    static func api(_ path: String, _ body: [String: Any]? = nil) throws -> [String: Any] {
        let server = try server.get()
        let (status, data) = try server.request(body == nil ? "GET" : "POST", "/api/2.0/mlflow/" + path, json: body)
        guard status == 200 else {
            throw LocalServer.ServerError(description: "\(path): \(status) \(String(decoding: data, as: UTF8.self))")
        }
        return try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
    }

    static func stamp(_ k: Int) -> String { String(format: "2026-11-24T10:%02d:00.000Z", k) }
    static func millis(_ k: Int) -> Int64 { 1_795_514_400_000 + Int64(k) * 60_000 }

    /// A drift score report of `group` (as the drift filter writes them), number `k`.
    static func driftReport(_ group: String, _ k: Int) -> String {
        let amount = 0.1 + Double(k) / 100
        return
            #"{"@timestamp":"\#(stamp(k))","event":{"kind":"metric","dataset":"driftwood.drift"},"message":"psi drift","drift":{"metric":"psi","window":1000,"group":"\#(group)","scored":\#(1000 + 250 * k),"max":\#(amount),"max_feature":"features.amount","detected":false,"features":{"features.amount":\#(amount),"prediction":0.04},"distributions":{"prediction":{"edges":[0.1],"baseline":[0.5,0.5],"current":[0.4,0.6]}}},"host":{"name":"h"}}"#
    }

    static func pipeline(_ experiment: String) throws -> String {
        """
        inputs: [{type: stdin}]
        filters: [{type: parse, format: json, remove_source: true}]
        outputs:
          - type: mlflow
            id: ml
            tracking_uri: "\(try server.get().url)"
            experiment: "\(experiment)"
            retry: {initial_backoff: 20ms, max_backoff: 500ms}
        shutdown_timeout: 30s
        """
    }

    static func runs(_ experiment: String) throws -> [[String: Any]] {
        let id = ((try api("experiments/get-by-name?experiment_name=\(experiment)"))["experiment"] as? [String: Any])?[
            "experiment_id"] as? String ?? ""
        return (try api("runs/search", ["experiment_ids": [id]]))["runs"] as? [[String: Any]] ?? []
    }

    static func history(_ runID: String, _ key: String) throws -> [[String: Any]] {
        let encoded = key.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? key
        return (try api("metrics/get-history?run_id=\(runID)&metric_key=\(encoded)"))["metrics"] as? [[String: Any]] ?? []
    }

    static func info(_ run: [String: Any]) -> [String: Any] { run["info"] as? [String: Any] ?? [:] }

    @Test func metricHistoriesEqualWhatWasSentAndARestartFindsTheSameRun() throws {
        let experiment = "production-models-\(UUID().uuidString.prefix(8))"
        let dir = try Driftwood.temporaryDirectory()
        let p = try Driftwood.write(try Self.pipeline(experiment), to: "p.yml", in: dir)
        // Three reports of one group, one of another, and events that are not reports (skipped).
        let first = [Self.driftReport("fraud", 0), #"{"msg":"prediction"}"#, Self.driftReport("fraud", 1),
                     Self.driftReport("churn", 0), Self.driftReport("fraud", 2)]
        let a = try Driftwood.run(["run", p], stdin: Data((first.joined(separator: "\n") + "\n").utf8), directory: dir)
        #expect(a.code == 0, "\(a.stderr)")
        var runs = try Self.runs(experiment)
        #expect(runs.count == 2)
        let fraud = try #require(runs.first { (Self.info($0)["run_name"] as? String) == "fraud" })
        let runID = Self.info(fraud)["run_id"] as? String ?? ""
        #expect(Self.info(fraud)["status"] as? String == "FINISHED")
        var max = try Self.history(runID, "drift.max").sorted { ($0["step"] as? Int ?? 0) < ($1["step"] as? Int ?? 0) }
        #expect(max.map { $0["value"] as? Double } == [0.1, 0.11, 0.12])
        #expect(max.map { $0["step"] as? Int } == [0, 1, 2])
        #expect(max.map { ($0["timestamp"] as? NSNumber)?.int64Value } == [Self.millis(0), Self.millis(1), Self.millis(2)])
        let amount = try Self.history(runID, "drift.features.features.amount")
        #expect(amount.compactMap { $0["value"] as? Double }.sorted() == [0.1, 0.11, 0.12])
        #expect(try Self.history(runID, "drift.scored").compactMap { $0["value"] as? Double }.sorted() == [1000, 1250, 1500])
        // Histogram arrays and strings are not metrics.
        #expect(try Self.history(runID, "drift.distributions.prediction.edges").isEmpty)

        // A restart: the same run, running again, then FINISHED; the steps go on.
        let b = try Driftwood.run(["run", p], stdin: Data((Self.driftReport("fraud", 3) + "\n").utf8), directory: dir)
        #expect(b.code == 0, "\(b.stderr)")
        runs = try Self.runs(experiment)
        #expect(runs.count == 2)
        let again = try #require(runs.first { (Self.info($0)["run_name"] as? String) == "fraud" })
        #expect(Self.info(again)["run_id"] as? String == runID)
        #expect(Self.info(again)["status"] as? String == "FINISHED")
        max = try Self.history(runID, "drift.max").sorted { ($0["step"] as? Int ?? 0) < ($1["step"] as? Int ?? 0) }
        #expect(max.map { $0["value"] as? Double } == [0.1, 0.11, 0.12, 0.13])
        #expect(max.map { $0["step"] as? Int } == [0, 1, 2, 3])
    }

    @Test func moreThanAThousandMetricsGoInSeveralBatchesAndModelVersionsGetRunsOfTheirOwn() throws {
        let experiment = "wide-\(UUID().uuidString.prefix(8))"
        let dir = try Driftwood.temporaryDirectory()
        let p = try Driftwood.write(try Self.pipeline(experiment), to: "p.yml", in: dir)
        let features = (0..<1500).map { #""f\#($0)":\#(Double($0) / 1000)"# }.joined(separator: ",")
        let wide =
            #"{"@timestamp":"\#(Self.stamp(5))","event":{"kind":"metric"},"monitor":{"group":"fraud","model_version":"1.4.2","scores":{\#(features)}}}"#
        let other = #"{"@timestamp":"\#(Self.stamp(6))","event":{"kind":"metric"},"monitor":{"group":"fraud","model_version":"1.5.0","error_rate":0.02}}"#
        let r = try Driftwood.run(["run", p], stdin: Data((wide + "\n" + other + "\n").utf8), directory: dir)
        #expect(r.code == 0, "\(r.stderr)")
        let runs = try Self.runs(experiment)
        #expect(Set(runs.compactMap { Self.info($0)["run_name"] as? String }) == ["fraud@1.4.2", "fraud@1.5.0"])
        let wideRun = try #require(runs.first { (Self.info($0)["run_name"] as? String) == "fraud@1.4.2" })
        let logged = (wideRun["data"] as? [String: Any])?["metrics"] as? [[String: Any]] ?? []
        #expect(logged.count == 1500)
        #expect(try Self.history(Self.info(wideRun)["run_id"] as? String ?? "", "monitor.scores.f1499").first?["value"] as? Double == 1.499)
    }
}
