import ArgumentParser
import DriftwoodCore
import DriftwoodStages
import Foundation

/// `driftwood check PIPELINE [--connect]` — validates only; with `--connect` also tries every
/// output's endpoint once.
struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check", abstract: "Validate a pipeline file; prints 'ok: N inputs, M filters, K outputs'.",
        discussion: """
            With --connect, also tries every elasticsearch output's hosts once (GET /, with the \\
            output's auth and TLS) and prints one line per output; exits 1 when one cannot be \\
            reached. Exit codes: 0 valid (and reachable), 1 an output cannot be reached, 2 invalid.
            """)

    @Argument(help: "The pipeline file.") var pipeline: String
    @Flag(name: .long, help: "Also try every output's endpoint; exit 1 when one cannot be reached.") var connect = false
    @OptionGroup var log: LogOptions

    func run() async throws {
        _ = try log.bootstrap()
        let config = try PipelineFile.load(pipeline)
        print("ok: \(config.inputs.count) inputs, \(config.filters.count) filters, \(config.outputs.count) outputs")
        guard connect else { return }
        var unreachable = 0
        for output in StartupHealthcheck.elasticsearchOutputs(config) {
            let outcomes = await StartupHealthcheck.probe(output.config, stop: nil) ?? []
            if let ok = outcomes.first(where: \.ok) {
                print("\(output.id): reachable: \(ok)")
            } else {
                unreachable += 1
                let why = outcomes.map(\.description).joined(separator: "; ")
                FileHandle.standardError.write(Data("\(output.id): cannot be reached: \(why)\n".utf8))
            }
        }
        if unreachable > 0 { throw ExitCode(1) }
    }
}
