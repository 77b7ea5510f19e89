import Foundation
import Testing

/// The windows of `drift` and `monitor` survive a restart (`<data_dir>/state/<stage id>`),
/// through the real binary: a run in two parts reports and alerts as one run, `kill -9` loses
/// nothing, and a state that does not fit starts empty with one log line.
@Suite struct FilterStateTests {
    static func lines(_ range: Range<Int>) -> [String] {
        range.map { i in
            let model = i % 2 == 0 ? "a" : "b"
            var x = Double((i * 37) % 1000) / 10
            if model == "b" && (700..<1_300).contains(i) { x = 95 + Double(i % 50) / 10 }
            let level = model == "a" && (1_500..<1_700).contains(i) && i % 4 == 0 ? "ERROR" : "INFO"
            return #"{"model":"\#(model)","x":\#(x),"level":"\#(level)","latency_ms":\#(5 + i % 13),"i":\#(i)}"#
        }
    }

    static func setUp(_ dir: URL, input: String, mode: String = "read", window: Int = 100) throws {
        try Driftwood.write(ModelMonitoringTests.referenceLines(2_000).joined(separator: "\n") + "\n", to: "ref.jsonl", in: dir)
        let made = try Driftwood.run(
            ["baseline", "--input", "ref.jsonl", "--features", "x", "--bins", "6", "--output", "baseline.json"], directory: dir)
        #expect(made.code == 0, "\(made.stderr)")
        try writePipeline(dir, input: input, mode: mode, window: window)
    }

    static func writePipeline(_ dir: URL, input: String, mode: String = "read", window: Int = 100) throws {
        let source =
            input == "stdin"
            ? "  - type: stdin" : "  - {type: file, paths: [\(dir.path)/in/*.log], mode: \(mode), checkpoint_interval: 100ms}"
        try Driftwood.write(
            """
            data_dir: data
            inputs:
            \(source)
            filters:
              - {type: parse, format: json, remove_source: true}
              - {type: drift, id: drift, baseline: baseline.json, window: \(window), report_every: 50, group_by: model, weighted_threshold: 0.3}
              - {type: monitor, id: monitor, window: 60, report_every: 30, group_by: model, latency: {statistic: p95, threshold: 15}}
            outputs:
              - {type: jsonl, path: out/all.jsonl}
            """, to: "p.yml", in: dir)
    }

