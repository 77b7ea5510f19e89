import Foundation
import Testing

/// Issue 17, items 3 and 4: a summary at the end of every run and on SIGTERM, `--once`, a tail
/// pipeline that says it caught up, re-runs that say why nothing happens, `--from-beginning`.
@Suite struct RunEndAndStateTests {
    static func tailPipeline(in dir: URL, mode: String = "tail") throws -> String {
        try Driftwood.write(
            """
            name: t
            inputs:
              - {type: file, id: logs, paths: ["\(dir.path)/logs/*.log"], mode: \(mode)}
            filters:
              - {type: parse, format: json, timestamp: {field: ts}}
              - {type: drop, when: 'n == 3'}
            outputs:
              - {type: jsonl, id: out, path: "\(dir.path)/out.jsonl"}
            """, to: "p.yml", in: dir)
    }

    @Test func runOnceReadsATailPipelineToItsEndExitsAndSummarises() throws {
        let dir = try Driftwood.temporaryDirectory()
        try Driftwood.write(FirstHour.modelLines(100), to: "logs/a.log", in: dir)
        // Other lines than a.log's (a file starting like another is taken for its copy-truncate copy).
        try Driftwood.write(FirstHour.modelLines(50, model: "churn-predictor"), to: "logs/b.log", in: dir)
        let pipeline = try Self.tailPipeline(in: dir)
        let running = try Driftwood.Running(["run", "--once", pipeline], directory: dir)
        let code = running.wait(timeout: 60)
        let stderr = running.stderr
        #expect(code == 0, "run --once on a tail pipeline must end by itself:\n\(stderr)")
        #expect(FileLogs.lineCount(dir.path + "/out.jsonl") == 148)
        #expect(stderr.components(separatedBy: "caught up: every file read to its end").count == 2, "\(stderr)")
        #expect(stderr.contains("summary: input logs: read 150 events; checkpoints in \(dir.path)/.driftwood/t/checkpoints.json"), "\(stderr)")
        #expect(stderr.contains("summary: filters: dropped 2 events"), "\(stderr)")
        #expect(stderr.contains("summary: output out: received 148, delivered 148 (already present 0, dead letters 0)"), "\(stderr)")
    }

    @Test func aTailPipelineSaysOnceThatItCaughtUpAndSummarisesOnSIGTERM() throws {
        let dir = try Driftwood.temporaryDirectory()
        try Driftwood.write(FirstHour.modelLines(20), to: "logs/a.log", in: dir)
        let pipeline = try Self.tailPipeline(in: dir)
        let running = try Driftwood.Running(["run", pipeline], directory: dir)
        #expect(running.waitForLog("caught up: every file read to its end"), "\(running.stderr)")
        try FileLogs.append(FirstHour.modelLines(5), to: dir.path + "/logs/a.log")
        #expect(FileLogs.waitForLines(dir.path + "/out.jsonl", count: 23))
        kill(running.pid, SIGTERM)
        let code = running.wait(timeout: 30)
        let stderr = running.stderr
        #expect(code == 0, "\(stderr)")
        #expect(stderr.components(separatedBy: "caught up").count == 2, "caught up is said once:\n\(stderr)")
        #expect(stderr.contains("summary: input logs: read 25 events"), "\(stderr)")
        #expect(stderr.contains("summary: output out: received 23, delivered 23"), "\(stderr)")
    }

