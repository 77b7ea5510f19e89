import Foundation
import Testing

/// `copytruncate` rotation by Debian's real logrotate, under a writer at 2,000 lines/s: the
/// lines lost and repeated by a driftwood tailing `logs/*.log` and one tailing `logs/*.log*`
/// (`copytruncate` + `compress` + `delaycompress`, as Vector's docs advise), against what is on
/// the disk at the end (what logrotate itself lost between its copy and its truncation is in no
/// file: no shipper can read it).
@Suite(.serialized) struct CopyTruncateTests {
    static let logrotate = "/usr/sbin/logrotate"

    /// Appends `count` numbered lines to `path` at `rate` lines/s, one write(2) per line, with
    /// O_APPEND (as an application's logger does: after a truncation it writes at the new end).
    static let writer = """
        import os, sys, time
        path, count, rate = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        start = time.monotonic()
        for n in range(count):
            os.write(fd, ('{"n":%d,"src":"app","pad":"model-log-line"}\\n' % n).encode())
            if n % 10 == 9:
                wait = start + (n + 1) / rate - time.monotonic()
                if wait > 0: time.sleep(wait)
        os.close(fd)
        """

    /// Every `n` in the files under `dir` (plain or gzip), as on the disk now.
    static func onDisk(_ dir: URL) throws -> [Int] {
        var numbers: [Int] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: dir.path) {
            let path = dir.appendingPathComponent(name).path
            let text: String
            if name.hasSuffix(".gz") {
                guard let decoded = Tmpfs.gunzip(path).text else { throw Tmpfs.Unavailable(reason: "gzip -d \(name)") }
                text = decoded
            } else {
                text = try String(contentsOfFile: path, encoding: .utf8)
            }
            // Whole lines only: logrotate's copy can end inside a line being written (a read sees
            // part of a write), whose rest the truncation then removes: that line is in no file.
            for line in text.split(separator: "\n") where line.hasSuffix(#""pad":"model-log-line"}"#) {
                if let match = line.firstMatch(of: /"n":(\d+)/), let n = Int(match.1) { numbers.append(n) }
            }
        }
        return numbers
    }

    @Test func copytruncateWithLogrotateIsExactlyOnceOnLogStarAndLosesOnlyLogrotatesRaceOnLog() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.logrotate) else {
            Issue.record("skipped: \(Self.logrotate) is not installed (apt-get install logrotate)")
            return
        }
        let dir = try Driftwood.temporaryDirectory()
        let logs = dir.appendingPathComponent("logs")
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        let log = logs.appendingPathComponent("app.log").path
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let conf = try Driftwood.write(
            """
            \(log) {
                copytruncate
                compress
                delaycompress
                rotate 100
                missingok
            }
            """, to: "logrotate.conf", in: dir)
        let state = dir.appendingPathComponent("logrotate.state").path
        let writerScript = try Driftwood.write(Self.writer, to: "writer.py", in: dir)

        // Two shippers on the same files: one tails `*.log`, one `*.log*`.
        var runs: [(glob: String, out: String, running: Driftwood.Running)] = []
        for (k, glob) in ["logs/*.log", "logs/*.log*"].enumerated() {
            let out = dir.appendingPathComponent("out\(k).jsonl").path
            let p = try Driftwood.write(
                """
                shutdown_timeout: 20s
                data_dir: state\(k)
                inputs: [{type: file, paths: ["\(glob)"]}]
                filters: [{type: parse, format: json}]
                outputs: [{type: jsonl, path: "\(out)"}]
                """, to: "p\(k).yml", in: dir)
            runs.append((glob, out, try Driftwood.Running(["run", p], directory: dir)))
        }
        defer { for r in runs { _ = r.running.wait(timeout: 0) } }

        // 28,000 lines at 2,000/s; 20 rotations, 0.65 s apart.
        let total = 28_000
        let writer = Process()
        writer.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        writer.arguments = ["python3", writerScript, log, "\(total)", "2000"]
        try writer.run()
        // The first rotation once both shippers have read some lines (a file written and
        // truncated between two looks, 250 ms apart, is in the copy only: see docs/reliability.md).
        for r in runs { #expect(FileLogs.waitForLines(r.out, count: 200, timeout: 30)) }
        for _ in 0..<20 {
            let rotated = Tmpfs.run(Self.logrotate, ["-f", "-s", state, conf])
            #expect(rotated.code == 0, "logrotate: \(rotated.output)")
            Thread.sleep(forTimeInterval: 0.65)
        }
        writer.waitUntilExit()
        #expect(writer.terminationStatus == 0)

        let disk = Set(try Self.onDisk(logs))
        let race = (0..<total).filter { !disk.contains($0) }
        // Both shippers catch up: their output stops growing.
        for r in runs {
            var last = -1
            _ = MetricsScrape.eventually(timeout: 20) {
                let now = FileLogs.lineCount(r.out)
                defer { last = now }
                if now == last && now >= total - race.count { return true }
                Thread.sleep(forTimeInterval: 1.5)
                return false
            }
        }
        for r in runs {
            kill(r.running.pid, SIGTERM)
            #expect(r.running.wait(timeout: 30) == 0, "\(r.running.stderr.suffix(1500))")
            let cover = FileLogs.coverage(try FileLogs.numbers(r.out), of: 0..<total)
            let lostByDriftwood = cover.missing.filter { disk.contains($0) }
            print(
                "copytruncate \(r.glob): \(total) lines, 20 rotations: \(cover.missing.count) lost "
                    + "(\(race.count) by logrotate's copy-then-truncate race, in no file), "
                    + "\(cover.duplicates) duplicated")
            if !lostByDriftwood.isEmpty || cover.duplicates > 0 {
                var seen: [Int: Int] = [:]
                for n in try FileLogs.numbers(r.out) { seen[n, default: 0] += 1 }
                let twice = seen.filter { $0.value > 1 }.keys.sorted()
                print("DIAG \(r.glob) lost \(lostByDriftwood.prefix(3))…\(lostByDriftwood.suffix(3)) twice \(twice.prefix(3))…\(twice.suffix(3))")
                print(r.running.stderr.split(separator: "\n").map { $0.replacingOccurrences(of: dir.path, with: "") }.prefix(80).joined(separator: "\n"))
            }
            #expect(lostByDriftwood.isEmpty, "\(r.glob): lost \(lostByDriftwood.count) lines that are on the disk, e.g. \(lostByDriftwood.prefix(5))")
            #expect(cover.duplicates == 0, "\(r.glob): \(cover.duplicates) duplicates")
        }
    }

    /// A copy that a scan finds after the truncation but before a read of the original notices
    /// it, holding fewer bytes than were read of the original (lines written between the copy
    /// and the truncation): a stall of the reading process (here SIGSTOP; on a loaded machine, the
    /// scheduler) puts the scan first. The copy waits for that read, which takes it as the copy
    /// it is: nothing is read twice.
    @Test func aCopyFoundBeforeTheTruncationIsSeenIsNotReadAgain() throws {
        let dir = try Driftwood.temporaryDirectory()
        let logs = dir.appendingPathComponent("logs")
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        let log = logs.appendingPathComponent("app.log").path
        let out = dir.appendingPathComponent("out.jsonl").path
        try FileLogs.append(FileLogs.lines(0..<1000), to: log)
        let p = try Driftwood.write(
            """
            data_dir: state
            inputs: [{type: file, paths: ["logs/*.log*"], scan_interval: 100ms}]
            filters: [{type: parse, format: json}]
            outputs: [{type: jsonl, path: "\(out)"}]
            """, to: "p.yml", in: dir)
        let running = try Driftwood.Running(["run", p], directory: dir)
        defer { _ = running.wait(timeout: 0) }
        #expect(FileLogs.waitForLines(out, count: 1000), "\(running.stderr)")
        // logrotate's copy (made where no scan looks), then lines the original gets, and
        // driftwood reads, before logrotate truncates it.
        let copy = dir.appendingPathComponent("copy").path
        try FileManager.default.copyItem(atPath: log, toPath: copy)
        try FileLogs.append(FileLogs.lines(1000..<1100), to: log)
        #expect(FileLogs.waitForLines(out, count: 1100), "\(running.stderr)")
        kill(running.pid, SIGSTOP)
        Thread.sleep(forTimeInterval: 0.3)
        #expect(truncate(log, 0) == 0)
        try FileLogs.append(FileLogs.lines(1100..<1150), to: log)
        #expect(rename(copy, logs.appendingPathComponent("app.log.1").path) == 0)
        // Stopped past a scan interval: when it goes on, the scan comes before the next read.
        Thread.sleep(forTimeInterval: 0.5)
        kill(running.pid, SIGCONT)
        #expect(FileLogs.waitForLines(out, count: 1150), "\(running.stderr)")
        Thread.sleep(forTimeInterval: 1.5)  // what would be read twice is read by now
        kill(running.pid, SIGTERM)
        #expect(running.wait(timeout: 30) == 0, "\(running.stderr.suffix(1500))")
        let cover = FileLogs.coverage(try FileLogs.numbers(out), of: 0..<1150)
        #expect(cover.missing.isEmpty, "lost \(cover.missing.count), e.g. \(cover.missing.prefix(5))")
        #expect(cover.duplicates == 0, "\(cover.duplicates) read twice: \(running.stderr.suffix(2000))")
    }
}
