import Foundation
import Testing

/// The file input through the real binary, on real files: rotation, truncation, deletion,
/// restarts (graceful and `kill -9`), corrupt checkpoints, gzip archives, multiline, many files.
@Suite(.serialized) struct FileInputTests {
    /// A pipeline reading `paths` in `mode`, parsing JSON lines into the root, writing out.jsonl.
    static func pipeline(
        paths: [String], mode: String = "tail", extra: String = "", filters: String = "[{type: parse, format: json}]",
        in dir: URL
    ) throws -> String {
        let list = paths.map { "\"\($0)\"" }.joined(separator: ", ")
        return try Driftwood.write(
            """
            shutdown_timeout: 20s
            inputs:
              - type: file
                paths: [\(list)]
                mode: \(mode)
                scan_interval: 100ms
            \(extra.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n"))
            filters: \(filters)
            outputs: [{type: jsonl, path: out.jsonl}]
            """, to: "p.yml", in: dir)
    }

    /// Waits until driftwood's log (stderr) holds `text`.
    static func waitForLog(_ running: Driftwood.Running, _ text: String, timeout: Double = 30) -> Bool {
        MetricsScrape.eventually(timeout: timeout) { running.stderr.contains(text) }
    }

    static func stop(_ running: Driftwood.Running, signal: Int32 = SIGTERM) -> Int32? {
        kill(running.pid, signal)
        return running.wait(timeout: 30)
    }

    @Test func readModeReadsPlainGzipAndGzipNamedLogThenExits() throws {
        let dir = try Driftwood.temporaryDirectory()
        let logs = dir.appendingPathComponent("archive")
        try FileManager.default.createDirectory(at: logs.appendingPathComponent("2026/11"), withIntermediateDirectories: true)
        try FileLogs.append(FileLogs.lines(0..<100), to: logs.appendingPathComponent("plain.log").path)
        // Two gzip members in one file, and a gzip file whose name says nothing about it.
        var multi = try FileLogs.gzip(FileLogs.lines(100..<150))
        multi.append(try FileLogs.gzip(FileLogs.lines(150..<200)))
        try multi.write(to: logs.appendingPathComponent("2026/11/multi.log.gz"))
        try FileLogs.gzip(FileLogs.lines(200..<300)).write(to: logs.appendingPathComponent("2026/11/disguised.log"))
        let p = try Self.pipeline(paths: ["archive/**/*.log", "archive/**/*.log.gz"], mode: "read", in: dir)
        let result = try Driftwood.run(["run", p], directory: dir)
        #expect(result.code == 0, "\(result.stderr)")
        let out = dir.appendingPathComponent("out.jsonl").path
        let events = try Driftwood.jsonLines(out)
        let cover = FileLogs.coverage(events.compactMap { $0["n"] as? Int }, of: 0..<300)
        #expect(cover.missing.isEmpty && cover.duplicates == 0 && events.count == 300)
        // log.offset counts decompressed bytes; log.file.path is absolute; input.type is file.
        let lineLength = FileLogs.lines(200..<201).utf8.count
        let disguised = events.filter { ($0["n"] as? Int).map { $0 >= 200 } ?? false }
        for e in disguised {
            let log = e["log"] as? [String: Any]
            let path = (log?["file"] as? [String: Any])?["path"] as? String
            #expect(path == logs.appendingPathComponent("2026/11/disguised.log").path)
            let n = e["n"] as! Int
            // Numbers 200..299 are all 3 digits: every line has the same length.
            #expect(log?["offset"] as? Int == (n - 200) * lineLength)
            #expect((e["input"] as? [String: Any])?["type"] as? String == "file")
        }
        #expect(result.stderr.contains("replay read every file"))
    }

    @Test func readModeResumesGzipAtTheRightEventAfterMoreMembers() throws {
        let dir = try Driftwood.temporaryDirectory()
        let archive = dir.appendingPathComponent("a.log.gz")
        try FileLogs.gzip(FileLogs.lines(0..<500)).write(to: archive)
        let p = try Self.pipeline(paths: ["*.log.gz"], mode: "read", in: dir)
        #expect(try Driftwood.run(["run", p], directory: dir).code == 0)
        // A second member appended: the next replay reads only its lines, though the offset
        // it resumes from is in decompressed bytes, inside a compressed stream.
        let handle = try FileHandle(forWritingTo: archive)
        try handle.seekToEnd()
        try handle.write(contentsOf: try FileLogs.gzip(FileLogs.lines(500..<800)))
        try handle.close()
        #expect(try Driftwood.run(["run", p], directory: dir).code == 0)
        let numbers = try FileLogs.numbers(dir.appendingPathComponent("out.jsonl").path)
        let cover = FileLogs.coverage(numbers, of: 0..<800)
        #expect(cover.missing.isEmpty && cover.duplicates == 0 && numbers.count == 800)
    }