    @Test func reRunSaysAlreadyReadAndFromBeginningReadsAgain() throws {
        let dir = try Driftwood.temporaryDirectory()
        try Driftwood.write(FirstHour.modelLines(10), to: "logs/a.log", in: dir)
        for mode in ["read", "tail"] {
            let pipeline = try Self.tailPipeline(in: dir, mode: mode)
            try? FileManager.default.removeItem(atPath: dir.path + "/out.jsonl")
            try? FileManager.default.removeItem(atPath: dir.path + "/.driftwood")
            let first = try Driftwood.Running(["run", "--once", pipeline], directory: dir)
            #expect(first.wait(timeout: 60) == 0, "\(first.stderr)")
            #expect(FileLogs.lineCount(dir.path + "/out.jsonl") == 9)
            let again = try Driftwood.Running(["run", "--once", pipeline], directory: dir)
            #expect(again.wait(timeout: 60) == 0)
            #expect(
                again.stderr.contains(
                    "already read to its end (checkpoint in \(dir.path)/.driftwood/t/checkpoints.json); run with --from-beginning to read it again"),
                "mode \(mode):\n\(again.stderr)")
            #expect(again.stderr.contains("summary: input logs: read 0 events"), "\(again.stderr)")
            #expect(FileLogs.lineCount(dir.path + "/out.jsonl") == 9)
            let over = try Driftwood.Running(["run", "--once", "--from-beginning", pipeline], directory: dir)
            #expect(over.wait(timeout: 60) == 0, "\(over.stderr)")
            #expect(FileLogs.lineCount(dir.path + "/out.jsonl") == 18, "mode \(mode): --from-beginning reads the file again")
            #expect(over.stderr.contains("summary: input logs: read 10 events"), "\(over.stderr)")
        }
    }

    /// Server down: the replay does not say it delivered, the summary says what was not.
    @Test func replayWithTheServerDownDoesNotClaimDelivery() throws {
        let dir = try Driftwood.temporaryDirectory()
        try Driftwood.write(FirstHour.modelLines(30), to: "archive/a.log", in: dir)
        let port = FirstHour.closedPort()
        let running = try Driftwood.Running(
            ["run", "--no-healthcheck", FirstHour.pipeline("replay-archive.yml")], directory: dir,
            environment: FirstHour.environment(["ES_URL": "http://127.0.0.1:\(port)"]))
        #expect(running.waitForLog("replay read every file"), "\(running.stderr)")
        kill(running.pid, SIGTERM)
        _ = running.wait(timeout: 60)
        let stderr = running.stderr
        let line = stderr.split(separator: "\n").first { $0.contains("replay read every file") } ?? ""
        #expect(line.contains("waiting for the outputs to deliver") && line.contains("events_read=30"), "\(line)")
        #expect(stderr.contains("bytes_on_disk="), "\(stderr)")
        #expect(stderr.contains("summary: output es: received 30, delivered 0 (already present 0, dead letters 0), NOT delivered 30"), "\(stderr)")
    }

    /// replay-archive.yml's default glob takes plain `.log` files beside gzip ones, and a second
    /// replay with --from-beginning counts the documents as already present (409).
    @Test func replayArchiveDefaultGlobTakesPlainAndGzipAndCountsAlreadyPresent() throws {
        let server = try Osmem.start()
        defer { server.stop() }
        let dir = try Driftwood.temporaryDirectory()
        try Driftwood.write(FirstHour.modelLines(40), to: "archive/2026/plain.log", in: dir)
        try FileLogs.gzip(FirstHour.modelLines(25)).write(to: dir.appendingPathComponent("archive/2026/old.log.gz"))
        let environment = FirstHour.environment(["ES_URL": server.url])
        let first = try Driftwood.Running(["run", FirstHour.pipeline("replay-archive.yml")], directory: dir, environment: environment)
        #expect(first.wait(timeout: 120) == 0, "\(first.stderr)")
        #expect(first.stderr.contains("summary: input archive: read 65 events"), "\(first.stderr)")
        #expect(first.stderr.contains("summary: output es: received 65, delivered 65 (already present 0, dead letters 0)"), "\(first.stderr)")
        let again = try Driftwood.Running(
            ["run", "--from-beginning", FirstHour.pipeline("replay-archive.yml")], directory: dir, environment: environment)
        #expect(again.wait(timeout: 120) == 0, "\(again.stderr)")
        #expect(again.stderr.contains("summary: output es: received 65, delivered 65 (already present 65, dead letters 0)"), "\(again.stderr)")
        #expect(try server.count("model-logs-*") == 65)
    }
}
