import Foundation

extension Driftwood {
    /// A driftwood process started with a pipe on stdin, its output going to files.
    final class Running: @unchecked Sendable {
        let process: Process
        let input: Pipe
        let stdoutURL: URL
        let stderrURL: URL

        init(_ arguments: [String], directory: URL, environment: [String: String] = [:], executable: String? = nil) throws {
            process = Process()
            process.executableURL = URL(fileURLWithPath: executable ?? Driftwood.binary)
            process.arguments = arguments
            process.currentDirectoryURL = directory
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
            input = Pipe()
            // Beside the test's other temporary files, never in the working directory (which
            // may be the package root).
            let logs = FileManager.default.temporaryDirectory
            stdoutURL = logs.appendingPathComponent("driftwood-\(UUID().uuidString).stdout")
            stderrURL = logs.appendingPathComponent("driftwood-\(UUID().uuidString).stderr")
            _ = FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
            _ = FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
            process.standardInput = input
            process.standardOutput = try FileHandle(forWritingTo: stdoutURL)
            process.standardError = try FileHandle(forWritingTo: stderrURL)
            try process.run()
        }

        var pid: Int32 { process.processIdentifier }

        /// Writes `data` to stdin on a thread of its own (it blocks when driftwood stops reading);
        /// `written` counts the bytes accepted so far.
        func feed(_ data: Data, close: Bool = true, chunk: Int = 64 << 10) -> Progress {
            let progress = Progress()
            let handle = input.fileHandleForWriting
            let thread = Thread {
                var offset = 0
                while offset < data.count {
                    let end = min(offset + chunk, data.count)
                    do { try handle.write(contentsOf: data[offset..<end]) } catch { break }
                    offset = end
                    progress.set(offset)
                }
                if close { try? handle.close() }
                progress.finish()
            }
            thread.start()
            return progress
        }

        final class Progress: @unchecked Sendable {
            private let lock = NSLock()
            private var bytes = 0
            private var done = false
            func set(_ n: Int) { lock.withLock { bytes = n } }
            func finish() { lock.withLock { done = true } }
            var written: Int { lock.withLock { bytes } }
            var finished: Bool { lock.withLock { done } }
        }

        /// Waits for the exit; SIGKILL after `timeout` seconds. Returns the exit status (nil: killed).
        @discardableResult
        func wait(timeout: Double) -> Int32? {
            let deadline = Date().addingTimeInterval(timeout)
            while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
            if process.isRunning {
                kill(pid, SIGKILL)
                process.waitUntilExit()
                return nil
            }
            return process.terminationStatus
        }

        var stderr: String { (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? "" }

        /// Peak resident memory so far (VmHWM) in bytes.
        var peakRSS: Int {
            guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
            for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
                return (Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) * 1024
            }
            return 0
        }
    }

    /// Runs driftwood with `stdin` to its end; SIGKILL (and exit status nil) after `timeout` seconds.
    static func run(
        _ arguments: [String], stdin: Data, directory: URL, timeout: Double, environment: [String: String] = [:]
    ) throws -> (code: Int32?, stderr: String) {
        let running = try Running(arguments, directory: directory, environment: environment)
        _ = running.feed(stdin)
        let code = running.wait(timeout: timeout)
        return (code, running.stderr)
    }
}
