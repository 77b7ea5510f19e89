#if canImport(Glibc)
import Glibc
#endif
import DriftwoodCore
import Foundation
import Logging

/// `type: mlflow`: report events to MLflow runs through its REST API. Per experiment and
/// report group (plus model version) one run, found again by its `driftwood.run` tag after a
/// restart (or created on first use); each report's numbers are logged at the run's next step
/// with `runs/log-batch` (at most 1000 metrics a request); every run used is set FINISHED at stop.
///
/// Requests go one at a time from the output's thread, on the shared connection, backoff and
/// verdict of the delivery path: 2xx delivered; no answer, 408, 429 and 5xx retried with
/// full-jitter backoff (forever by default); 401/403 retried and logged each time; other 4xx
/// dead-letter the report. A batch is settled once each of its reports is logged or dead-lettered.
public final class MLflowOutput: Output, @unchecked Sendable {
    let config: MLflowConfig
    let encoder: MLflowEncoder
    let logger: Logger
    let health: OutputHealth
    let metrics: OutputMetrics
    let deadLetters: DeadLetterFile
    // Used by the output's thread only.
    private lazy var connection = HTTPConnection(
        settings: HTTPConnection.Settings(
            connectTimeout: config.timeouts.connect, requestTimeout: config.timeouts.request, auth: config.auth,
            tls: config.tls))
    private var experiments: [String: String] = [:]
    /// Run id and next step by experiment id and run key.
    private var runs: [String: (id: String, step: Int)] = [:]
    private var stopping = false

    public init(config: MLflowConfig, environment: StageEnvironment) {
        self.config = config
        encoder = MLflowEncoder(experiment: config.experiment)
        logger = environment.logger
        health = environment.health ?? OutputHealth(output: environment.id)
        metrics = OutputMetrics(output: environment.id)
        deadLetters = DeadLetterFile(
            path: config.deadLetterPath ?? "\(environment.dataDir)/dead_letter/\(environment.id).jsonl")
    }

    struct Failed: Error { let failure: DeliveryFailure }

    public func write(_ batch: EventBatch) throws {
        for event in batch.events {
            guard let report = encoder.report(event.fields) else { continue }
            do {
                try log(report)
            } catch let failed as Failed {
                var source: [UInt8] = []
                event.fields.write(to: &source)
                try deadLetters.append(DeadLetterFile.record(source: source[...], failure: failed.failure, at: .now()))
                metrics.deadLettered(1)
                logger.warning(
                    "a report MLflow refused went to the dead-letter file",
                    metadata: ["path": "\(deadLetters.path)", "status": "\(failed.failure.status ?? 0)", "reason": "\(failed.failure.reason)"])
            }
        }
        batch.acknowledgement?.settle(1)
        health.delivered(batch.count)
    }

