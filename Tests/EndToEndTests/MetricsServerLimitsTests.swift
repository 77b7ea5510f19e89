import Foundation
import Testing

/// The metrics server under idle and slow clients, and the `*` host, through the real binary.
@Suite(.serialized) struct MetricsServerLimitsTests {
    /// Three thousand idle sockets to the metrics port: the server keeps at most a few dozen
    /// open (closing the longest idle to make room), so the file input still finds and reads a
    /// new log file and `/health` still answers.
    @Test func idleSocketsTakeNeitherTheInputsDescriptorsNorHealth() throws {
        let dir = try Driftwood.temporaryDirectory()
        let logs = dir.appendingPathComponent("logs")
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        let out = dir.appendingPathComponent("out.jsonl").path
        let pipeline = try Driftwood.write(
            """
            data_dir: \(dir.appendingPathComponent("state").path)
            metrics: {address: "127.0.0.1:0"}
            inputs: [{type: file, paths: ["\(logs.path)/*.log"], scan_interval: 200ms}]
            outputs: [{type: jsonl, path: \(out)}]
            """, to: "p.yml", in: dir)
        let running = try Driftwood.Running(["run", pipeline], directory: dir)
        defer {
            kill(running.pid, SIGTERM)
            _ = running.wait(timeout: 30)
        }
        let base = try running.metricsBase()
        let port = UInt16(base.split(separator: ":").last!)!
        try FileLogs.append(FileLogs.lines(0..<10), to: logs.appendingPathComponent("a.log").path)
        #expect(FileLogs.waitForLines(out, count: 10))

        var sockets: [Int32] = []
        defer { for fd in sockets { close(fd) } }
        for _ in 0..<3000 {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { break }
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            _ = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            sockets.append(fd)
        }
        #expect(sockets.count == 3000)
        Thread.sleep(forTimeInterval: 2)
        // driftwood holds few descriptors whatever the crowd at its port.
        let held = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(running.pid)/fd").count) ?? 0
        #expect(held > 0 && held < 200, "driftwood holds \(held) descriptors with 3000 sockets at its metrics port")

        // A new file is found and read; /health answers.
        try FileLogs.append(FileLogs.lines(10..<20, source: "b"), to: logs.appendingPathComponent("b.log").path)
        #expect(FileLogs.waitForLines(out, count: 20), "the new log file was not read")
        let started = Date()
        let health = try MetricsScrape.health(base)
        #expect(health.status == 200)
        #expect(Date().timeIntervalSince(started) < 5)
        #expect(running.stderr.contains("max_connections="))
    }

    /// A client that sends half a request head and stops is closed after the header timeout
    /// (10 s); an idle one after the idle timeout (30 s) is not waited for here.
    @Test func halfARequestIsClosedAfterTheHeaderTimeout() throws {
        let dir = try Driftwood.temporaryDirectory()
        let pipeline = try Driftwood.write(
            """
            data_dir: \(dir.appendingPathComponent("state").path)
            inputs: [{type: stdin}]
            outputs: [{type: jsonl, path: \(dir.appendingPathComponent("out.jsonl").path)}]
            """, to: "p.yml", in: dir)
        let running = try Driftwood.Running(["run", pipeline, "--metrics-address", "127.0.0.1:0"], directory: dir)
        defer {
            running.closeInput()
            _ = running.wait(timeout: 30)
        }
        let base = try running.metricsBase()
        let port = UInt16(base.split(separator: ":").last!)!
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        #expect(connected == 0)
        let partial = Array("GET /health HTTP/1.1\r\nHost: x\r\n".utf8)
        _ = partial.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        var timeout = timeval(tv_sec: 20, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let started = Date()
        var byte: UInt8 = 0
        let n = recv(fd, &byte, 1, 0)
        let waited = Date().timeIntervalSince(started)
        #expect(n == 0, "the server did not close a connection stuck in its request head")
        #expect(waited > 8 && waited < 15, "closed after \(waited) s")
    }

    /// `*:PORT` means every IPv4 interface: the log says 0.0.0.0 and 127.0.0.1 reaches it.
    @Test func starMeansEveryInterface() throws {
        let dir = try Driftwood.temporaryDirectory()
        let pipeline = try Driftwood.write(
            """
            data_dir: \(dir.appendingPathComponent("state").path)
            metrics: {address: "*:0"}
            inputs: [{type: stdin}]
            outputs: [{type: jsonl, path: \(dir.appendingPathComponent("out.jsonl").path)}]
            """, to: "p.yml", in: dir)
        #expect(try Driftwood.run(["check", pipeline]).code == 0)
        let running = try Driftwood.Running(["run", pipeline], directory: dir)
        defer {
            running.closeInput()
            _ = running.wait(timeout: 30)
        }
        var port: String?
        _ = MetricsScrape.eventually(timeout: 20) {
            port = running.stderr.firstMatch(of: /serving \/metrics.*address=0\.0\.0\.0:(\d+)/).map { String($0.1) }
            return port != nil
        }
        let found = try #require(port, "no 0.0.0.0 address in: \(running.stderr)")
        #expect(try MetricsScrape.health("http://127.0.0.1:\(found)").status == 200)
    }
}