    @Test func renameRotationUnderLoadLosesAndRepeatsNothing() throws {
        let dir = try Driftwood.temporaryDirectory()
        let log = dir.appendingPathComponent("app.log").path
        let p = try Self.pipeline(paths: ["app.log"], in: dir)
        let running = try Driftwood.Running(["run", p], directory: dir)
        // 20 rotations of 1,000 lines each, rotated by renaming to a name outside the glob, as
        // logrotate does. (Each file lives a few scan intervals: a file created and rotated
        // away between two scans is never seen by any polling shipper.)
        let total = 20_000
        for chunk in 0..<20 {
            for part in 0..<10 {
                let start = chunk * 1000 + part * 100
                try FileLogs.append(FileLogs.lines(start..<(start + 100)), to: log)
                Thread.sleep(forTimeInterval: 0.03)
            }
            try FileManager.default.moveItem(atPath: log, toPath: log + ".\(chunk)")
        }
        let out = dir.appendingPathComponent("out.jsonl").path
        FileLogs.waitForLines(out, count: total, timeout: 60)
        Thread.sleep(forTimeInterval: 0.5)
        #expect(Self.stop(running) == 0)
        let cover = FileLogs.coverage(try FileLogs.numbers(out), of: 0..<total)
        #expect(cover.missing.isEmpty, "missing \(cover.missing.count), e.g. \(cover.missing.prefix(5))")
        #expect(cover.duplicates == 0)
    }

    @Test func copyTruncateRestartsAtZero() throws {
        let dir = try Driftwood.temporaryDirectory()
        let log = dir.appendingPathComponent("app.log").path
        let out = dir.appendingPathComponent("out.jsonl").path
        let p = try Self.pipeline(paths: ["app.log"], in: dir)
        let running = try Driftwood.Running(["run", p], directory: dir)
        try FileLogs.append(FileLogs.lines(0..<500), to: log)
        #expect(FileLogs.waitForLines(out, count: 500))
        // copytruncate: copy aside, truncate in place, the application keeps appending.
        try FileManager.default.copyItem(atPath: log, toPath: dir.appendingPathComponent("app.log.1").path)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        try handle.truncate(atOffset: 0)
        try handle.close()
        try FileLogs.append(FileLogs.lines(500..<520), to: log)
        #expect(FileLogs.waitForLines(out, count: 520))
        // And again, this time growing past the old size before driftwood looks.
        let handle2 = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        try handle2.truncate(atOffset: 0)
        try handle2.close()
        try FileLogs.append(FileLogs.lines(1000..<1600), to: log)
        #expect(FileLogs.waitForLines(out, count: 1120))
        Thread.sleep(forTimeInterval: 0.3)
        #expect(Self.stop(running) == 0)
        let numbers = try FileLogs.numbers(out)
        let expected = Array(0..<520) + Array(1000..<1600)
        #expect(numbers.sorted() == expected)
    }