    public func close() throws {
        let now = Timestamp.now().epochMilliseconds
        for run in runs.values {
            _ = try? call("runs/update", #"{"run_id":"\#(run.id)","status":"FINISHED","end_time":\#(now)}"#)
        }
        deadLetters.close()
    }

    /// Logs one report at its run's next step.
    private func log(_ report: MLflowEncoder.Report) throws {
        let experimentID = try experimentID(report.experiment)
        let key = experimentID + "\u{0}" + report.runKey
        let run = try runs[key] ?? findOrCreateRun(report, experimentID: experimentID)
        let points = report.metrics.map { (key: $0.0, value: $0.1, time: report.timestampMilliseconds, step: run.step) }
        var start = 0
        while start < points.count {
            let end = min(start + 1000, points.count)
            _ = try call("runs/log-batch", MLflowEncoder.logBatch(runID: run.id, points[start..<end]))
            start = end
        }
        runs[key] = (run.id, run.step + 1)
    }

    private func experimentID(_ name: String) throws -> String {
        if let id = experiments[name] { return id }
        let query = "experiments/get-by-name?experiment_name=" + Self.percentEncoded(name)
        var id = try call(query, nil, missingIsNil: true)?.member(Array("experiment".utf8))?
            .member(Array("experiment_id".utf8))?.text
        if id == nil {
            id = try call("experiments/create", Array(#"{"name":\#(Self.json(name))}"#.utf8))?
                .member(Array("experiment_id".utf8))?.text
        }
        guard let id else { throw Failed(failure: DeliveryFailure(status: 200, type: "bad_response", reason: "no experiment_id")) }
        experiments[name] = id
        return id
    }

    /// The run tagged with this report's key (set RUNNING again), or a new one; its next step
    /// follows the largest step already logged.
    private func findOrCreateRun(_ report: MLflowEncoder.Report, experimentID: String) throws -> (id: String, step: Int) {
        let filter = "tags.`driftwood.run` = '\(report.runKey.replacingOccurrences(of: "'", with: "\\'"))'"
        let search = #"{"experiment_ids":[\#(Self.json(experimentID))],"filter":\#(Self.json(filter)),"max_results":1,"order_by":["attributes.start_time ASC"]}"#
        if let found = try call("runs/search", Array(search.utf8))?.member(Array("runs".utf8))?.elements.first,
            let id = found.member(Array("info".utf8))?.member(Array("run_id".utf8))?.text
        {
            let steps = found.member(Array("data".utf8))?.member(Array("metrics".utf8))?.elements
                .compactMap { $0.member(Array("step".utf8))?.integer } ?? []
            _ = try call("runs/update", Array(#"{"run_id":\#(Self.json(id)),"status":"RUNNING"}"#.utf8))
            return (id, Int(steps.max() ?? -1) + 1)
        }
        var tags = #"[{"key":"driftwood.run","value":\#(Self.json(report.runKey))},{"key":"driftwood.group","value":\#(Self.json(report.group))}"#
        if let version = report.modelVersion { tags += #",{"key":"driftwood.model_version","value":\#(Self.json(version))}"# }
        let create = #"{"experiment_id":\#(Self.json(experimentID)),"run_name":\#(Self.json(report.runKey)),"start_time":\#(report.timestampMilliseconds),"tags":\#(tags)]}"#
        guard let id = try call("runs/create", Array(create.utf8))?.member(Array("run".utf8))?
            .member(Array("info".utf8))?.member(Array("run_id".utf8))?.text
        else { throw Failed(failure: DeliveryFailure(status: 200, type: "bad_response", reason: "no run_id")) }
        logger.info("MLflow run created", metadata: ["experiment": "\(report.experiment)", "run": "\(report.runKey)", "run_id": "\(id)"])
        return (id, 0)
    }

    /// One API call, retried until MLflow takes it; nil for a 404 when `missingIsNil`. Throws
    /// `Failed` when MLflow refuses it for good.
    @discardableResult
    private func call(_ endpoint: String, _ body: [UInt8]?, missingIsNil: Bool = false) throws -> JSONValue? {
        let url = config.trackingURI + "/api/2.0/mlflow/" + endpoint
        var attempt = 0
        while true {
            let started = DispatchTime.now().uptimeNanoseconds
            let result = (body ?? []).withUnsafeBytes {
                connection.send(body == nil ? .get : .post, url: url, body: $0, contentType: .json)
            }
            metrics.request(nanoseconds: Int64(DispatchTime.now().uptimeNanoseconds - started))
            let answer = HTTPAnswer(result)
            if case .http(404, _) = answer, missingIsNil { return nil }
            switch StatusVerdict.classify(answer, itemCount: 1) {
            case .delivered:
                if case .http(_, let bytes) = answer { return JSONValue(json: String(decoding: bytes, as: UTF8.self)) }
                return nil
            case .deadLetter(let failure), .split(let failure):
                throw Failed(failure: failure)
            case .retry(let failure):
                attempt += 1
                if let max = config.retry.maxAttempts, attempt >= max { throw Failed(failure: failure) }
                let delay = failure.persistent ? config.retry.backoff.maximum : config.retry.backoff.delay(attempt: attempt)
                metrics.retried()
                health.failed("\(failure) (\(config.trackingURI))")
                let metadata: Logger.Metadata = [
                    "url": "\(config.trackingURI)", "type": "\(failure.type)", "reason": "\(failure.reason)",
                    "attempt": "\(attempt)", "retry_in": "\(ConfigUnits.describe(delay))",
                ]
                if failure.persistent {
                    logger.error("MLflow refused the request; retrying", metadata: metadata)
                } else {
                    logger.warning("MLflow request failed; retrying", metadata: metadata)
                }
                Thread.sleep(forTimeInterval: delay.seconds)
            case .retryItems:
                return nil
            }
        }
    }

    private func call(_ endpoint: String, _ body: String) throws -> JSONValue? { try call(endpoint, Array(body.utf8)) }

    static func json(_ s: String) -> String {
        var out: [UInt8] = []
        JSONWriter.appendString(s, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    static func percentEncoded(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-_.~"))) ?? s
    }
}
