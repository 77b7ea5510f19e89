import Foundation
import Testing

/// `/api/v1/status` while the demo pipeline replays 40 copies of the samples at full speed:
/// read every 100 ms, it stays consistent (rates never negative, counts never going back, the
/// history in time order and within its hour, at most 100 alerts), and once the replay is done
/// its counts are the lines read.
@Suite struct StatusAPITests {
    @Test func statusStaysConsistentUnderAFullSpeedReplay() throws {
        let dir = try Driftwood.temporaryDirectory()
        let sample = try Data(contentsOf: Driftwood.packageRoot.appendingPathComponent("samples/model_logs.jsonl"))
        let lines = sample.split(separator: 0x0A).filter { !$0.isEmpty }.count
        // The demo's jsonl_0 takes the log lines of a model (not the ground-truth lines, which
        // carry their prediction's model but also `actual`, not the lines that do not parse), and
        // those are what drift and monitor count per model.
        let modelLines = sample.split(separator: 0x0A).filter {
            let line = (try? JSONSerialization.jsonObject(with: Data($0))) as? [String: Any]
            return line?["model"] is String && line?["actual"] == nil
        }.count
        var big = Data()
        for _ in 0..<40 { big.append(sample) }
        let log = dir.appendingPathComponent("big.log")
        try big.write(to: log)
        let pipeline = try StatusFixtures.demoPipeline(in: dir, logs: log.path)
        let running = try Driftwood.Running(
            ["run", pipeline, "--serve", "--metrics-address", "127.0.0.1:0", "--data-dir", dir.appendingPathComponent("state").path],
            directory: dir)
        defer {
            kill(running.pid, SIGTERM)
            _ = running.wait(timeout: 30)
        }
        let base = try running.metricsBase()
        var last: [String: Double] = [:]
        var reads = 0
        var problems: [String] = []
        var sawRate = false
        let deadline = Date().addingTimeInterval(240)
        while Date() < deadline {
            let finished = running.stderr.contains("still serving the status page")
            let status = try StatusFixtures.status(base)
            reads += 1
            var now: [String: Double] = [:]
            for stage in StatusFixtures.stages(status) {
                let id = stage["id"] as! String
                for key in ["events_in", "events_out", "errors"] { now["stage:\(id):\(key)"] = StatusFixtures.number(stage[key]) }
                for key in ["rate_in", "rate_out"] {
                    let rate = StatusFixtures.number(stage[key]) ?? -1
                    if rate < 0 { problems.append("\(id) \(key) = \(rate)") }
                    if rate > 0 { sawRate = true }
                }
            }
            for (group, model) in StatusFixtures.models(status) {
                now["model:\(group):events"] = StatusFixtures.number(model["events"])
                if (StatusFixtures.number(model["rate"]) ?? -1) < 0 { problems.append("\(group) rate \(model["rate"] ?? "nil")") }
            }
            for (key, value) in now where value < (last[key] ?? 0) {
                problems.append("\(key) went back from \(last[key]!) to \(value)")
            }
            last = now
            let history = status["history"] as? [String: Any] ?? [:]
            let t = history["t"] as? [Double] ?? []
            if t != t.sorted() || t.count > 360 { problems.append("history t: \(t)") }
            if ((history["rate_in"] as? [Any])?.count ?? -1) != t.count { problems.append("history rate_in length") }
            if (status["alerts"] as? [Any] ?? []).count > 100 { problems.append("more than 100 alerts") }
            if finished { break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        #expect(problems.isEmpty, "\(problems.prefix(10))")
        #expect(reads > 5, "only \(reads) reads during the replay")
        #expect(sawRate, "no rate above 0 during a replay")
        #expect(last["stage:file_0:events_in"] == Double(40 * lines))
        #expect(last["stage:jsonl_0:events_out"] == Double(40 * modelLines))
        let events = StatusFixtures.models(try StatusFixtures.status(base)).values.reduce(0) {
            $0 + (StatusFixtures.number($1["events"]) ?? 0)
        }
        // Every line with a model went through drift and monitor.
        #expect(events > Double(40 * modelLines) * 0.95 && events <= Double(40 * modelLines), "\(events) model events for \(40 * modelLines) lines with a model")
    }
}