    @Test func deletedFileIsDrainedThroughItsOpenHandle() throws {
        let dir = try Driftwood.temporaryDirectory()
        let log = dir.appendingPathComponent("app.log").path
        let out = dir.appendingPathComponent("out.jsonl").path
        let p = try Self.pipeline(paths: ["*.log"], in: dir)
        let running = try Driftwood.Running(["run", p], directory: dir)
        try FileLogs.append(FileLogs.lines(0..<10), to: log)
        #expect(FileLogs.waitForLines(out, count: 10))
        // Written and deleted at once: only the handle driftwood holds can still read it.
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        try FileManager.default.removeItem(atPath: log)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(FileLogs.lines(10..<5000).utf8))
        try handle.close()
        #expect(FileLogs.waitForLines(out, count: 5000))
        #expect(Self.stop(running) == 0)
        let cover = FileLogs.coverage(try FileLogs.numbers(out), of: 0..<5000)
        #expect(cover.missing.isEmpty && cover.duplicates == 0)
    }

    @Test func twoFilesWithIdenticalContentAreTwoFiles() throws {
        let dir = try Driftwood.temporaryDirectory()
        let same = FileLogs.lines(0..<50)
        try FileLogs.append(same, to: dir.appendingPathComponent("a.log").path)
        try FileLogs.append(same, to: dir.appendingPathComponent("b.log").path)
        let p = try Self.pipeline(paths: ["*.log"], mode: "read", in: dir)
        #expect(try Driftwood.run(["run", p], directory: dir).code == 0)
        let events = try Driftwood.jsonLines(dir.appendingPathComponent("out.jsonl").path)
        #expect(events.count == 100)
        let paths = Set(events.compactMap { (($0["log"] as? [String: Any])?["file"] as? [String: Any])?["path"] as? String })
        #expect(paths.count == 2)
    }

    /// A checkpoint for this device and inode whose fingerprint is another file's (the inode was
    /// reused): the file is read from 0. With its own fingerprint, it resumes at the offset.
    @Test func inodeReuseIsNotMistakenForTheOldFile() throws {
        let dir = try Driftwood.temporaryDirectory()
        let log = dir.appendingPathComponent("app.log").path
        try FileLogs.append(FileLogs.lines(0..<100), to: log)
        let p = try Self.pipeline(paths: ["app.log"], mode: "read", in: dir)
        #expect(try Driftwood.run(["run", p], directory: dir).code == 0)
        let checkpoints = dir.appendingPathComponent(".driftwood/p/checkpoints.json")
        let saved = try String(contentsOf: checkpoints, encoding: .utf8)
        #expect(saved.contains("\"offset\":\(FileLogs.lines(0..<100).utf8.count)"))
        // Same inode, other content: rewrite the file in place with new lines.
        let fresh = FileLogs.lines(1000..<1100)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        try handle.truncate(atOffset: 0)
        try handle.write(contentsOf: Data(fresh.utf8))
        try handle.close()
        #expect(try Driftwood.run(["run", p], directory: dir).code == 0)
        let numbers = try FileLogs.numbers(dir.appendingPathComponent("out.jsonl").path)
        #expect(numbers.sorted() == Array(0..<100) + Array(1000..<1100))
    }

    @Test func gracefulStopMidReplayThenRestartDeliversEachLineOnce() throws {
        let dir = try Driftwood.temporaryDirectory()
        let total = 200_000
        try FileLogs.append(FileLogs.lines(0..<total), to: dir.appendingPathComponent("big.log").path)
        let out = dir.appendingPathComponent("out.jsonl").path
        let p = try Self.pipeline(paths: ["big.log"], mode: "read", in: dir)
        let first = try Driftwood.Running(["run", p], directory: dir)
        FileLogs.waitForLines(out, count: 20_000)
        let code = Self.stop(first)
        #expect(code == 0, "\(first.stderr)")
        let afterStop = FileLogs.lineCount(out)
        #expect(afterStop < total, "the replay finished before the stop; the test proves nothing")
        let second = try Driftwood.Running(["run", p], directory: dir)
        #expect(second.wait(timeout: 120) == 0)
        let cover = FileLogs.coverage(try FileLogs.numbers(out), of: 0..<total)
        #expect(cover.missing.isEmpty)
        #expect(cover.duplicates == 0, "a graceful stop saves exactly what was delivered")
    }

    @Test func killNineThenRestartLosesNothing() throws {
        let dir = try Driftwood.temporaryDirectory()
        let log = dir.appendingPathComponent("app.log").path
        let out = dir.appendingPathComponent("out.jsonl").path
        let p = try Self.pipeline(paths: ["app.log"], in: dir)
        try FileLogs.append(FileLogs.lines(0..<150_000), to: log)
        let first = try Driftwood.Running(["run", p], directory: dir)
        FileLogs.waitForLines(out, count: 30_000)
        kill(first.pid, SIGKILL)
        _ = first.wait(timeout: 10)
        let beforeRestart = FileLogs.lineCount(out)
        // More lines arrive while driftwood is down.
        try FileLogs.append(FileLogs.lines(150_000..<160_000), to: log)
        let second = try Driftwood.Running(["run", p], directory: dir)
        let total = 160_000
        let deadline = Date().addingTimeInterval(120)
        var cover = FileLogs.coverage([], of: 0..<total)
        while Date() < deadline {
            if FileLogs.lineCount(out) >= total {
                cover = FileLogs.coverage(try FileLogs.numbers(out), of: 0..<total)
                if cover.missing.isEmpty { break }
            }
            Thread.sleep(forTimeInterval: 0.2)
        }
        #expect(Self.stop(second) == 0)
        cover = FileLogs.coverage(try FileLogs.numbers(out), of: 0..<total)
        #expect(cover.missing.isEmpty, "lost \(cover.missing.count) lines after kill -9")
        // Only what was written but not yet checkpointed is sent again.
        #expect(cover.duplicates <= beforeRestart)
    }

    @Test func corruptCheckpointFileIsMovedAsideAndReadingStartsOver() throws {
        let dir = try Driftwood.temporaryDirectory()
        try FileLogs.append(FileLogs.lines(0..<100), to: dir.appendingPathComponent("app.log").path)
        let state = dir.appendingPathComponent(".driftwood/p")
        try FileManager.default.createDirectory(at: state, withIntermediateDirectories: true)
        // What a power loss can leave: NUL bytes.
        try Data(repeating: 0, count: 64).write(to: state.appendingPathComponent("checkpoints.json"))
        let p = try Self.pipeline(paths: ["app.log"], mode: "read", in: dir)
        let result = try Driftwood.run(["run", p], directory: dir)
        #expect(result.code == 0)
        #expect(result.stderr.contains("checkpoint file is corrupt"))
        let names = try FileManager.default.contentsOfDirectory(atPath: state.path)
        #expect(names.contains { $0.hasPrefix("checkpoints.json.corrupt-") })
        #expect(try FileLogs.numbers(dir.appendingPathComponent("out.jsonl").path).count == 100)
        // The new checkpoint file is good: a second run reads nothing again.
        #expect(try Driftwood.run(["run", p], directory: dir).code == 0)
        #expect(try FileLogs.numbers(dir.appendingPathComponent("out.jsonl").path).count == 100)
    }

    @Test func multilineEventIsFlushedAfterTheTimeout() throws {
        let dir = try Driftwood.temporaryDirectory()
        let log = dir.appendingPathComponent("app.log").path
        let out = dir.appendingPathComponent("out.jsonl").path
        let p = try Self.pipeline(
            paths: ["app.log"],
            extra: "multiline: {start: '^\\d{4}-\\d{2}-\\d{2}', timeout: 300ms, max_lines: 50}", filters: "[]", in: dir)
        let running = try Driftwood.Running(["run", p], directory: dir)
        try FileLogs.append(
            """
            2026-11-24 10:00:00 INFO model loaded
            2026-11-24 10:00:01 ERROR predict failed
            Traceback (most recent call last):
              File "serve.py", line 10, in predict
            ValueError: bad input

            """, to: log)
        // The traceback is the last event: no next start line will ever come to close it.
        #expect(FileLogs.waitForLines(out, count: 2, timeout: 30))
        #expect(Self.stop(running) == 0)
        let messages = try Driftwood.jsonLines(out).compactMap { $0["message"] as? String }
        #expect(
            messages == [
                "2026-11-24 10:00:00 INFO model loaded",
                "2026-11-24 10:00:01 ERROR predict failed\nTraceback (most recent call last):\n  File \"serve.py\", line 10, in predict\nValueError: bad input",
            ])
    }

    @Test func pendingMultilineEventIsSentAtShutdown() throws {
        let dir = try Driftwood.temporaryDirectory()
        let log = dir.appendingPathComponent("app.log").path
        let out = dir.appendingPathComponent("out.jsonl").path
        let p = try Self.pipeline(
            paths: ["app.log"], extra: "multiline: {start: '^\\d{4}-', timeout: 1h}", filters: "[]", in: dir)
        let running = try Driftwood.Running(["run", p], directory: dir)
        try FileLogs.append("2026-11-24 first\n2026-11-24 second\n  continued\n", to: log)
        #expect(FileLogs.waitForLines(out, count: 1))
        Thread.sleep(forTimeInterval: 0.5)
        #expect(FileLogs.lineCount(out) == 1, "the second event waits for its timeout or the next start line")
        #expect(Self.stop(running) == 0)
        let messages = try Driftwood.jsonLines(out).compactMap { $0["message"] as? String }
        #expect(messages == ["2026-11-24 first", "2026-11-24 second\n  continued"])
    }

    @Test func multilineLongRunIsCutNotDropped() throws {
        let dir = try Driftwood.temporaryDirectory()
        let body = "2026-11-24 start\n" + (1...7).map { "  at frame \($0)" }.joined(separator: "\n") + "\n"
        try FileLogs.append(body, to: dir.appendingPathComponent("app.log").path)
        let p = try Self.pipeline(
            paths: ["app.log"], mode: "read", extra: "multiline: {start: '^\\d{4}-', max_lines: 3}", filters: "[]",
            in: dir)
        #expect(try Driftwood.run(["run", p], directory: dir).code == 0)
        let events = try Driftwood.jsonLines(dir.appendingPathComponent("out.jsonl").path)
        #expect(events.count == 3)
        #expect(events.compactMap { $0["message"] as? String }.joined(separator: "\n") == String(body.dropLast()))
        #expect(events.allSatisfy { ($0["tags"] as? [String])?.contains("_multiline_truncated") == true })
    }

    @Test func manyFilesInOneGlob() throws {
        let dir = try Driftwood.temporaryDirectory()
        let count = 2000
        for k in 0..<count {
            let sub = dir.appendingPathComponent("logs/m\(k % 20)")
            try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
            try FileLogs.lines(k..<(k + 1)).write(
                to: sub.appendingPathComponent("f\(k).log"), atomically: false, encoding: .utf8)
        }
        try "ignored\n".write(to: dir.appendingPathComponent("logs/m0/skip.tmp.log"), atomically: false, encoding: .utf8)
        let out = dir.appendingPathComponent("out.jsonl").path
        let p = try Self.pipeline(paths: ["logs/**/*.log"], extra: "exclude: ['*.tmp.log']", in: dir)
        // Tail mode: every file stays open and followed.
        let running = try Driftwood.Running(["run", p], directory: dir)
        #expect(FileLogs.waitForLines(out, count: count, timeout: 60))
        // Files keep growing and new ones appear.
        try FileLogs.append(FileLogs.lines(5000..<5001), to: dir.appendingPathComponent("logs/m3/f3.log").path)
        try FileLogs.append(FileLogs.lines(5001..<5002), to: dir.appendingPathComponent("logs/new.log").path)
        #expect(FileLogs.waitForLines(out, count: count + 2, timeout: 20))
        #expect(Self.stop(running) == 0)
        let numbers = try FileLogs.numbers(out)
        #expect(numbers.sorted() == Array(0..<count) + [5000, 5001])
    }

    /// More files than descriptors (`ulimit -n 128`, soft and hard): handles of idle files are
    /// released to open the others, the output keeps descriptors of its own, and a released file
    /// that grows is reopened.
    @Test func moreFilesThanDescriptors() throws {
        let dir = try Driftwood.temporaryDirectory()
        let count = 600
        let logs = dir.appendingPathComponent("logs")
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        for k in 0..<count {
            try FileLogs.lines(k..<(k + 1)).write(to: logs.appendingPathComponent("f\(k).log"), atomically: false, encoding: .utf8)
        }
        let out = dir.appendingPathComponent("out.jsonl").path
        let p = try Self.pipeline(paths: ["logs/*.log"], in: dir)
        let running = try Driftwood.Running(
            ["-c", "ulimit -n 128 && exec '\(Driftwood.binary)' run '\(p)'"], directory: dir, executable: "/bin/sh")
        #expect(FileLogs.waitForLines(out, count: count, timeout: 60), "\(running.stderr)")
        Thread.sleep(forTimeInterval: 0.5)
        try FileLogs.append(FileLogs.lines(7000..<7001), to: logs.appendingPathComponent("f0.log").path)
        try FileLogs.append(FileLogs.lines(7001..<7002), to: logs.appendingPathComponent("f599.log").path)
        #expect(FileLogs.waitForLines(out, count: count + 2, timeout: 30), "\(running.stderr)")
        #expect(Self.stop(running) == 0)
        #expect(try FileLogs.numbers(out).sorted() == Array(0..<count) + [7000, 7001])
        #expect(!running.stderr.contains("Too many open files"))
    }

    @Test func linesCRLFTruncationInvalidUTF8AndPartialLastLine() throws {
        let dir = try Driftwood.temporaryDirectory()
        let log = dir.appendingPathComponent("app.log").path
        let out = dir.appendingPathComponent("out.jsonl").path
        let p = try Self.pipeline(paths: ["app.log"], extra: "max_line_bytes: 16", filters: "[]", in: dir)
        let running = try Driftwood.Running(["run", p], directory: dir)
        var bytes = Data("crlf line\r\n".utf8)
        bytes.append(Data("this line is much longer than sixteen bytes\n".utf8))
        bytes.append(Data([0x62, 0x61, 0x64, 0xFF, 0x0A]))  // "bad" + an invalid byte
        bytes.append(Data("half a li".utf8))
        try bytes.write(to: URL(fileURLWithPath: log))
        #expect(FileLogs.waitForLines(out, count: 3))
        Thread.sleep(forTimeInterval: 0.5)
        #expect(FileLogs.lineCount(out) == 3, "a line without its newline is not an event yet")
        try FileLogs.append("ne\n", to: log)
        #expect(FileLogs.waitForLines(out, count: 4))
        #expect(Self.stop(running) == 0)
        let events = try Driftwood.jsonLines(out)
        #expect(events.compactMap { $0["message"] as? String } == ["crlf line", "this line is muc", "bad\u{FFFD}", "half a line"])
        #expect((events[1]["tags"] as? [String]) == ["_line_truncated"])
    }

    @Test func startAtEndSkipsWhatIsThereAndReadsWhatComes() throws {
        let dir = try Driftwood.temporaryDirectory()
        let log = dir.appendingPathComponent("app.log").path
        let out = dir.appendingPathComponent("out.jsonl").path
        try FileLogs.append(FileLogs.lines(0..<100), to: log)
        let p = try Self.pipeline(paths: ["*.log"], extra: "start_at: end", in: dir)
        let running = try Driftwood.Running(["run", p], directory: dir)
        // Append only once the first scan has found the file (what is there then is skipped).
        #expect(Self.waitForLog(running, "reading file"))
        try FileLogs.append(FileLogs.lines(100..<110), to: log)
        // A file that appears later is read from its beginning.
        try FileLogs.append(FileLogs.lines(200..<205), to: dir.appendingPathComponent("later.log").path)
        #expect(FileLogs.waitForLines(out, count: 15))
        Thread.sleep(forTimeInterval: 0.3)
        #expect(Self.stop(running) == 0)
        #expect(try FileLogs.numbers(out).sorted() == Array(100..<110) + Array(200..<205))
    }

    /// On a terminal a replay draws a progress bar (bytes, events/s, ETA); `script` gives
    /// driftwood a pseudo-terminal. Without one, only log lines (checked in the first test).
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/script")))
    func replayShowsAProgressBarOnATerminal() throws {
        let dir = try Driftwood.temporaryDirectory()
        try FileLogs.append(FileLogs.lines(0..<20_000), to: dir.appendingPathComponent("a.log").path)
        let p = try Self.pipeline(paths: ["a.log"], mode: "read", in: dir)
        let result = try Driftwood.run(
            ["-qec", "'\(Driftwood.binary)' run '\(p)'", "/dev/null"], directory: dir, executable: "/usr/bin/script")
        #expect(result.code == 0, "\(result.stdout)")
        // The terminal's output (stderr included) comes back through script's stdout.
        #expect(result.stdout.contains("[##############################] 100.0%"), "\(result.stdout)")
        #expect(result.stdout.contains("events/s") && result.stdout.contains("ETA"))
        #expect(try FileLogs.numbers(dir.appendingPathComponent("out.jsonl").path).count == 20_000)
    }

    @Test func badFileInputConfigIsReportedWithItsPosition() throws {
        let dir = try Driftwood.temporaryDirectory()
        let p = try Driftwood.write(
            """
            inputs:
              - type: file
                mode: replay
                multiline: {start: '(unclosed', max_line: 3}
            outputs: [{type: stdout}]
            """, to: "bad.yml", in: dir)
        let result = try Driftwood.run(["check", p], directory: dir)
        #expect(result.code == 2)
        #expect(result.stderr.contains("bad.yml:2:5: inputs[0] (file): missing required key 'paths'"))
        #expect(result.stderr.contains("inputs[0].mode (file): expected one of tail, read"))
        #expect(result.stderr.contains("inputs[0].multiline.start (file): bad regex"))
        #expect(result.stderr.contains("unknown key 'max_line' (did you mean 'max_lines'?)"))
    }
}
