import ArgumentParser
import DriftwoodCore
import DriftwoodStages
import Foundation

/// `driftwood test PIPELINE [--input FILE] [--explain]` — runs the pipeline's filters over lines
/// of FILE (default stdin) and prints the events as JSON lines. No outputs, no checkpoints. The
/// file may hold only filters; `--explain` says on stderr which outputs each event would go to.
struct TestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test", abstract: "Run the filters over lines of a file (default stdin); print events as JSON lines.",
        discussion: """
            The pipeline file may hold only filters (no inputs, no outputs). With --explain, each \
            event printed on stdout gets a line on stderr: 'event N -> OUTPUT, OUTPUT' (the ids of \
            the outputs whose when: matches it), or 'event N -> no output'.
            """)

    @Argument(help: "The pipeline file.") var pipeline: String
    @Option(name: .long, help: "Read lines from this file instead of stdin.") var input: String?
    @Flag(name: .long, help: "Say on stderr which outputs each event would go to.") var explain = false
    @OptionGroup var log: LogOptions

    func run() throws {
        let logger = try log.bootstrap()
        let config = try PipelineFile.load(pipeline, filtersOnly: true)
        let outputs = config.outputs.map { (id: $0.id, when: $0.when) }
        var eventNumber = 0
        let hostName = PipelineFile.hostName
        let chain: FilterChain
        do {
            chain = FilterChain(try PipelineBuilder.filters(config, logger: logger, hostName: hostName))
        } catch {
            logger.critical("cannot build the filters", metadata: ["error": "\(error)"])
            throw ExitCode(1)
        }
        var fd: Int32 = 0
        if let input {
            if let problem = FileAccess.problem(input) {
                FileHandle.standardError.write(Data("--input: \(problem)\n".utf8))
                throw ExitCode(1)
            }
            fd = open(input, O_RDONLY)
            guard fd >= 0 else {
                FileHandle.standardError.write(Data("--input: \(FileAccess.Problem(path: input, absolute: FileAccess.absolute(input), reason: String(cString: strerror(errno))))\n".utf8))
                throw ExitCode(1)
            }
        }
        let reader = StdinInput(
            config: StdinConfig(),
            environment: StageEnvironment(
                id: "test", pipelineName: config.name, dataDir: config.dataDir, logger: logger, hostName: hostName),
            fd: fd)
        var out: [UInt8] = []
        var failure: Error?
        do {
            try reader.run { batch in
                chain.run(&batch.events)
                out.removeAll(keepingCapacity: true)
                StdoutOutput.encode(batch.events, pretty: false, into: &out)
                if explain {
                    var lines = ""
                    for event in batch.events {
                        eventNumber += 1
                        let ids = outputs.filter { $0.when?.matches(event.fields) ?? true }.map(\.id)
                        lines += "event \(eventNumber) -> \(ids.isEmpty ? "no output" : ids.joined(separator: ", "))\n"
                    }
                    FileHandle.standardError.write(Data(lines.utf8))
                }
                do {
                    try out.withUnsafeBufferPointer { try FileDescriptorWriter.writeAll(1, $0, path: "stdout") }
                } catch {
                    failure = error
                    reader.stop()
                }
                // Nothing downstream acknowledges here; settle the input's hold so nothing waits.
                batch.acknowledgement?.settle(1)
                batch = EventBatch()
            }
        } catch {
            failure = error
        }
        FailureTally.shared.flush()
        if let failure {
            logger.error("test stopped", metadata: ["error": "\(failure)"])
            throw ExitCode(1)
        }
    }
}
