import Foundation
import Testing

/// What happens to files under driftwood, through the real binary: truncation during a replay,
/// a path swapped for a FIFO, a full disk under the JSONL output, checkpoints that cannot be
/// saved, deleted files' metric series, symbolic links, control characters in file names.
@Suite(.serialized) struct FileHardeningTests {
    /// Numbered JSON lines with a pseudo-random hex pad (`padBytes` bytes of it, so gzip cannot
    /// squeeze them much), and the input offset after each line.
    static func lines(_ count: Int, padBytes: Int = 32) -> (text: String, ends: [Int]) {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        var text = ""
        var ends: [Int] = []
        ends.reserveCapacity(count)
        text.reserveCapacity(count * (padBytes * 2 + 40))
        for n in 0..<count {
            var pad = ""
            for _ in 0..<(padBytes / 8) {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                pad += String(state >> 1, radix: 16).leftPadded(16)
            }
            text += #"{"n":\#(n),"pad":"\#(pad)"}"# + "\n"
            ends.append(text.utf8.count)
        }
        return (text, ends)
    }

    static func pipeline(_ input: String, output: String, top: String = "", in dir: URL) throws -> String {
        try Driftwood.write(
            """
            shutdown_timeout: 20s
            data_dir: state
            \(top)
            inputs:
              - type: file
            \(input.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n"))
            filters: [{type: parse, format: json}]
            outputs:
              - type: jsonl
            \(output.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n"))
            """, to: "p.yml", in: dir)
    }

    static func stop(_ running: Driftwood.Running) -> Int32? {
        kill(running.pid, SIGTERM)
        return running.wait(timeout: 30)
    }

    // MARK: 1. Truncation during a read-mode replay

    @Test func truncatingAFileDuringAReplayDoesNotCrash() throws {
        let dir = try Driftwood.temporaryDirectory()
        let log = dir.appendingPathComponent("big.log").path
        let total = 600_000
        try Self.lines(total, padBytes: 8).text.write(toFile: log, atomically: false, encoding: .utf8)
        let p = try Self.pipeline("paths: [big.log]\nmode: read", output: "path: out.jsonl", in: dir)
        let running = try Driftwood.Running(["run", p], directory: dir)
        let out = dir.appendingPathComponent("out.jsonl").path
        #expect(FileLogs.waitForLines(out, count: 1000, timeout: 60))
        #expect(!running.stderr.contains("replay read every file"), "the replay ended before the truncation")
        // `: > big.log`, mid-replay.
        #expect(truncate(log, 0) == 0)
        let code = running.wait(timeout: 90)
        #expect(code == 0, "\(running.stderr.suffix(2000))")
        #expect(running.stderr.contains("file truncated or replaced"))
        #expect(running.stderr.contains("replay read every file"))
        let numbers = try FileLogs.numbers(out)
        let cover = FileLogs.coverage(numbers, of: 0..<total)
        #expect(cover.duplicates == 0)
        #expect(numbers.count < total && numbers.count >= 1000)
    }

    // MARK: 2. A path swapped for a FIFO

