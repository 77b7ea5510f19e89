import Foundation

/// librdkafka's mock cluster (no Kafka broker is packaged for Debian): `Tests/Fixtures/kafka/
/// mock_cluster.c`, built with gcc against the system librdkafka on first use, run as a process
/// that prints its bootstrap address and takes commands on stdin (create a topic, take a broker
/// down, bring it back). Its data lives in the process: one cluster per test.
final class KafkaMock: @unchecked Sendable {
    struct Failure: Error, CustomStringConvertible { let description: String }

    static let source = Driftwood.packageRoot.appendingPathComponent("Tests/Fixtures/kafka/mock_cluster.c").path

    /// The built fixture, in the temporary directory (rebuilt when the source is newer).
    static let binary: Result<String, Failure> = {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("driftwood-kafka-mock-\(getuid())").path
        let srcDate = (try? FileManager.default.attributesOfItem(atPath: source)[.modificationDate] as? Date) ?? .distantFuture
        let binDate = (try? FileManager.default.attributesOfItem(atPath: out)[.modificationDate] as? Date) ?? .distantPast
        if binDate > srcDate { return .success(out) }
        let gcc = try? Driftwood.run(["-O1", "-o", out, source, "-lrdkafka"], executable: "/usr/bin/gcc")
        guard let gcc, gcc.code == 0 else {
            return .failure(Failure(description: "cannot build \(source) (apt install gcc librdkafka-dev): \(gcc?.stderr ?? "no gcc")"))
        }
        return .success(out)
    }()

    let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    /// `host:port,host:port,…`
    let bootstrap: String

    init(brokers: Int = 1, topics: [String: Int] = [:]) throws {
        process.executableURL = URL(fileURLWithPath: try Self.binary.get())
        process.arguments = ["\(brokers)"]
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        bootstrap = Self.readLine(output.fileHandleForReading) ?? ""
        guard bootstrap.contains(":") else { throw Failure(description: "the mock cluster printed no address") }
        for (topic, partitions) in topics { try command("topic \(topic) \(partitions)") }
    }

    deinit { stop() }

    /// The first broker's address.
    var firstBroker: String { String(bootstrap.split(separator: ",").first ?? "") }

    /// Sends one command and waits for its "ok".
    func command(_ line: String) throws {
        input.fileHandleForWriting.write(Data((line + "\n").utf8))
        let answer = Self.readLine(output.fileHandleForReading) ?? "no answer"
        if answer != "ok" { throw Failure(description: "mock cluster: '\(line)' → \(answer)") }
    }

    func brokerDown(_ id: Int) throws { try command("down \(id)") }
    func brokerUp(_ id: Int) throws { try command("up \(id)") }

    /// Ends the cluster: "quit" on its stdin (a signal may be blocked in the mask it inherited),
    /// SIGKILL if it is still there after 5 s.
    func stop() {
        guard process.isRunning else { return }
        try? input.fileHandleForWriting.write(contentsOf: Data("quit\n".utf8))
        try? input.fileHandleForWriting.close()
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    private static func readLine(_ handle: FileHandle) -> String? {
        var bytes: [UInt8] = []
        while true {
            guard let byte = try? handle.read(upToCount: 1), let b = byte.first else { return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self) }
            if b == 0x0A { return String(decoding: bytes, as: UTF8.self) }
            bytes.append(b)
        }
    }

    /// A record as kcat reads it.
    struct Record {
        let partition: Int
        let offset: Int
        let key: String
        let headers: String
        let value: String
    }

    /// Every record of `topic` from the beginning, read with kcat (Debian's librdkafka).
    func records(_ topic: String) throws -> [Record] {
        // Fields separated by a byte that JSON values never hold unescaped.
        let result = try Driftwood.run(
            ["-C", "-b", bootstrap, "-t", topic, "-o", "beginning", "-e", "-q", "-f", "%p\u{1}%o\u{1}%k\u{1}%h\u{1}%s\u{2}"],
            executable: "/usr/bin/kcat")
        guard result.code == 0 else { throw Failure(description: "kcat: \(result.stderr)") }
        return result.stdout.split(separator: "\u{2}").compactMap { chunk in
            let f = chunk.split(separator: "\u{1}", omittingEmptySubsequences: false).map(String.init)
            guard f.count == 5 else { return nil }
            return Record(partition: Int(f[0]) ?? -1, offset: Int(f[1]) ?? -1, key: f[2], headers: f[3], value: f[4])
        }
    }

    /// Produces `lines` (one record each) to `topic` with kcat, keyed `key`. `spread`: records
    /// without a key each go to a partition of their own choosing (librdkafka otherwise sticks
    /// to one partition for a burst, so a burst may leave partitions out).
    func produce(_ lines: [String], to topic: String, key: String? = nil, spread: Bool = false) throws {
        try produce(raw: Data((lines.joined(separator: "\n") + "\n").utf8), to: topic, key: key, spread: spread)
    }

    /// Produces the newline-separated records in `data` (bytes as they are) to `topic`.
    func produce(raw data: Data, to topic: String, key: String? = nil, spread: Bool = false) throws {
        var args = ["-P", "-b", bootstrap, "-t", topic]
        if let key { args += ["-k", key] }
        if spread { args += ["-X", "sticky.partitioning.linger.ms=0"] }
        let result = try Driftwood.run(args, stdin: data, executable: "/usr/bin/kcat")
        guard result.code == 0 else { throw Failure(description: "kcat: \(result.stderr)") }
    }
}
