import Foundation

/// Writing model logs the way applications and log rotators do, and reading what driftwood
/// delivered, for the file input's end-to-end tests.
enum FileLogs {
    /// Appends text to a file (created if missing), as an application's log writes do.
    static func append(_ text: String, to path: String) throws {
        if !FileManager.default.fileExists(atPath: path) {
            _ = FileManager.default.createFile(atPath: path, contents: nil)
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(text.utf8))
        try handle.close()
    }

    /// `count` numbered JSON lines `{"n":…,"src":…}` starting at `from`.
    static func lines(_ range: Range<Int>, source: String = "app") -> String {
        range.map { #"{"n":\#($0),"src":"\#(source)","pad":"model-log-line"}"# }.joined(separator: "\n") + "\n"
    }

    /// gzip-compresses `text` (one member) with the system's gzip.
    static func gzip(_ text: String) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "gzip -c"]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        let writer = Thread {
            input.fileHandleForWriting.write(Data(text.utf8))
            try? input.fileHandleForWriting.close()
        }
        writer.start()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return data
    }

    /// Lines of a JSONL output file so far (0 if it does not exist yet).
    static func lineCount(_ path: String) -> Int {
        guard let data = FileManager.default.contents(atPath: path) else { return 0 }
        return data.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
    }

    /// Waits until the output has at least `count` lines; false after `timeout` seconds.
    @discardableResult
    static func waitForLines(_ path: String, count: Int, timeout: Double = 30) -> Bool {
        MetricsScrape.eventually(timeout: timeout) { lineCount(path) >= count }
    }

    /// The `n` of every delivered event whose `message` parsed as a numbered line.
    static func numbers(_ path: String) throws -> [Int] {
        try Driftwood.jsonLines(path).compactMap { $0["n"] as? Int }
    }

    /// Every `n` from `range` delivered at least once, and how many were delivered twice or more.
    static func coverage(_ numbers: [Int], of range: Range<Int>) -> (missing: [Int], duplicates: Int) {
        var seen = [Int: Int]()
        for n in numbers { seen[n, default: 0] += 1 }
        let missing = range.filter { seen[$0] == nil }
        return (missing, seen.values.reduce(0) { $0 + max(0, $1 - 1) })
    }
}
