import Foundation
import Testing

@testable import DriftwoodCore
@testable import DriftwoodStages

#if canImport(Glibc)
import Glibc
#endif

/// JSONL and stdout outputs, and the gzip codec they use.
@Suite struct OutputTests {
    // MARK: Helpers

    static func temporaryDirectory() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dw-out-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// A JSONL output read from a pipeline file, e.g. `path: "/tmp/x.jsonl", compression: gzip`.
    static func jsonl(_ options: String) throws -> JSONLOutput {
        let config = try PipelineConfig.load(
            text: "inputs: [{type: stdin}]\noutputs: [{type: jsonl, \(options)}]\n", file: "o.yml", environment: [:],
            catalog: StageCatalog.descriptors)
        return JSONLOutput(config: try #require(config.outputs.first?.config as? JSONLConfig))
    }

    /// A batch of events from JSON texts, with an acknowledgement that counts its completions.
    static func batch(_ json: [String], acks: Counter? = nil) throws -> EventBatch {
        EventBatch(
            events: try json.map { Event(fields: try Fields(json: $0)) },
            acknowledgement: acks.map { c in Acknowledgement(count: 1) { c.increment() } })
    }

    /// Hands a batch to an output the way the engine does: counted, encoded ahead, then written.
    static func deliver(_ batch: EventBatch, to output: some Output) throws {
        var batch = batch
        batch.eventCount = batch.events.count
        try output.write(output.encode(batch))
    }

    static func read(_ path: String) -> String? {
        FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Runs a program and returns its standard output; it must exit 0.
    static func run(_ program: String, _ arguments: [String]) throws -> [UInt8] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(program) \(arguments) exited \(process.terminationStatus)")
        return Array(data)
    }

    // MARK: JSONL

    @Test func constantPathAppendsCompactLinesAndSettles() throws {
        let dir = try Self.temporaryDirectory()
        let output = try Self.jsonl(#"path: "\#(dir)/out.jsonl""#)
        let acks = Counter()
        try Self.deliver(Self.batch([#"{"@timestamp":"2026-11-24T10:00:00.000Z", "a": [1, 2]}"#, #"{"b":"x\ny"}"#], acks: acks), to: output)
        #expect(acks.value == 1)
        try Self.deliver(Self.batch([#"{"c":null}"#], acks: acks), to: output)
        try output.close()
        #expect(acks.value == 2)
        #expect(Self.read("\(dir)/out.jsonl") == """
            {"@timestamp":"2026-11-24T10:00:00.000Z","a":[1,2]}
            {"b":"x\\ny"}
            {"c":null}

            """)
    }

    @Test func templatedPathSplitsByFieldAndUTCDate() throws {
        let dir = try Self.temporaryDirectory()
        let output = try Self.jsonl(#"path: "\#(dir)/out/%{model}-%{+yyyy-MM-dd}.jsonl""#)
        try Self.deliver(Self.batch([
            #"{"@timestamp":"2026-11-24T10:00:00.000Z","model":"fraud","i":0}"#,
            #"{"@timestamp":"2026-11-25T01:00:00.000Z","model":"fraud","i":1}"#,
            #"{"@timestamp":"2026-11-25T00:30:00.000+02:00","model":"churn","i":2}"#,
            #"{"@timestamp":"2026-11-24T12:00:00.000Z","i":3}"#,
            #"{"@timestamp":"2026-11-24T11:00:00.000Z","model":"fraud","i":4}"#,
        ]), to: output)
        try Self.deliver(Self.batch([#"{"@timestamp":"2026-11-24T13:00:00.000Z","model":"fraud","i":5}"#]), to: output)
        try output.close()
        let files = try FileManager.default.contentsOfDirectory(atPath: "\(dir)/out").sorted()
        #expect(files == ["_unknown_-2026-11-24.jsonl", "churn-2026-11-24.jsonl", "fraud-2026-11-24.jsonl", "fraud-2026-11-25.jsonl"])
        func ids(_ name: String) -> [Int64] {
            (Self.read("\(dir)/out/\(name)") ?? "").split(separator: "\n").map {
                (try? Fields(json: String($0)))?.value(at: FieldPath("i")!)?.integer ?? -1
            }
        }
        #expect(ids("fraud-2026-11-24.jsonl") == [0, 4, 5])
        #expect(ids("fraud-2026-11-25.jsonl") == [1])
        #expect(ids("churn-2026-11-24.jsonl") == [2])
        #expect(ids("_unknown_-2026-11-24.jsonl") == [3])
    }

    @Test func parentDirectoriesAreCreated() throws {
        let dir = try Self.temporaryDirectory()
        let output = try Self.jsonl(#"path: "\#(dir)/a/b/%{model}/c/out.jsonl""#)
        try Self.deliver(Self.batch([#"{"model":"m1"}"#]), to: output)
        try output.close()
        #expect(Self.read("\(dir)/a/b/m1/c/out.jsonl") == "{\"model\":\"m1\"}\n")
    }

    @Test func gzipWritesOneMemberPerWriteThatGzipReads() throws {
        let dir = try Self.temporaryDirectory()
        let path = "\(dir)/out.jsonl.gz"
        let output = try Self.jsonl(#"path: "\#(path)", compression: gzip"#)
        let first = (0..<100).map { #"{"i":\#($0),"msg":"line \#($0)"}"# }
        try Self.deliver(Self.batch(first), to: output)
        let afterOne = try #require(FileManager.default.contents(atPath: path))
        #expect(Array(afterOne.prefix(2)) == [0x1F, 0x8B])
        try Self.deliver(Self.batch([#"{"i":100}"#]), to: output)
        try output.close()
        let all = try #require(FileManager.default.contents(atPath: path))
        #expect(all.count > afterOne.count && Array(all[afterOne.count...].prefix(2)) == [0x1F, 0x8B], "a second member")
        let expected = (first + [#"{"i":100}"#]).map { $0 + "\n" }.joined()
        #expect(String(decoding: try Self.run("/bin/gzip", ["-dc", path]), as: UTF8.self) == expected)
        #expect(String(decoding: try Gzip.decompress(Array(all)), as: UTF8.self) == expected)
    }

    @Test func rotationKeepsWholeLinesAndLosesNone() throws {
        let dir = try Self.temporaryDirectory()
        let path = "\(dir)/out.jsonl"
        let output = try Self.jsonl(#"path: "\#(path)", rotate: {max_bytes: 100}"#)
        var lines: [String] = []
        for i in 0..<10 {  // one event a write
            let line = #"{"i":\#(i),"pad":"\#(String(repeating: "x", count: i))"}"#
            lines.append(line)
            try Self.deliver(Self.batch([line]), to: output)
        }
        let big = (10..<25).map { #"{"i":\#($0),"pad":"abc"}"# }  // one write bigger than a file
        lines += big
        try Self.deliver(Self.batch(big), to: output)
        let huge = #"{"i":25,"pad":"\#(String(repeating: "y", count: 150))"}"#  // longer than max_bytes
        lines.append(huge)
        try Self.deliver(Self.batch([huge, #"{"i":26}"#]), to: output)
        lines.append(#"{"i":26}"#)
        try output.close()

        var files: [String] = []
        var n = 1
        while FileManager.default.fileExists(atPath: "\(path).\(n)") {
            files.append("\(path).\(n)")
            n += 1
        }
        files.append(path)
        #expect(files.count >= 5, "\(files)")
        let contents = files.map { Self.read($0) ?? "" }
        #expect(contents.joined() == lines.map { $0 + "\n" }.joined(), "every line once, in order")
        var next = 0
        for (k, text) in contents.enumerated() {
            #expect(text.hasSuffix("\n"), "\(files[k]) ends mid-line")
            let fileLines = text.split(separator: "\n").map(String.init)
            for line in fileLines { #expect((try? Fields(json: line)) != nil, "cut line in \(files[k]): \(line)") }
            if text.utf8.count > 100 {
                #expect(fileLines == [huge], "only a single oversized line may pass max_bytes")
            }
            next += fileLines.count
            if k < contents.count - 1, next < lines.count, text.utf8.count <= 100 {
                // Rotated because the next line did not fit, not earlier.
                #expect(text.utf8.count + lines[next].utf8.count + 1 > 100, "\(files[k]) rotated early")
            }
        }
    }

    // MARK: Gzip

    @Test func gzipRoundTrip() throws {
        var rng = SplitMix(seed: 7)
        let random = (0..<200_000).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        let text = Array(String(repeating: #"{"level":"INFO","msg":"hello"}\#n"#, count: 5000).utf8)
        for data in [random, text, [], [0x41]] {
            let packed = data.withUnsafeBufferPointer { Gzip.compress($0) }
            #expect(Array(packed.prefix(2)) == [0x1F, 0x8B])
            #expect(try Gzip.decompress(packed) == data)
        }
        let packedText = text.withUnsafeBufferPointer { Gzip.compress($0) }
        #expect(packedText.count < text.count / 10, "text compresses")
    }

    @Test func multiMemberRoundTrip() throws {
        let parts = ["first member\n", "", "second member\n", String(repeating: "z", count: 70_000)].map { Array($0.utf8) }
        let joined = parts.flatMap { p in p.withUnsafeBufferPointer { Gzip.compress($0) } }
        #expect(try Gzip.decompress(joined) == parts.flatMap { $0 })
    }

    @Test func corruptDataThrows() throws {
        let packed = Array("some text to pack, some text to pack\n".utf8).withUnsafeBufferPointer { Gzip.compress($0) }
        #expect(throws: Gzip.InflateError.self) { try Gzip.decompress(Array(packed.prefix(packed.count / 2))) }
        var flipped = packed
        flipped[packed.count - 6] ^= 0xFF  // the CRC
        #expect(throws: Gzip.InflateError.self) { try Gzip.decompress(flipped) }
        #expect(throws: Gzip.InflateError.self) { try Gzip.decompress(Array("not gzip at all".utf8)) }
    }

    @Test func roundTripAgainstTheGzipBinary() throws {
        let dir = try Self.temporaryDirectory()
        var rng = SplitMix(seed: 11)
        let data = (0..<100_000).map { i in i % 3 == 0 ? UInt8(truncatingIfNeeded: rng.next()) : UInt8(ascii: "a") }
        let ours = data.withUnsafeBufferPointer { Gzip.compress($0) } + Array("tail\n".utf8).withUnsafeBufferPointer { Gzip.compress($0) }
        #expect(FileManager.default.createFile(atPath: "\(dir)/ours.gz", contents: Data(ours)))
        #expect(try Self.run("/bin/gzip", ["-dc", "\(dir)/ours.gz"]) == data + Array("tail\n".utf8))
        #expect(FileManager.default.createFile(atPath: "\(dir)/plain", contents: Data(data)))
        let theirs = try Self.run("/bin/gzip", ["-c", "-9", "\(dir)/plain"])
        #expect(try Gzip.decompress(theirs) == data)
    }

    // MARK: Stdout

    static let sample = [
        #"{"@timestamp":"2026-11-24T10:00:00.000Z","a":1,"b":{"c":[1,"x,{y}:z"]},"e":{},"f":[]}"#, #"{"g":true}"#,
    ]

    @Test func stdoutJSONIsOneCompactObjectALine() throws {
        var out: [UInt8] = []
        StdoutOutput.encode(try Self.batch(Self.sample).events, pretty: false, into: &out)
        #expect(String(decoding: out, as: UTF8.self) == Self.sample.joined(separator: "\n") + "\n")
    }

    @Test func stdoutPrettyIndentsByTwo() throws {
        var out: [UInt8] = []
        StdoutOutput.encode(try Self.batch(Self.sample).events, pretty: true, into: &out)
        #expect(String(decoding: out, as: UTF8.self) == """
            {
              "@timestamp": "2026-11-24T10:00:00.000Z",
              "a": 1,
              "b": {
                "c": [
                  1,
                  "x,{y}:z"
                ]
              },
              "e": {},
              "f": []
            }
            {
              "g": true
            }

            """)
    }

    @Test func stdoutWritesToItsDescriptorAndSettles() throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { Glibc.close(fds[0]) }
        let output = StdoutOutput(config: StdoutConfig(pretty: false), fd: fds[1])
        let acks = Counter()
        try Self.deliver(Self.batch([#"{"a":1}"#, #"{"b":"é"}"#], acks: acks), to: output)
        try output.close()
        Glibc.close(fds[1])
        #expect(acks.value == 1)
        let read = FileHandle(fileDescriptor: fds[0], closeOnDealloc: false).readDataToEndOfFile()
        #expect(String(decoding: read, as: UTF8.self) == "{\"a\":1}\n{\"b\":\"é\"}\n")
    }

    @Test func fieldValuesCannotEscapeTheOutputDirectory() throws {
        let dir = try Self.temporaryDirectory()
        let output = try Self.jsonl("path: \"\(dir)/out/%{model}.jsonl\"")
        try Self.deliver(
            try Self.batch([#"{"model":"../../etc/x"}"#, #"{"model":".."}"#, #"{"model":"a/b"}"#]), to: output)
        try output.close()
        let files = try FileManager.default.contentsOfDirectory(atPath: "\(dir)/out").sorted()
        #expect(files == [".._.._etc_x.jsonl", "_.jsonl", "a_b.jsonl"])
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/etc"))
    }
}
