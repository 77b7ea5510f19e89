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
        subcommands: [RunCommand.self, CheckCommand.self, TestCommand.self, BaselineCommand.self, TopCommand.self])

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
    /// Reads and checks a pipeline file; prints what is wrong and exits 2 when it is invalid.
    static func load(_ path: String, filtersOnly: Bool = false) throws -> PipelineConfig {
        do {
            return try read(path, filtersOnly: filtersOnly)
        } catch {
            for line in error.lines { FileHandle.standardError.write(Data((line + "\n").utf8)) }
            throw ExitCode(2)
        }
    }

    /// Why a pipeline file cannot be used: the lines `check` prints.
    struct Invalid: Error {
        var lines: [String]
    }

    /// Reads and checks a pipeline file, printing nothing (a reload logs the lines instead).
    static func read(_ path: String, filtersOnly: Bool = false) throws(Invalid) -> PipelineConfig {
        let text: String
        do { text = try FileAccess.text(path) } catch {
            throw Invalid(lines: ["pipeline file: \(error)"])
        }
        do {
            return try PipelineConfig.load(
                text: text, file: path, environment: ProcessInfo.processInfo.environment,
                catalog: StageCatalog.descriptors, filtersOnly: filtersOnly)
        } catch {
            let n = error.errors.count
            throw Invalid(lines: error.errors.map(\.description) + ["\(path): \(n) error\(n == 1 ? "" : "s")"])
        }
    }

    /// The machine's host name.
    static var hostName: String {
        var buffer = [CChar](repeating: 0, count: 256)
        gethostname(&buffer, buffer.count)
        return String(cString: buffer)
    }
}
