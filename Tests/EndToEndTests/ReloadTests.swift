import Foundation
import Testing

/// Reloading a running pipeline (SIGHUP, `run --watch`), through the real binary: nothing lost
/// or repeated, events take the stages in effect when they were read, bad files change nothing,
/// state survives where the configuration did not change.
@Suite struct ReloadTests {
    /// Appends `{"n":…}` lines to a file, `linesPerWrite` every `pause` seconds, until stopped.
    final class Writer: @unchecked Sendable {
        private let lock = NSLock()
        private var stopped = false
        private var written = 0
        private let done = DispatchSemaphore(value: 0)

        /// The default, ~2,000 lines a second, is what the debug build the tests run keeps up with
        /// on two busy cores (a backlog would only make each reload wait for it).
        init(path: String, linesPerWrite: Int = 10, pause: Double = 0.005) {
            FileManager.default.createFile(atPath: path, contents: nil)
            let thread = Thread { [self] in
                let handle = FileHandle(forWritingAtPath: path)!
                handle.seekToEndOfFile()
                var n = 0
                while !lock.withLock({ stopped }) {
                    var chunk = ""
                    for _ in 0..<linesPerWrite {
                        chunk += #"{"n":\#(n)}"# + "\n"
                        n += 1
                    }
                    handle.write(Data(chunk.utf8))
                    lock.withLock { written = n }
                    Thread.sleep(forTimeInterval: pause)
                }
                try? handle.close()
                done.signal()
            }
            thread.start()
        }

        /// Stops and returns how many lines were written.
        func stop() -> Int {
            lock.withLock { stopped = true }
            done.wait()
            return lock.withLock { written }
        }
    }

    /// Reload outcomes logged so far (applied, unchanged or failed).
    static func reloads(_ running: Driftwood.Running) -> Int {
        let log = running.stderr
        return ["reloaded: ", "reload: nothing changed", "reload failed"].reduce(0) {
            $0 + log.components(separatedBy: $1).count - 1
        }
    }

    /// Sends SIGHUP and waits until the reload has been logged.
    static func hangUp(_ running: Driftwood.Running) {
        let before = reloads(running)
        kill(running.pid, SIGHUP)
        #expect(MetricsScrape.eventually(timeout: 20) { reloads(running) > before }, "\(running.stderr.suffix(2000))")
    }

    /// Waits until `path` holds an event with `n == last`.
    static func waitFor(_ last: Int, in path: String, timeout: Double = 60) -> Bool {
        MetricsScrape.eventually(timeout: timeout) {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return false }
            return text.contains(#""n":\#(last)}"#) || text.contains(#""n":\#(last),"#)
        }
    }

