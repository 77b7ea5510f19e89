import Foundation

/// What the first-hour tests share: the ready pipelines run from a directory outside the
/// repository, and waiting on a running driftwood's log.
enum FirstHour {
    /// The repository root, as `DRIFTWOOD_HOME`.
    static var home: String { Driftwood.packageRoot.path }

    /// A ready pipeline's absolute path.
    static func pipeline(_ name: String) -> String { home + "/pipelines/" + name }

    /// The environment the docs say to set: `DRIFTWOOD_HOME`, and a metrics port of the system's choosing.
    static func environment(_ extra: [String: String] = [:]) -> [String: String] {
        ["DRIFTWOOD_HOME": home, "DRIFTWOOD_METRICS_ADDRESS": "127.0.0.1:0"].merging(extra) { _, new in new }
    }

    /// A port nothing listens on (bound, then closed).
    static func closedPort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        close(fd)
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// `count` sample-like JSON lines with their own `ts` on 2026-11-24.
    static func modelLines(_ count: Int, model: String = "fraud-detector", timeField: String = "ts") -> String {
        (0..<count).map { i in
            let second = String(format: "%02d", i % 60)
            return #"{"\#(timeField)":"2026-11-24T10:00:\#(second).000Z","level":"INFO","model":"\#(model)","n":\#(i),"latency_ms":\#(i % 17)}"#
                + "\n"
        }.joined()
    }
}

extension Driftwood.Running {
    /// Waits until stderr contains `text`; false after `timeout` seconds or once the process ended without it.
    func waitForLog(_ text: String, timeout: Double = 30) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if stderr.contains(text) { return true }
            if !process.isRunning { return stderr.contains(text) }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return false
    }
}
