import Foundation
import Testing

/// The README's tour, exactly as it is written: its ```sh tour block runs in bash, from a fresh
/// copy of the repository (the files git knows, no build products, no state) in a temporary
/// directory, against osmem-server as the Elasticsearch-compatible server. The build line above
/// the block is the one thing not run: the binary under test stands in for it.
@Suite struct ReadmeTourTests {
    /// The commands of the README's ```sh tour block.
    static func tourBlock() throws -> String {
        let readme = try String(contentsOf: Driftwood.packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
        guard let start = readme.range(of: "```sh tour\n"), let end = readme.range(of: "\n```", range: start.upperBound..<readme.endIndex)
        else { throw TourError(description: "README.md has no ```sh tour block") }
        return String(readme[start.upperBound..<end.lowerBound])
    }

    struct TourError: Error, CustomStringConvertible { let description: String }

    /// A fresh clone's files: what git tracks (and new files not ignored), copied.
    static func freshCopy(into dir: URL) throws -> URL {
        let listing = try Driftwood.run(
            ["-C", Driftwood.packageRoot.path, "ls-files", "-co", "--exclude-standard", "-z"], directory: dir,
            executable: "/usr/bin/git")
        #expect(listing.code == 0, "\(listing.stderr)")
        let copy = dir.appendingPathComponent("driftwood")
        for path in listing.stdout.split(separator: "\0").map(String.init) {
            let from = Driftwood.packageRoot.appendingPathComponent(path)
            guard FileManager.default.fileExists(atPath: from.path) else { continue }  // deleted, not yet committed
            let to = copy.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: to.deletingLastPathComponent(), withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: from, to: to)
        }
        return copy
    }

    @Test func theBuildLineSetsWhatTheTourNeeds() throws {
        let readme = try String(contentsOf: Driftwood.packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
        #expect(readme.contains(#"swift build -c release && export PATH="$PWD/.build/release:$PATH" DRIFTWOOD_HOME="$PWD""#))
        let tour = try Self.tourBlock()
        for pipeline in ["model-logs-to-es.yml", "local-aggregate.yml", "replay-archive.yml"] {
            #expect(tour.contains("$DRIFTWOOD_HOME/pipelines/\(pipeline)"), "the tour walks \(pipeline)")
        }
        #expect(tour.split(separator: "\n").count <= 14, "the tour stays a few commands per job")
    }

    @Test func theTourRunsAsWrittenFromAFreshCopyOutsideTheRepository() throws {
        let server = try Osmem.start()
        defer { server.stop() }
        let scratch = try Driftwood.temporaryDirectory()
        let home = try Self.freshCopy(into: scratch)
        let script = try Driftwood.write("set -euo pipefail\n" + Self.tourBlock(), to: "tour.sh", in: scratch)
        let binDir = URL(fileURLWithPath: Driftwood.binary).deletingLastPathComponent().path
        let path = binDir + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        // The tour cds into a directory of its own (mktemp -d): TMPDIR keeps it with this test's files.
        let tmp = scratch.appendingPathComponent("tmp")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
        let running = try Driftwood.Running(
            ["-c", "source \(script) && pwd > \(scratch.path)/where"], directory: scratch,
            environment: [
                "PATH": path, "DRIFTWOOD_HOME": home.path, "ES_URL": server.url, "TMPDIR": tmp.path,
                // model-logs-to-es.yml serves /metrics on 127.0.0.1:9600 by default; tests run side by side.
                "DRIFTWOOD_METRICS_ADDRESS": "127.0.0.1:0",
            ], executable: "/bin/bash")
        let code = running.wait(timeout: 600)
        let stderr = running.stderr
        #expect(code == 0, "the README's tour failed:\n\(stderr.suffix(4000))")
        let work = URL(fileURLWithPath: try String(contentsOfFile: scratch.path + "/where", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(work.path.hasPrefix(tmp.path), "the tour works in a directory of its own, outside the repository")
        #expect(!work.path.hasPrefix(Driftwood.packageRoot.path))

        // 1. shipped: every sample line (blank lines make no event), plus the alerts the pipeline raised.
        let sample = try Data(contentsOf: Driftwood.packageRoot.appendingPathComponent("samples/model_logs.jsonl"))
        let lines = sample.split(separator: 0x0A).filter { !$0.isEmpty }.count
        let summaries = stderr.split(separator: "\n").filter { $0.contains("summary: ") }
        #expect(summaries.contains { $0.contains("summary: input model_logs: read \(lines) events") }, "\(summaries)")
        #expect(stdoutLines(running).contains { $0.hasPrefix("es: reachable: \(server.url)") }, "check --connect: \(stderr)")
        // 2. aggregated: one file per model and day; a baseline of the log's features.
        let aggregate = work.appendingPathComponent("aggregate")
        let models = try FileManager.default.contentsOfDirectory(atPath: aggregate.path).sorted()
        #expect(models.contains("fraud-detector") && models.contains("churn-predictor"), "\(models)")
        #expect(FileLogs.lineCount(aggregate.path + "/fraud-detector/2026-11-24.jsonl") > 100)
        let baseline = try JSONSerialization.jsonObject(with: Data(contentsOf: work.appendingPathComponent("baseline.json"))) as? [String: Any]
        let names = Array(((baseline?["features"] as? [String: Any]) ?? [:]).keys)
        #expect(names.contains("features.amount") && !names.contains("level") && !names.contains("model"), "\(names)")
        // 3. replayed: the plain and the gzip copy, every line of each, all delivered.
        #expect(summaries.contains { $0.contains("summary: input archive: read \(2 * lines) events") }, "\(summaries)")
        #expect(summaries.filter { $0.contains("summary: output es:") }.allSatisfy { !$0.contains("NOT delivered") }, "\(summaries)")
        #expect(try server.count("model-logs-*") >= 3 * lines)
    }

    func stdoutLines(_ running: Driftwood.Running) -> [String] {
        ((try? String(contentsOf: running.stdoutURL, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }
}