    @Test func aHundredReloadsUnderAFullStreamLoseAndRepeatNothing() throws {
        let dir = try Driftwood.temporaryDirectory()
        func pipeline(tagged: Bool) -> String {
            """
            data_dir: data
            metrics: {address: "127.0.0.1:0"}
            inputs:
              - {type: file, id: logs, paths: [\(dir.path)/app.log], mode: tail}
            filters:
              - {type: parse, format: json, remove_source: true}
            \(tagged ? "  - {type: enrich, id: tag, fields: {tagged: yes}}" : "")
            outputs:
              - {type: jsonl, id: main, path: out/main.jsonl}
            \(tagged ? "" : "  - {type: jsonl, id: extra, path: out/extra.jsonl}")
            """
        }
        _ = try Driftwood.write(pipeline(tagged: true), to: "p.yml", in: dir)
        let writer = Writer(path: dir.appendingPathComponent("app.log").path)
        let running = try Driftwood.Running(["run", "p.yml"], directory: dir)
        let base = try running.metricsBase()
        #expect(MetricsScrape.eventually(timeout: 20) {
            FileManager.default.fileExists(atPath: dir.appendingPathComponent("out/main.jsonl").path)
        })
        for k in 0..<100 {
            _ = try Driftwood.write(pipeline(tagged: k % 2 == 1), to: "p.yml", in: dir)
            Self.hangUp(running)
            Thread.sleep(forTimeInterval: 0.02)
        }
        let total = writer.stop()
        #expect(Self.waitFor(total - 1, in: dir.appendingPathComponent("out/main.jsonl").path))
        let metrics = try MetricsScrape.metrics(base)
        #expect(metrics[#"driftwood_reloads_total{result="ok"}"#] == 100)
        #expect(metrics[#"driftwood_reloads_total{result="failed"}"#] == 0)
        #expect((metrics["driftwood_last_reload_timestamp_seconds"] ?? 0) > 1_700_000_000)
        kill(running.pid, SIGTERM)
        #expect(running.wait(timeout: 30) == 0, "\(running.stderr.suffix(3000))")
        #expect(running.stderr.components(separatedBy: "reloaded: ").count - 1 == 100)

        // Every line once in the first output, in file order.
        let main = try Driftwood.jsonLines(dir.appendingPathComponent("out/main.jsonl").path)
        #expect(main.compactMap { $0["n"] as? Int } == Array(0..<total))
        // The field only on events read while the file that adds it ran: runs of tagged and
        // untagged events. A tail input reads what is new every quarter of a second, so two
        // reloads often fall between two reads and leave no run; many still do.
        var flips = 0
        for (a, b) in zip(main, main.dropFirst()) where (a["tagged"] != nil) != (b["tagged"] != nil) { flips += 1 }
        #expect(flips >= 10, "only \(flips) changes in \(total) events")
        // The extra output holds exactly the events read while it existed: the untagged ones.
        let extra = try Driftwood.jsonLines(dir.appendingPathComponent("out/extra.jsonl").path).compactMap { $0["n"] as? Int }
        let untagged = main.filter { $0["tagged"] == nil }.compactMap { $0["n"] as? Int }
        #expect(extra == untagged)
        #expect(!extra.isEmpty)
    }

    @Test func anInvalidFileChangesNothingAndALaterValidOneApplies() throws {
        let dir = try Driftwood.temporaryDirectory()
        let valid = """
            data_dir: data
            metrics: {address: "127.0.0.1:0"}
            inputs:
              - {type: file, id: logs, paths: [\(dir.path)/app.log], mode: tail}
            filters:
              - {type: parse, format: json, remove_source: true}
            outputs:
              - {type: jsonl, id: main, path: out/main.jsonl}
            """
        _ = try Driftwood.write(valid, to: "p.yml", in: dir)
        let writer = Writer(path: dir.appendingPathComponent("app.log").path, linesPerWrite: 50, pause: 0.01)
        let running = try Driftwood.Running(["run", "p.yml"], directory: dir)
        let base = try running.metricsBase()
        let out = dir.appendingPathComponent("out/main.jsonl").path
        #expect(MetricsScrape.eventually(timeout: 20) { FileManager.default.fileExists(atPath: out) })
        // Three mistakes: an unknown key, a bad regex, a missing baseline.
        _ = try Driftwood.write(
            """
            data_dir: data
            metrics: {address: "127.0.0.1:0"}
            inputs:
              - {type: file, id: logs, paths: [\(dir.path)/app.log], mode: tail, moed: read}
            filters:
              - {type: parse, format: json, remove_source: true}
              - {type: parse, format: regex, pattern: "(unclosed", field: message}
              - {type: drift, baseline: missing-baseline.json}
            outputs:
              - {type: jsonl, id: main, path: out/main.jsonl}
              - {type: jsonl, id: never, path: out/never.jsonl}
            """, to: "p.yml", in: dir)
        Self.hangUp(running)
        let log = running.stderr
        #expect(log.contains("p.yml:4:"), "\(log)")
        #expect(log.contains("unknown key 'moed'"), "\(log)")
        #expect(log.contains("p.yml:7:"), "\(log)")
        #expect(log.contains("p.yml:8:"), "\(log)")
        #expect(log.contains("missing-baseline.json"), "\(log)")
        #expect(log.contains("reload failed"), "\(log)")
        #expect(try MetricsScrape.metrics(base)[#"driftwood_reloads_total{result="failed"}"#] == 1)
        // Events keep flowing, through the running stages.
        let before = try Driftwood.jsonLines(out).count
        #expect(MetricsScrape.eventually(timeout: 20) { ((try? Driftwood.jsonLines(out).count) ?? 0) > before + 500 })
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("out/never.jsonl").path))
        let status = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(string: base + "/api/v1/status")!)) as? [String: Any]
        let last = status?["last_reload"] as? [String: Any]
        #expect(last?["result"] as? String == "failed")
        // The status page says so in its header.
        let failedPage = try StatusFixtures.probe(base + "/", screenshot: try StatusFixtures.artifact("reload-failed.png"))
        #expect((failedPage["values"] as? [String: String])?["reload"] == "failed", "\(failedPage["values"] ?? "")")

        _ = try Driftwood.write(
            valid.replacingOccurrences(
                of: "  - {type: parse, format: json, remove_source: true}",
                with: "  - {type: parse, format: json, remove_source: true}\n  - {type: enrich, fields: {fixed: yes}}"),
            to: "p.yml", in: dir)
        Self.hangUp(running)
        #expect(running.stderr.contains("reloaded: "), "\(running.stderr)")
        #expect(MetricsScrape.eventually(timeout: 20) {
            ((try? Driftwood.jsonLines(out)) ?? []).last?["fixed"] as? Bool == true
        })
        let after = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(string: base + "/api/v1/status")!)) as? [String: Any]
        #expect((after?["last_reload"] as? [String: Any])?["result"] as? String == "ok")
        let page = try StatusFixtures.probe(base + "/", screenshot: try StatusFixtures.artifact("reload-ok.png"))
        let shown = page["values"] as? [String: String] ?? [:]
        #expect(shown["reload"] == "ok" && shown["reload:count"] == "2", "\(shown)")
        #expect((after?["stages"] as? [[String: Any]])?.contains { $0["type"] as? String == "enrich" } == true)
        let total = writer.stop()
        #expect(Self.waitFor(total - 1, in: out))
        kill(running.pid, SIGTERM)
        #expect(running.wait(timeout: 30) == 0)
        let events = try Driftwood.jsonLines(out).compactMap { $0["n"] as? Int }
        #expect(events == Array(0..<total))
    }

    /// Drift over stdin in two halves with a reload between them.
    static func driftRun(reloadedWith change: ((String) -> String)?, in dir: URL) throws -> (stderr: String, derived: [String]) {
        try FilterStateTests.setUp(dir, input: "stdin")
        let all = FilterStateTests.lines(0..<3_000)
        let running = try Driftwood.Running(["run", "p.yml"], directory: dir)
        let first = running.feed(Data((all[..<1_500].joined(separator: "\n") + "\n").utf8), close: false)
        let out = dir.appendingPathComponent("out/all.jsonl").path
        #expect(MetricsScrape.eventually(timeout: 60) {
            first.finished && ((try? String(contentsOfFile: out, encoding: .utf8)) ?? "").contains(#""i":1499}"#)
        })
        if let change {
            let text = try String(contentsOf: dir.appendingPathComponent("p.yml"), encoding: .utf8)
            _ = try Driftwood.write(change(text), to: "p.yml", in: dir)
            hangUp(running)
        }
        _ = running.feed(Data((all[1_500...].joined(separator: "\n") + "\n").utf8))
        #expect(running.wait(timeout: 60) == 0, "\(running.stderr)")
        return (running.stderr, try FilterStateTests.derived(out))
    }

    @Test func driftWindowsSurviveAReloadThatChangesOnlyAnOutput() throws {
        let whole = try Self.driftRun(reloadedWith: nil, in: try Driftwood.temporaryDirectory())
        let reloaded = try Self.driftRun(
            reloadedWith: { $0 + "\n  - {type: jsonl, id: copy, path: out/copy.jsonl}\n" },
            in: try Driftwood.temporaryDirectory())
        #expect(reloaded.stderr.contains("outputs: added copy"), "\(reloaded.stderr)")
        #expect(reloaded.stderr.contains("filters: kept"), "\(reloaded.stderr)")
        #expect(whole.derived.filter { $0.contains("driftwood.drift") }.count > 40)
        #expect(reloaded.derived == whole.derived)
    }

    @Test func aChangedWindowStartsFresh() throws {
        let dir = try Driftwood.temporaryDirectory()
        let reloaded = try Self.driftRun(
            reloadedWith: { $0.replacingOccurrences(of: "window: 100,", with: "window: 120,") }, in: dir)
        #expect(reloaded.stderr.contains("filters: changed drift"), "\(reloaded.stderr)")
        #expect(reloaded.stderr.contains("filter drift changed; it starts with empty state"), "\(reloaded.stderr)")
        // The first drift report after the reload counts from the reload: 150 scored (the first
        // multiple of report_every, 50, once the new window of 120 is full), where the
        // uninterrupted window had scored 750 per group by then.
        var after = false
        var firstScored: [Int] = []
        for e in try Driftwood.jsonLines(dir.appendingPathComponent("out/all.jsonl").path) {
            if let i = e["i"] as? Int, i >= 1_500 { after = true }
            if after, let d = e["drift"] as? [String: Any], let scored = d["scored"] as? Int { firstScored.append(scored) }
        }
        #expect(firstScored.prefix(2) == [150, 150], "\(firstScored.prefix(4))")
    }

    @Test func watchReloadsOnARegistryAndAPipelineFileChange() throws {
        let dir = try Driftwood.temporaryDirectory()
        _ = try Driftwood.write("fraud: v1\n", to: "models.yml", in: dir)
        let pipeline = """
            data_dir: data
            inputs:
              - {type: file, id: logs, paths: [\(dir.path)/app.log], mode: tail}
            filters:
              - {type: parse, format: json, remove_source: true}
              - {type: enrich, fields: {model: fraud}, model_version: {registry: models.yml, name_field: model, target: model_version}}
            outputs:
              - {type: jsonl, id: main, path: out/main.jsonl}
            """
        _ = try Driftwood.write(pipeline, to: "p.yml", in: dir)
        let writer = Writer(path: dir.appendingPathComponent("app.log").path, linesPerWrite: 20, pause: 0.01)
        let running = try Driftwood.Running(["run", "p.yml", "--watch"], directory: dir)
        let out = dir.appendingPathComponent("out/main.jsonl").path
        func last() -> [String: Any]? { ((try? Driftwood.jsonLines(out)) ?? []).last }
        #expect(MetricsScrape.eventually(timeout: 20) { last()?["model_version"] as? String == "v1" })
        _ = try Driftwood.write("fraud: v2\n", to: "models.yml", in: dir)
        #expect(MetricsScrape.eventually(timeout: 20) { last()?["model_version"] as? String == "v2" }, "\(running.stderr)")
        // The enrich filter re-reads its registry by itself too (at most once a second), so v2
        // can come before the watcher's reload, whose log line then follows.
        #expect(MetricsScrape.eventually(timeout: 20) { running.stderr.contains("reload requested") }, "\(running.stderr)")
        // The pipeline file itself, without a signal.
        _ = try Driftwood.write(pipeline.replacingOccurrences(of: "{model: fraud}", with: "{model: fraud, watched: yes}"), to: "p.yml", in: dir)
        #expect(MetricsScrape.eventually(timeout: 20) { last()?["watched"] as? Bool == true }, "\(running.stderr)")
        let total = writer.stop()
        #expect(Self.waitFor(total - 1, in: out))
        kill(running.pid, SIGTERM)
        #expect(running.wait(timeout: 30) == 0)
        let events = try Driftwood.jsonLines(out)
        #expect(events.compactMap { $0["n"] as? Int } == Array(0..<total))
        // v1 until the registry changed; once the reloaded pipeline runs (its events carry
        // `watched`), only v2. The filter workers' copies of the enrich filter share the file and
        // switch within an event of each other, but the batches they hold at that moment are
        // from both sides of it, so around the change v1 and v2 may still meet.
        let versions = events.compactMap { $0["model_version"] as? String }
        #expect(versions.prefix { $0 != "v2" }.allSatisfy { $0 == "v1" } && versions.first == "v1")
        let reloaded = try #require(events.firstIndex { $0["watched"] as? Bool == true })
        #expect(events[reloaded...].allSatisfy { $0["model_version"] as? String == "v2" })
    }

    @Test func elasticsearchAcrossReloadsHoldsEveryEventOnce() throws {
        let server = try Osmem.start()
        defer { server.stop() }
        let dir = try Driftwood.temporaryDirectory()
        func pipeline(_ k: Int) -> String {
            // Every reload changes the filter; every second one the output too (a new one takes
            // over once the old one has delivered what it holds).
            """
            data_dir: data
            inputs:
              - {type: file, id: logs, paths: [\(dir.path)/app.log], mode: tail}
            filters:
              - {type: parse, format: json, remove_source: true}
              - {type: enrich, fields: {round: \(k)}}
            outputs:
              - {type: elasticsearch, id: es, hosts: ["\(server.url)"], index: reload-test, batch: {timeout: \(k % 4 < 2 ? "200ms" : "300ms")}}
            """
        }
        _ = try Driftwood.write(pipeline(0), to: "p.yml", in: dir)
        // Slow enough that the index stays under what one search returns (10,000).
        let writer = Writer(path: dir.appendingPathComponent("app.log").path, linesPerWrite: 10, pause: 0.01)
        let running = try Driftwood.Running(["run", "p.yml"], directory: dir)
        #expect(MetricsScrape.eventually(timeout: 30) { ((try? server.count("reload-test")) ?? 0) > 0 }, "\(running.stderr)")
        for k in 1...12 {
            _ = try Driftwood.write(pipeline(k), to: "p.yml", in: dir)
            Self.hangUp(running)
            Thread.sleep(forTimeInterval: 0.2)
        }
        let total = writer.stop()
        #expect(MetricsScrape.eventually(timeout: 60) { ((try? server.count("reload-test")) ?? 0) >= total })
        kill(running.pid, SIGTERM)
        #expect(running.wait(timeout: 30) == 0, "\(running.stderr.suffix(3000))")
        #expect(running.stderr.contains("outputs: changed es"), "\(running.stderr.suffix(3000))")
        #expect(total < 10_000)
        let docs = try server.documents("reload-test")
        let ns = docs.compactMap { $0["n"] as? Int }
        #expect(docs.count == total)
        #expect(Set(ns) == Set(0..<total))
        #expect(ns.count == total)
    }

    /// SIGTERM right behind a SIGHUP whose file adds an input and an output: the reload either
    /// finishes or is refused, the stop drains what was read and exits 0 well within
    /// `shutdown_timeout` (an input started by the reload is stopped too), and each line the
    /// run delivered is delivered once; a second run reads on from the checkpoints. The delays
    /// land the stop before, inside and after the swap (which takes about a millisecond).
    @Test func aStopDuringAReloadEndsCleanly() throws {
        for delay in [0.0, 0.001, 0.005, 0.03] {
            let dir = try Driftwood.temporaryDirectory()
            func pipeline(second: Bool) -> String {
                """
                data_dir: data
                shutdown_timeout: 20s
                inputs:
                  - {type: file, id: logs, paths: [\(dir.path)/app.log], mode: tail}
                \(second ? "  - {type: file, id: more, paths: [\(dir.path)/more.log], mode: tail}" : "")
                filters:
                  - {type: parse, format: json, remove_source: true}
                outputs:
                  - {type: jsonl, id: main, path: out/main.jsonl}
                \(second ? "  - {type: jsonl, id: extra, path: out/extra.jsonl}" : "")
                """
            }
            _ = try Driftwood.write(pipeline(second: false), to: "p.yml", in: dir)
            let more = Writer(path: dir.appendingPathComponent("more.log").path, linesPerWrite: 5, pause: 0.01)
            let writer = Writer(path: dir.appendingPathComponent("app.log").path)
            let out = dir.appendingPathComponent("out/main.jsonl").path
            var running = try Driftwood.Running(["run", "p.yml"], directory: dir)
            #expect(MetricsScrape.eventually(timeout: 20) { FileLogs.lineCount(out) > 100 })
            _ = try Driftwood.write(pipeline(second: true), to: "p.yml", in: dir)
            kill(running.pid, SIGHUP)
            if delay > 0 { Thread.sleep(forTimeInterval: delay) }
            kill(running.pid, SIGTERM)
            let started = Date()
            #expect(running.wait(timeout: 30) == 0, "delay \(delay): \(running.stderr.suffix(3000))")
            #expect(Date().timeIntervalSince(started) < 10, "delay \(delay): the stop took \(Date().timeIntervalSince(started)) s")
            let log = running.stderr
            #expect(!log.contains("shutdown_timeout passed"), "\(log.suffix(2000))")

            // A second run goes on where the first stopped: nothing lost, nothing twice.
            running = try Driftwood.Running(["run", "p.yml"], directory: dir)
            let total = writer.stop()
            _ = more.stop()
            #expect(Self.waitFor(total - 1, in: out), "delay \(delay): \(running.stderr.suffix(2000))")
            kill(running.pid, SIGTERM)
            #expect(running.wait(timeout: 30) == 0, "\(running.stderr.suffix(2000))")
            let events = try Driftwood.jsonLines(out)
            // main holds app.log's lines, and more.log's read while `more` ran: app.log's
            // are the ones whose source file is app.log.
            let app = events.filter {
                ((($0["log"] as? [String: Any])?["file"] as? [String: Any])?["path"] as? String)?.hasSuffix("/app.log") == true
            }
            #expect(app.compactMap { $0["n"] as? Int } == Array(0..<total), "delay \(delay)")
        }
    }
}
