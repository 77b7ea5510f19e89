import ArgumentParser
import DriftwoodCore
import DriftwoodStages

/// `driftwood check PIPELINE` — validates only.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check", abstract: "Validate a pipeline file; prints 'ok: N inputs, M filters, K outputs'.")

    @Argument(help: "The pipeline file.") var pipeline: String
    @OptionGroup var log: LogOptions

    func run() throws {
        _ = try log.bootstrap()
        let config = try PipelineFile.load(pipeline)
        print("ok: \(config.inputs.count) inputs, \(config.filters.count) filters, \(config.outputs.count) outputs")
    }
}