    @Test func aPathSwappedForAFIFOIsSkippedNotWaitedOn() throws {
        let dir = try Driftwood.temporaryDirectory()
        let total = 150_000
        try Self.lines(total, padBytes: 8).text.write(
            to: dir.appendingPathComponent("a.log"), atomically: false, encoding: .utf8)
        let z = dir.appendingPathComponent("z.log").path
        try FileLogs.append(#"{"n":-1}"# + "\n", to: z)
        let p = try Self.pipeline("paths: [\"*.log\"]\nmode: read", output: "path: out.jsonl", in: dir)
        let running = try Driftwood.Running(["run", p], directory: dir)
        let out = dir.appendingPathComponent("out.jsonl").path
        // The scan saw z.log as a regular file; while a.log is replayed, z.log becomes a FIFO
        // nobody writes to. Opening it the usual way blocks forever.
        #expect(FileLogs.waitForLines(out, count: 1000, timeout: 60))
        #expect(unlink(z) == 0)
        #expect(mkfifo(z, 0o644) == 0)
        let code = running.wait(timeout: 90)
        #expect(code == 0, "\(running.stderr.suffix(2000))")
        #expect(running.stderr.contains("not a regular file (a FIFO); skipped"), "\(running.stderr.suffix(2000))")
        let cover = FileLogs.coverage(try FileLogs.numbers(out), of: 0..<total)
        #expect(cover.missing.isEmpty && cover.duplicates == 0)
    }

    // MARK: 3, 4. A full disk under the JSONL output

    /// Fills a 2 MiB tmpfs with the JSONL output, checks what is on it while it is full (every
    /// line whole, or every gzip member complete; the checkpoint not past what is readable), then
    /// makes room and checks every line arrives exactly once.
    func fillTheDisk(gzip: Bool) throws {
        let dir = try Driftwood.temporaryDirectory()
        let disk = try Tmpfs(at: dir.appendingPathComponent("disk").path, size: "2m")
        defer { disk.unmount() }
        let total = gzip ? 60_000 : 12_000
        let (text, ends) = Self.lines(total, padBytes: gzip ? 64 : 32)
        try text.write(to: dir.appendingPathComponent("in.log"), atomically: false, encoding: .utf8)
        let outPath = disk.path + (gzip ? "/out.jsonl.gz" : "/out.jsonl")
        let p = try Self.pipeline(
            "paths: [in.log]", output: "path: \(outPath)\ncompression: \(gzip ? "gzip" : "none")", in: dir)
        let running = try Driftwood.Running(["run", p], directory: dir)
        defer { _ = running.wait(timeout: 0) }

        func readable() -> (numbers: [Int]?, error: String) {
            let text: String
            if gzip {
                let (decoded, error) = Tmpfs.gunzip(outPath)
                guard let decoded else { return (nil, "gzip: \(error)") }
                text = decoded
            } else {
                guard let data = FileManager.default.contents(atPath: outPath) else { return ([], "") }
                if let last = data.last, last != 0x0A { return (nil, "the file ends in a torn line") }
                text = String(decoding: data, as: UTF8.self)
            }
            var numbers: [Int] = []
            for line in text.split(separator: "\n") {
                guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                    let n = object["n"] as? Int
                else { return (nil, "a line that is not an event: \(line.prefix(80))") }
                numbers.append(n)
            }
            return (numbers, "")
        }

        #expect(FileHardeningTests.waitForLog(running, "output failed; retrying", timeout: 60), "\(running.stderr.suffix(1500))")
        // Full for a while: retries fail, checkpoints are saved meanwhile.
        Thread.sleep(forTimeInterval: 2.5)
        let (whileFull, why) = readable()
        #expect(whileFull != nil, "while the disk is full: \(why)")
        if let whileFull {
            #expect(whileFull == Array(0..<whileFull.count), "lines repeated or out of order while the disk is full")
            let state = (try? String(contentsOf: dir.appendingPathComponent("state/checkpoints.json"), encoding: .utf8)) ?? ""
            let offset = Int(state.firstMatch(of: /"offset":(\d+)/)?.1 ?? "0") ?? 0
            let readableEnd = whileFull.isEmpty ? 0 : ends[whileFull.count - 1]
            #expect(offset <= readableEnd, "the checkpoint (\(offset)) is past what the output holds (\(readableEnd))")
        }
        // Room again: the retry writes the rest.
        #expect(disk.resize("256m"))
        let done = MetricsScrape.eventually(timeout: 90) { (readable().numbers?.count ?? 0) >= total }
        #expect(done, "\(running.stderr.suffix(1500))")
        Thread.sleep(forTimeInterval: 0.5)
        #expect(Self.stop(running) == 0)
        let (final, finalWhy) = readable()
        #expect(final != nil, "\(finalWhy)")
        let cover = FileLogs.coverage(final ?? [], of: 0..<total)
        #expect(cover.missing.isEmpty, "missing \(cover.missing.count)")
        #expect(cover.duplicates == 0, "duplicates \(cover.duplicates)")
    }

    static func waitForLog(_ running: Driftwood.Running, _ text: String, timeout: Double = 30) -> Bool {
        MetricsScrape.eventually(timeout: timeout) { running.stderr.contains(text) }
    }

    @Test func aFullDiskLeavesGzipOutputReadableAndAcknowledgesNothingUnreadable() throws {
        do { try fillTheDisk(gzip: true) } catch let error as Tmpfs.Unavailable {
            Issue.record("skipped: \(error)")
        }
    }

    @Test func aFullDiskNeitherTearsNorRepeatsPlainLines() throws {
        do { try fillTheDisk(gzip: false) } catch let error as Tmpfs.Unavailable {
            Issue.record("skipped: \(error)")
        }
    }

    @Test func aFullDiskNeitherTearsNorRepeatsDeadLetters() throws {
        let disk: Tmpfs
        let dir = try Driftwood.temporaryDirectory()
        do { disk = try Tmpfs(at: dir.appendingPathComponent("disk").path, size: "2m") } catch let error as Tmpfs.Unavailable {
            Issue.record("skipped: \(error)")
            return
        }
        defer { disk.unmount() }
        let osmem = try Osmem.start()
        defer { osmem.stop() }
        let template = Driftwood.packageRoot.appendingPathComponent("templates/model-logs.json").path
        // Every document has a latency the template maps as a number: all are dead letters,
        // ~3 MB of them for a 2 MiB disk.
        let total = 6000
        let p = try Driftwood.write(
            ElasticsearchOutputTests.pipeline(
                hosts: [osmem.url],
                """
                index: "model-logs-%{+yyyy.MM.dd}"
                template: {name: model-logs, file: "\(template)"}
                batch: {max_events: 200}
                dead_letter: {path: "\(disk.path)/dlq.jsonl"}
                \(ElasticsearchOutputTests.fast)
                """), to: "p.yml", in: dir)
        let running = try Driftwood.Running(["run", p, "--data-dir", "state"], directory: dir)
        defer { _ = running.wait(timeout: 0) }
        _ = running.feed(ElasticsearchOutputTests.lines(total, bad: { _ in true }))
        func deadLetters() -> (numbers: [Int]?, error: String) {
            guard let data = FileManager.default.contents(atPath: disk.path + "/dlq.jsonl") else { return ([], "") }
            if let last = data.last, last != 0x0A { return (nil, "the file ends in a torn line") }
            var numbers: [Int] = []
            for line in data.split(separator: 0x0A) {
                guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
                    let original = (object["event"] as? [String: Any])?["original"] as? String,
                    let event = try? JSONSerialization.jsonObject(with: Data(original.utf8)) as? [String: Any],
                    let n = event["n"] as? Int
                else { return (nil, "a line that is not a dead letter: \(String(decoding: line.prefix(80), as: UTF8.self))") }
                numbers.append(n)
            }
            return (numbers, "")
        }
        #expect(Self.waitForLog(running, "cannot write the dead-letter file", timeout: 90), "\(running.stderr.suffix(1500))")
        Thread.sleep(forTimeInterval: 1.5)
        let (whileFull, why) = deadLetters()
        #expect(whileFull != nil, "while the disk is full: \(why)")
        #expect(FileLogs.coverage(whileFull ?? [], of: 0..<total).duplicates == 0)
        #expect(disk.resize("256m"))
        let code = running.wait(timeout: 120)
        #expect(code == 0, "\(running.stderr.suffix(1500))")
        let (final, finalWhy) = deadLetters()
        #expect(final != nil, "\(finalWhy)")
        let cover = FileLogs.coverage(final ?? [], of: 0..<total)
        #expect(cover.missing.isEmpty, "missing \(cover.missing.count)")
        #expect(cover.duplicates == 0, "duplicates \(cover.duplicates)")
    }

    // MARK: 5. Checkpoints that cannot be saved

    @Test func failingCheckpointSavesAreCountedLoggedShownAndFailTheExit() throws {
        let dir = try Driftwood.temporaryDirectory()
        let log = dir.appendingPathComponent("app.log").path
        try FileLogs.append(FileLogs.lines(0..<200), to: log)
        // The temporary file every save goes through is a directory: no save can succeed (as
        // root too, unlike permissions).
        try FileManager.default.createDirectory(
            at: dir.appendingPathComponent("state/checkpoints.json.tmp"), withIntermediateDirectories: true)
        let p = try Self.pipeline(
            "paths: [app.log]\nscan_interval: 100ms\ncheckpoint_interval: 200ms", output: "path: out.jsonl", in: dir)
        let running = try Driftwood.Running(["run", p, "--metrics-address", "127.0.0.1:0"], directory: dir)
        defer { _ = running.wait(timeout: 0) }
        let base = try running.metricsBase()
        let out = dir.appendingPathComponent("out.jsonl").path
        #expect(FileLogs.waitForLines(out, count: 200))
        // Each acknowledgement makes a save that fails.
        for k in 1...5 {
            try FileLogs.append(FileLogs.lines((200 * k)..<(200 * k + 200)), to: log)
            Thread.sleep(forTimeInterval: 0.4)
        }
        var failures = 0.0
        #expect(try MetricsScrape.eventually(timeout: 20) {
            failures = try MetricsScrape.metrics(base)["driftwood_checkpoint_failures_total"] ?? 0
            return failures >= 3
        }, "failures counted: \(failures)")
        let (status, health) = try MetricsScrape.health(base)
        #expect(status == 200)
        #expect(health["status"] as? String == "degraded")
        let checkpoints = health["checkpoints"] as? [String: Any]
        #expect(checkpoints?["state"] as? String == "failing")
        #expect((checkpoints?["last_error"] as? String)?.contains("checkpoints.json.tmp") == true)
        #expect(running.stderr.contains("cannot save checkpoints"))
        let code = Self.stop(running)
        #expect(code == 1, "\(running.stderr.suffix(1500))")
        #expect(running.stderr.contains("the last checkpoint save failed"))
        #expect(!running.stderr.contains("pipeline finished"))

