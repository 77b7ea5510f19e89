import ArgumentParser
import DriftwoodCore
import DriftwoodStages
import Foundation
import Logging

/// The version `driftwood --version` prints.
let driftwoodVersion = "0.1.0"

@main
struct Driftwood: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "driftwood",
        abstract: "A log shipper and aggregator for machine-learning model logs.",
        version: driftwoodVersion,
        subcommands: [RunCommand.self, CheckCommand.self, TestCommand.self, BaselineCommand.self])

    /// Exit codes: 0 success, 1 runtime failure, 2 invalid pipeline file or usage.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as ExitCode {
            Foundation.exit(error.rawValue)
        } catch {
            let code = exitCode(for: error)
            // Usage errors exit 2 as the contract says (ArgumentParser's own code is 64).
            if code.rawValue == 64 {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }
}

/// Options every subcommand shares.
struct LogOptions: ParsableArguments {
    @Option(name: .long, help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    @Option(name: .long, help: "text (default) or json: one JSON object a line.")
    var logFormat: String = "text"

    func bootstrap() throws -> Logger {
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
        }
        guard let format = StderrLogHandler.Format(rawValue: logFormat) else {
            throw ValidationError("--log-format must be text or json")
        }
        LoggingSystem.bootstrap { label in StderrLogHandler(label: label, format: format, logLevel: level) }
        return Logger(label: "driftwood")
    }
}

/// Reading a pipeline file, printing its errors as the contract says.
enum PipelineFile {
    static func load(_ path: String, filtersOnly: Bool = false) throws -> PipelineConfig {
        let text: String
        do { text = try FileAccess.text(path) } catch {
            FileHandle.standardError.write(Data("pipeline file: \(error)\n".utf8))
            throw ExitCode(2)
        }
        do {
            return try PipelineConfig.load(
                text: text, file: path, environment: ProcessInfo.processInfo.environment,
                catalog: StageCatalog.descriptors, filtersOnly: filtersOnly)
        } catch {
            FileHandle.standardError.write(Data((error.description + "\n").utf8))
            let n = error.errors.count
            FileHandle.standardError.write(Data("\(path): \(n) error\(n == 1 ? "" : "s")\n".utf8))
            throw ExitCode(2)
        }
    }

    /// The machine's host name.
    static var hostName: String {
        var buffer = [CChar](repeating: 0, count: 256)
        gethostname(&buffer, buffer.count)
        return String(cString: buffer)
    }
}
