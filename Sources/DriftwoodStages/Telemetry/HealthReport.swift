import DriftwoodCore

/// The answer to `GET /health`: the overall status, the uptime and each output's state, as JSON.
///
/// ```json
/// {"status":"unhealthy","uptime_seconds":42,"outputs":{"es":{"state":"blocked",
///  "last_error":"connection_failed: …","last_delivery":null,"events_delivered":0,"events_pending":1024}}}
/// ```
public struct HealthReport: Sendable {
    /// `unhealthy` when some output is blocked (HTTP 503), `degraded` when some output retries or
    /// the last checkpoint save failed, else `ok`.
    public enum Status: String, Sendable {
        case ok, degraded, unhealthy
    }

    /// One output, by stage id, in pipeline order.
    public struct Output: Sendable {
        public var id: String
        public var report: OutputHealth.Report
        public init(id: String, report: OutputHealth.Report) {
            self.id = id
            self.report = report
        }
    }

    /// Whole seconds since driftwood started.
    public var uptimeSeconds: Int
    public var outputs: [Output]
    /// Why the last save of the file inputs' checkpoints failed; nil while they save. Shown as
    /// `"checkpoints":{"state":"failing","last_error":…}` (a restart would read again what was
    /// delivered since the last save).
    public var checkpointError: String?

    public init(uptimeSeconds: Int, outputs: [Output], checkpointError: String? = nil) {
        self.uptimeSeconds = uptimeSeconds
        self.outputs = outputs
        self.checkpointError = checkpointError
    }

    public var status: Status {
        if outputs.contains(where: { $0.report.state == .blocked }) { return .unhealthy }
        if outputs.contains(where: { $0.report.state == .retrying }) { return .degraded }
        if checkpointError != nil { return .degraded }
        return .ok
    }

    /// 503 when unhealthy, so a load balancer or an orchestrator's probe sees it; 200 otherwise.
    public var httpStatus: Int { status == .unhealthy ? 503 : 200 }

    /// The report as one JSON object (no trailing newline).
    public var json: [UInt8] {
        var out: [UInt8] = []
        out += Array(#"{"status":"#.utf8)
        JSONWriter.appendString(status.rawValue, to: &out)
        out += Array(#","uptime_seconds":"#.utf8)
        JSONWriter.appendInteger(Int64(uptimeSeconds), to: &out)
        out += Array(#","outputs":{"#.utf8)
        for (k, output) in outputs.enumerated() {
            if k > 0 { out.append(UInt8(ascii: ",")) }
            let r = output.report
            JSONWriter.appendString(output.id, to: &out)
            out += Array(#":{"state":"#.utf8)
            JSONWriter.appendString(r.state.rawValue, to: &out)
            out += Array(#","last_error":"#.utf8)
            if let error = r.lastError { JSONWriter.appendString(error, to: &out) } else { out += Array("null".utf8) }
            out += Array(#","last_delivery":"#.utf8)
            if let time = r.lastDelivery {
                JSONWriter.appendString(time.rfc3339, to: &out)
            } else {
                out += Array("null".utf8)
            }
            out += Array(#","events_delivered":"#.utf8)
            JSONWriter.appendInteger(Int64(r.eventsDelivered), to: &out)
            out += Array(#","events_pending":"#.utf8)
            JSONWriter.appendInteger(Int64(r.eventsPending), to: &out)
            out.append(UInt8(ascii: "}"))
        }
        out.append(UInt8(ascii: "}"))
        if let checkpointError {
            out += Array(#","checkpoints":{"state":"failing","last_error":"#.utf8)
            JSONWriter.appendString(checkpointError, to: &out)
            out.append(UInt8(ascii: "}"))
        }
        out.append(UInt8(ascii: "}"))
        return out
    }
}
