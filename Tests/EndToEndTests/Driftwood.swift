import Foundation

/// Runs the real `driftwood` binary, as a user would.
enum Driftwood {
    struct Result {
        let code: Int32
        let stdout: String
        let stderr: String
    }

    /// The package root (two levels above this file's folder).
    static let packageRoot: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// The built binary: beside the test bundle (`swift build` builds it), or DRIFTWOOD_BIN.
    static var binary: String {
        if let path = ProcessInfo.processInfo.environment["DRIFTWOOD_BIN"] { return path }
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("driftwood").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return packageRoot.appendingPathComponent(".build/debug/driftwood").path
    }

    /// Runs driftwood (or `executable`) with `arguments`, feeding `stdin`, in `directory`.
    @discardableResult
    static func run(
        _ arguments: [String], stdin: Data = Data(), directory: URL? = nil, environment: [String: String] = [:],
        executable: String? = nil
    ) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable ?? binary)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let inPipe = Pipe()
        let outPipe = Pipe()
        let errPipe = Pipe()
        process.standardInput = inPipe
        process.standardOutput = outPipe
        process.standardError = errPipe
        try process.run()
        // Feed stdin and drain stdout/stderr concurrently so large data cannot deadlock.
        let writer = Thread {
            inPipe.fileHandleForWriting.write(stdin)
            try? inPipe.fileHandleForWriting.close()
        }
        writer.start()
        let box = OutputBox()
        let errReader = Thread {
            box.err = errPipe.fileHandleForReading.readDataToEndOfFile()
            box.done.signal()
        }
        errReader.start()
        let out = outPipe.fileHandleForReading.readDataToEndOfFile()
        box.done.wait()
        process.waitUntilExit()
        return Result(
            code: process.terminationStatus, stdout: String(decoding: out, as: UTF8.self),
            stderr: String(decoding: box.err, as: UTF8.self))
    }

    final class OutputBox: @unchecked Sendable {
        var err = Data()
        let done = DispatchSemaphore(value: 0)
    }

    /// A fresh temporary directory.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("driftwood-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Writes `text` to `name` in `dir` and returns its path.
    @discardableResult
    static func write(_ text: String, to name: String, in dir: URL) throws -> String {
        let url = dir.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    /// The lines of a file, each parsed as a JSON object.
    static func jsonLines(_ path: String) throws -> [[String: Any]] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return try text.split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
        }
    }
}
