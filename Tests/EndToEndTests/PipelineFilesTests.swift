import Foundation
import Testing

/// The ready pipelines in `pipelines/` (README.md, docs/): each one is valid and says what it is for and
/// how to run it.
@Suite struct PipelineFilesTests {
    static let pipelines = StackFiles.pipelineNames

    @Test func theReadyPipelinesAreThere() {
        for name in ["demo.yml", "model-logs-to-es.yml", "replay-archive.yml", "local-aggregate.yml"] {
            #expect(Self.pipelines.contains(name), "pipelines/\(name) is missing")
        }
    }

    /// `driftwood check`, from the repository root as the pipelines' comments say to run them
    /// (their registry, baseline and template paths are relative to it).
    @Test(arguments: pipelines) func passesCheck(_ name: String) throws {
        let result = try Driftwood.run(["check", "pipelines/\(name)"], directory: Driftwood.packageRoot)
        #expect(result.code == 0, "driftwood check pipelines/\(name) failed:\n\(result.stderr)")
        #expect(result.stdout.hasPrefix("ok: "), "\(result.stdout)")
    }

    @Test(arguments: pipelines) func startsWithACommentOnWhatItIsForAndHowToRunIt(_ name: String) throws {
        let text = try StackFiles.text("pipelines/\(name)")
        let header = text.split(separator: "\n", omittingEmptySubsequences: false).prefix { $0.hasPrefix("#") }
        #expect(header.count >= 3, "pipelines/\(name) should start with a comment saying what it is for")
        #expect(
            header.contains { $0.contains("driftwood run") || $0.contains("make demo") },
            "the opening comment of pipelines/\(name) should show how to run it")
    }
}