        // Once saves work again, a run ends 0 and /health is ok.
        try FileManager.default.removeItem(at: dir.appendingPathComponent("state/checkpoints.json.tmp"))
        let again = try Driftwood.Running(["run", p, "--metrics-address", "127.0.0.1:0"], directory: dir)
        defer { _ = again.wait(timeout: 0) }
        let base2 = try again.metricsBase()
        #expect(FileLogs.waitForLines(out, count: 2400))
        #expect(MetricsScrape.eventually(timeout: 30) {
            FileManager.default.fileExists(atPath: dir.appendingPathComponent("state/checkpoints.json").path)
        })
        #expect(try MetricsScrape.health(base2).json["status"] as? String == "ok")
        #expect(Self.stop(again) == 0, "\(again.stderr.suffix(1500))")
    }

    // MARK: 11. Metric series of deleted files

    @Test func offsetSeriesOfDeletedFilesAreRemoved() throws {
        let dir = try Driftwood.temporaryDirectory()
        let logs = dir.appendingPathComponent("logs")
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        for k in 0..<30 {
            try FileLogs.append(FileLogs.lines((k * 10)..<(k * 10 + 10)), to: logs.appendingPathComponent("f\(k).log").path)
        }
        let p = try Self.pipeline("paths: [\"logs/*.log\"]\nscan_interval: 100ms", output: "path: out.jsonl", in: dir)
        let running = try Driftwood.Running(["run", p, "--metrics-address", "127.0.0.1:0"], directory: dir)
        defer { _ = running.wait(timeout: 0) }
        let base = try running.metricsBase()
        func series() throws -> [String] {
            try MetricsScrape.metrics(base).keys.filter { $0.hasPrefix("driftwood_file_offset_bytes{") }.sorted()
        }
        var seen: [String] = []
        #expect(try MetricsScrape.eventually(timeout: 30) {
            seen = try series()
            return seen.count == 30
        }, "\(seen)")
        // 20 of them deleted: their series go once they are released; the others stay.
        for k in 0..<20 { try FileManager.default.removeItem(at: logs.appendingPathComponent("f\(k).log")) }
        #expect(try MetricsScrape.eventually(timeout: 30) {
            seen = try series()
            return seen.count == 10
        }, "\(seen)")
        #expect(seen.allSatisfy { s in (20..<30).contains { s.contains("/f\($0).log\"") } }, "\(seen)")
        // A new file at a deleted file's path gets its series back.
        try FileLogs.append(FileLogs.lines(1000..<1010), to: logs.appendingPathComponent("f3.log").path)
        #expect(try MetricsScrape.eventually(timeout: 30) { try series().contains { $0.contains("/f3.log\"") } })
        #expect(Self.stop(running) == 0)
    }

    @Test func aFileThatStartsLikeAnotherIsReadAtOnce() throws {
        let dir = try Driftwood.temporaryDirectory()
        let logs = dir.appendingPathComponent("logs")
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        try FileLogs.append(FileLogs.lines(0..<100), to: logs.appendingPathComponent("a.log").path)
        let p = try Self.pipeline("paths: [\"logs/*.log\"]\nscan_interval: 100ms", output: "path: out.jsonl", in: dir)
        let running = try Driftwood.Running(["run", p], directory: dir)
        defer { _ = running.wait(timeout: 0) }
        let out = dir.appendingPathComponent("out.jsonl").path
        #expect(FileLogs.waitForLines(out, count: 100))
        // The same first 50 lines, under a name no rotation gives: another file, not a copy.
        try FileLogs.append(FileLogs.lines(0..<50), to: logs.appendingPathComponent("b.log").path)
        #expect(FileLogs.waitForLines(out, count: 150, timeout: 30), "\(running.stderr.suffix(1000))")
        #expect(Self.stop(running) == 0)
        #expect(try FileLogs.numbers(out).count == 150)
    }

    // MARK: 18. Symbolic links

    @Test func symlinksAreSkippedUnlessFollowedAndALinkedFileIsOneFile() throws {
        let dir = try Driftwood.temporaryDirectory()
        let logs = dir.appendingPathComponent("logs")
        let elsewhere = dir.appendingPathComponent("elsewhere")
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: elsewhere, withIntermediateDirectories: true)
        let secret = elsewhere.appendingPathComponent("shadow").path
        try FileLogs.append(#"{"n":-1,"secret":"root:$6$hash"}"# + "\n", to: secret)
        let target = elsewhere.appendingPathComponent("pod-0.log").path
        try FileLogs.append(FileLogs.lines(0..<100), to: target)
        try FileLogs.append(FileLogs.lines(100..<110), to: logs.appendingPathComponent("plain.log").path)
        #expect(symlink(secret, logs.appendingPathComponent("shadow.log").path) == 0)
        #expect(symlink(target, logs.appendingPathComponent("a.log").path) == 0)
        #expect(symlink(target, logs.appendingPathComponent("b.log").path) == 0)
        let out = dir.appendingPathComponent("out.jsonl").path

        // Default: links are not read.
        let p = try Self.pipeline("paths: [\"logs/*.log\"]\nscan_interval: 100ms", output: "path: out.jsonl", in: dir)
        let running = try Driftwood.Running(["run", p], directory: dir)
        #expect(FileLogs.waitForLines(out, count: 10))
        Thread.sleep(forTimeInterval: 1)
        #expect(Self.stop(running) == 0)
        #expect(try FileLogs.numbers(out).sorted() == Array(100..<110))
        #expect(running.stderr.contains("symbolic link skipped"))
        #expect(!(try String(contentsOfFile: out, encoding: .utf8)).contains("secret"))

        // follow_symlinks: true (as for /var/log/containers/*.log): the file two links reach is
        // read once, always under the same path.
        try FileManager.default.removeItem(atPath: out)
        try FileManager.default.removeItem(at: logs.appendingPathComponent("shadow.log"))
        let followed = try Self.pipeline(
            "paths: [\"logs/*.log\"]\nscan_interval: 100ms\nfollow_symlinks: true", output: "path: out.jsonl", in: dir)
        let second = try Driftwood.Running(["run", followed, "--data-dir", "state2"], directory: dir)
        #expect(FileLogs.waitForLines(out, count: 110))
        try FileLogs.append(FileLogs.lines(200..<300), to: target)
        #expect(FileLogs.waitForLines(out, count: 210))
        Thread.sleep(forTimeInterval: 1)
        #expect(Self.stop(second) == 0)
        let events = try Driftwood.jsonLines(out)
        let cover = FileLogs.coverage(events.compactMap { $0["n"] as? Int }, of: 0..<110)
        #expect(cover.missing.isEmpty && cover.duplicates == 0 && events.count == 210)
        let linked = events.filter { ($0["n"] as? Int).map { $0 < 100 || $0 >= 200 } ?? false }
        let paths = Set(linked.compactMap { (($0["log"] as? [String: Any])?["file"] as? [String: Any])?["path"] as? String })
        #expect(paths == [logs.appendingPathComponent("a.log").path], "\(paths)")
        #expect(!second.stderr.contains("file renamed"))
    }

    // MARK: 20. Control characters in a JSONL file name

    @Test func controlCharactersInATemplatedFileNameAreReplaced() throws {
        let dir = try Driftwood.temporaryDirectory()
        let p = try Driftwood.write(
            """
            data_dir: state
            inputs: [{type: stdin}]
            filters: [{type: parse, format: json}]
            outputs: [{type: jsonl, path: "out/%{model}.jsonl"}]
            """, to: "p.yml", in: dir)
        let input = #"{"model":"fraud\nv2","n":1}"# + "\n" + #"{"model":"a\u001b[31mb\tc","n":2}"# + "\n"
        let result = try Driftwood.run(["run", p], stdin: Data(input.utf8), directory: dir)
        #expect(result.code == 0, "\(result.stderr)")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("out").path).sorted()
        #expect(names == ["a_[31mb_c.jsonl", "fraud_v2.jsonl"], "\(names)")
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
