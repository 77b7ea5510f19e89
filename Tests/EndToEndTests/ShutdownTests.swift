import Foundation
import Testing

/// SIGTERM and SIGINT: stop reading, drain, exit 0 — through the real binary, with stdin still open.
@Suite struct ShutdownTests {
    @Test(arguments: [SIGTERM, SIGINT])
    func signalDrainsAndExitsZero(signal: Int32) throws {
        let dir = try Driftwood.temporaryDirectory()
        let pipeline = try Driftwood.write(
            """
            inputs: [{type: stdin}]
            filters: [{type: parse, format: json}]
            outputs: [{type: jsonl, path: out.jsonl}]
            shutdown_timeout: 10s
            """, to: "p.yml", in: dir)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Driftwood.binary)
        process.arguments = ["run", pipeline]
        process.currentDirectoryURL = dir
        let input = Pipe()
        process.standardInput = input
        process.standardError = FileHandle.nullDevice
        try process.run()
        let lines = (0..<1000).map { #"{"n":\#($0)}"# }.joined(separator: "\n") + "\n"
        input.fileHandleForWriting.write(Data(lines.utf8))
        // Wait until everything written so far has landed, with stdin still open.
        let out = dir.appendingPathComponent("out.jsonl").path
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if let text = try? String(contentsOfFile: out, encoding: .utf8), text.split(separator: "\n").count == 1000 {
                break
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        kill(process.processIdentifier, signal)
        let stopDeadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < stopDeadline { Thread.sleep(forTimeInterval: 0.05) }
        #expect(!process.isRunning, "driftwood did not stop on signal \(signal)")
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let events = try Driftwood.jsonLines(out)
        #expect(events.count == 1000)
        #expect(events.last?["n"] as? Int == 999)
    }
}
