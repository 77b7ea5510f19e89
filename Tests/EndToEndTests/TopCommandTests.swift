import Foundation
import Testing

/// `driftwood top` in a real terminal (tmux, 160x50) against the demo pipeline kept up by
/// `--serve`: the screen shows the stages and the drift alert still firing at the end of the
/// replay; `q` quits with 0. Against a port nothing listens on, it says so and exits 1.
@Suite(.serialized) struct TopCommandTests {
    @Test func showsStagesAndFiringAlertsAndQuitsOnQ() throws {
        let dir = try Driftwood.temporaryDirectory()
        let pipeline = try StatusFixtures.demoPipeline(in: dir)
        let running = try Driftwood.Running(
            ["run", pipeline, "--serve", "--metrics-address", "127.0.0.1:0", "--data-dir", dir.appendingPathComponent("state").path],
            directory: dir)
        defer {
            kill(running.pid, SIGTERM)
            _ = running.wait(timeout: 30)
        }
        let base = try running.metricsBase()
        #expect(MetricsScrape.eventually(timeout: 60) { running.stderr.contains("still serving the status page") })
        let address = String(base.dropFirst("http://".count))
        let session = "driftwood-top-\(UUID().uuidString.prefix(8))"
        let exitFile = dir.appendingPathComponent("top.exit").path
        let command = "'\(Driftwood.binary)' top --address \(address) --interval 500ms; echo $? > '\(exitFile)'; sleep 60"
        try Self.tmux(["new-session", "-d", "-s", session, "-x", "160", "-y", "50", command])
        defer { _ = try? Self.tmux(["kill-server"]) }
        var screen = ""
        let drawn = try MetricsScrape.eventually(timeout: 20) {
            screen = try Self.tmux(["capture-pane", "-p", "-t", session])
            return screen.contains("FIRING ALERTS") && screen.contains("MODEL_DRIFT_DETECTED")
        }
        print(screen)
        #expect(drawn, "top never showed a firing alert:\n\(screen)")
        for id in ["file_0", "parse_0", "drift_3", "monitor_4", "jsonl_0", "jsonl_2"] {
            #expect(screen.contains(id), "stage \(id) missing:\n\(screen)")
        }
        for model in ["churn-predictor", "credit-scorer", "fraud-detector", "spam-filter"] {
            #expect(screen.contains(model))
        }
        #expect(screen.contains("fraud-detector") && screen.contains("firing"))
        // Redrawn in place: the header stays on the first line.
        #expect(screen.split(separator: "\n").first?.contains("driftwood top") == true)
        try Self.tmux(["send-keys", "-t", session, "q"])
        let exited = MetricsScrape.eventually(timeout: 30) { FileManager.default.fileExists(atPath: exitFile) }
        #expect(exited, "q did not quit top")
        let code = (try? String(contentsOfFile: exitFile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(code == "0")
    }

    @Test func saysSoWhenNothingAnswers() throws {
        let listener = try Listener()
        let port = listener.port
        listener.close()  // a port nothing listens on any more
        let result = try Driftwood.run(["top", "--address", "127.0.0.1:\(port)"])
        #expect(result.code == 1)
        #expect(result.stderr.contains("nothing answers at http://127.0.0.1:\(port)/api/v1/status"), "\(result.stderr)")
        #expect(result.stderr.contains("connection refused"))
    }

    /// tmux on a server of this test's own (`-L`), so no other tmux session is touched; its
    /// output goes to a file, since the server tmux forks would keep a pipe open.
    static let socket = "driftwood-test-\(UUID().uuidString.prefix(8))"

    @discardableResult
    static func tmux(_ arguments: [String]) throws -> String {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("tmux-\(UUID().uuidString).out")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: out) }
        let process = Process()
        // Through Python's close_fds: the server would otherwise inherit the descriptor
        // Foundation watches for the child's exit, and waitUntilExit would never return.
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [
            "-c", "import subprocess, sys; sys.exit(subprocess.call(sys.argv[1:], close_fds=True))",
            "/usr/bin/tmux", "-L", socket,
        ] + arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: out)
        try process.run()
        process.waitUntilExit()
        let text = (try? String(contentsOf: out, encoding: .utf8)) ?? ""
        guard process.terminationStatus == 0 else { throw LocalServer.ServerError(description: "tmux \(arguments): \(text)") }
        return text
    }
}