    /// Reports and alerts as written, without `@timestamp` (read time: the lines carry none).
    static func derived(_ path: String) throws -> [String] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return text.split(separator: "\n").filter { $0.contains(#""kind":"metric""#) || $0.contains(#""kind":"alert""#) }
            .map { String($0).replacing(/"@timestamp":"[^"]*",?/, with: "") }
    }

    @Test func aRunInTwoPartsReportsAndAlertsAsOneRun() throws {
        let all = Self.lines(0..<3_000)
        let one = try Driftwood.temporaryDirectory()
        try Self.setUp(one, input: "file")
        try FileManager.default.createDirectory(at: one.appendingPathComponent("in"), withIntermediateDirectories: true)
        try Driftwood.write(all.joined(separator: "\n") + "\n", to: "in/app.log", in: one)
        let whole = try Driftwood.run(["run", "p.yml"], directory: one)
        #expect(whole.code == 0, "\(whole.stderr)")

        let two = try Driftwood.temporaryDirectory()
        try Self.setUp(two, input: "file")
        try FileManager.default.createDirectory(at: two.appendingPathComponent("in"), withIntermediateDirectories: true)
        try Driftwood.write(all[..<1_234].joined(separator: "\n") + "\n", to: "in/app.log", in: two)
        let first = try Driftwood.run(["run", "p.yml"], directory: two)
        #expect(first.code == 0, "\(first.stderr)")
        #expect(first.stderr.contains("starting with empty state: no saved state"), "\(first.stderr)")
        #expect(FileManager.default.fileExists(atPath: two.appendingPathComponent("data/state/drift").path))
        #expect(FileManager.default.fileExists(atPath: two.appendingPathComponent("data/state/monitor").path))
        try FileLogs.append(all[1_234...].joined(separator: "\n") + "\n", to: two.appendingPathComponent("in/app.log").path)
        let second = try Driftwood.run(["run", "p.yml"], directory: two)
        #expect(second.code == 0, "\(second.stderr)")
        #expect(second.stderr.components(separatedBy: "state restored").count == 3, "\(second.stderr)")

        let expected = try Self.derived(one.appendingPathComponent("out/all.jsonl").path)
        let got = try Self.derived(two.appendingPathComponent("out/all.jsonl").path)
        #expect(expected.filter { $0.contains("driftwood.drift") }.count > 40)
        #expect(expected.filter { $0.contains("driftwood.monitor") }.count > 80)
        #expect(expected.filter { $0.contains(#""kind":"alert""#) }.count >= 4)
        #expect(got == expected)
        // Every event once.
        let events = try Driftwood.jsonLines(two.appendingPathComponent("out/all.jsonl").path).compactMap { $0["i"] as? Int }
        #expect(events == Array(0..<3_000))
    }

    @Test func killDashNineThenRestartLosesNothing() throws {
        let dir = try Driftwood.temporaryDirectory()
        try Self.setUp(dir, input: "file", mode: "tail")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("in"), withIntermediateDirectories: true)
        let log = dir.appendingPathComponent("in/app.log").path
        let all = Self.lines(0..<4_000)
        try Driftwood.write(all[..<2_000].joined(separator: "\n") + "\n", to: "in/app.log", in: dir)
        let out = dir.appendingPathComponent("out/all.jsonl").path
        let first = try Driftwood.Running(["run", "p.yml"], directory: dir)
        #expect(FileLogs.waitForLines(out, count: 1_500))
        kill(first.pid, SIGKILL)
        first.wait(timeout: 10)
        try FileLogs.append(all[2_000...].joined(separator: "\n") + "\n", to: log)
        let second = try Driftwood.Running(["run", "p.yml"], directory: dir)
        var done = false
        for _ in 0..<600 {
            if let events = try? Driftwood.jsonLines(out), events.contains(where: { $0["i"] as? Int == 3_999 }) {
                done = true
                break
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
        #expect(done)
        Thread.sleep(forTimeInterval: 0.5)
        kill(second.pid, SIGTERM)
        #expect(second.wait(timeout: 30) == 0)
        #expect(second.stderr.contains("state restored"), "\(second.stderr)")
        let written = try Driftwood.jsonLines(out)
        let events = written.compactMap { $0["i"] as? Int }
        #expect(Set(events) == Set(0..<4_000))  // no event lost
        // Each drift report's `scored`: at least the group's distinct events before it (none lost
        // from the windows), at most the group's events written before it (re-read ones twice).
        var seen: [String: (distinct: Set<Int>, written: Int)] = [:]
        var checked = 0
        for e in written {
            if let i = e["i"] as? Int, let model = e["model"] as? String {
                seen[model, default: ([], 0)].distinct.insert(i)
                seen[model, default: ([], 0)].written += 1
            } else if let d = e["drift"] as? [String: Any], let group = d["group"] as? String, let scored = d["scored"] as? Int {
                let s = seen[group]!
                #expect(scored >= s.distinct.count && scored <= s.written, "\(group) \(scored) \(s.distinct.count) \(s.written)")
                checked += 1
            }
        }
        #expect(checked > 60)
    }

    @Test func aStateThatDoesNotFitStartsEmptyWithItsReason() throws {
        let dir = try Driftwood.temporaryDirectory()
        try Self.setUp(dir, input: "stdin")
        let part = Data((Self.lines(0..<400).joined(separator: "\n") + "\n").utf8)
        func run() throws -> (String, [Int]) {
            try? FileManager.default.removeItem(at: dir.appendingPathComponent("out"))
            let r = try Driftwood.run(["run", "p.yml"], stdin: part, directory: dir)
            #expect(r.code == 0, "\(r.stderr)")
            let scored = try Driftwood.jsonLines(dir.appendingPathComponent("out/all.jsonl").path)
                .compactMap { ($0["drift"] as? [String: Any])?["scored"] as? Int }
            return (r.stderr, scored)
        }
        let fresh = try run()
        #expect(fresh.1.first == 100)
        let resumed = try run()
        #expect(resumed.0.contains("state restored"))
        #expect(resumed.1.first == 250)  // 200 + 50 per group
        let state = dir.appendingPathComponent("data/state/drift")
        // Corrupt: one byte changed.
        var bytes = try Data(contentsOf: state)
        bytes[bytes.count / 2] ^= 0xff
        try bytes.write(to: state)
        let corrupt = try run()
        #expect(corrupt.0.contains("starting with empty state: the state file is corrupt"), "\(corrupt.0)")
        #expect(corrupt.1.first == 100)
        // Truncated.
        bytes = try Data(contentsOf: state)
        try bytes.prefix(bytes.count / 3).write(to: state)
        let truncated = try run()
        #expect(truncated.0.contains("starting with empty state: the state file is truncated"), "\(truncated.0)")
        #expect(truncated.1.first == 100)
        // Not a state file at all.
        try Data("hello".utf8).write(to: state)
        let garbage = try run()
        #expect(garbage.0.contains("starting with empty state: the state file is not a driftwood state file"), "\(garbage.0)")
        // A changed window.
        _ = try run()
        try Self.writePipeline(dir, input: "stdin", window: 120)
        let changed = try run()
        #expect(changed.0.contains("starting with empty state: the stage's configuration or baseline changed"), "\(changed.0)")
        #expect(changed.1.first == 150)
        // A changed baseline (same name, other content).
        _ = try run()
        let made = try Driftwood.run(
            ["baseline", "--input", "ref.jsonl", "--features", "x", "--bins", "5", "--output", "baseline.json"], directory: dir)
        #expect(made.code == 0)
        let rebased = try run()
        #expect(rebased.0.contains("starting with empty state: the stage's configuration or baseline changed"), "\(rebased.0)")
        #expect(rebased.1.first == 150)
        // The monitor's state was kept through all of it (its config never changed).
        #expect(rebased.0.components(separatedBy: "state restored").count == 2, "\(rebased.0)")
    }
}
