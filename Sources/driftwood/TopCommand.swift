import ArgumentParser
import DriftwoodCore
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// `driftwood top` — the status of a running pipeline in the terminal, redrawn in place (like
/// `vector top`): stages with their rates and queues, models with their health, firing alerts.
/// Reads `/api/v1/status` on the pipeline's `metrics.address`; `q` (or Ctrl-C) quits.
struct TopCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "top", abstract: "Show a running pipeline's stages, models and alerts, refreshed in place.")

    @Option(name: .long, help: "HOST:PORT of the pipeline's metrics.address.") var address = "127.0.0.1:9600"
    @Option(name: .long, help: "Time between two refreshes, like 1s or 500ms.") var interval = "1s"

    func run() throws {
        guard let hostPort = HostPort(address) else {
            throw ValidationError("--address must be HOST:PORT, like 127.0.0.1:9600 (got '\(address)')")
        }
        guard let every = ConfigUnits.duration(interval), every > .zero else {
            throw ValidationError("--interval must be a duration like 1s or 500ms (got '\(interval)')")
        }
        let host = hostPort.host == "0.0.0.0" ? "127.0.0.1" : hostPort.host
        let url = "http://\(address.hasPrefix("[") ? "[\(host)]" : host):\(hostPort.port)/api/v1/status"
        let first: [String: Any]
        do {
            first = try TopStatus.fetch(host: host, port: hostPort.port)
        } catch {
            FileHandle.standardError.write(
                Data(
                    "driftwood top: nothing answers at \(url): \(error). Is `driftwood run` running with metrics.address (or --metrics-address) \(address)?\n"
                        .utf8))
            throw ExitCode(1)
        }
        let terminal = Terminal()
        terminal.enter()
        defer { terminal.leave() }
        var status = first
        var problem: String?
        let millis = Int32(max(50, min(60_000, every.components.seconds * 1000 + every.components.attoseconds / 1_000_000_000_000_000)))
        while true {
            let (columns, rows) = terminal.size()
            let lines = TopScreen.lines(status, url: url, problem: problem, width: columns)
            terminal.draw(Array(lines.prefix(rows)))
            if terminal.waitForQuit(milliseconds: millis) { return }
            do {
                status = try TopStatus.fetch(host: host, port: hostPort.port)
                problem = nil
            } catch {
                problem = "not answering (\(error)); retrying"
            }
        }
    }
}

/// Gets `/api/v1/status` over one HTTP/1.0 connection (no library needed for a local GET).
enum TopStatus {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func fetch(host: String, port: Int, timeoutSeconds: Int = 3) throws -> [String: Any] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var info: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &info) == 0, let first = info else {
            throw Failure(description: "cannot resolve host '\(host)'")
        }
        defer { freeaddrinfo(info) }
        let fd = socket(first.pointee.ai_family, first.pointee.ai_socktype, first.pointee.ai_protocol)
        guard fd >= 0 else { throw Failure(description: String(cString: strerror(errno))) }
        defer { close(fd) }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        guard connect(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 else {
            throw Failure(description: String(cString: strerror(errno)).lowercased())
        }
        let request = Array("GET /api/v1/status HTTP/1.0\r\nHost: \(host)\r\nAccept: application/json\r\n\r\n".utf8)
        guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == request.count else {
            throw Failure(description: "cannot send the request")
        }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 { throw Failure(description: "no answer within \(timeoutSeconds)s") }
            if n == 0 { break }
            response += buffer[0..<n]
            if response.count > 64 << 20 { throw Failure(description: "answer too large") }
        }
        guard let split = response.firstRange(of: Array("\r\n\r\n".utf8)) else {
            throw Failure(description: "not an HTTP answer")
        }
        let head = String(decoding: response[..<split.lowerBound], as: UTF8.self)
        guard head.hasPrefix("HTTP/1.") && head.split(separator: " ").dropFirst().first == "200" else {
            throw Failure(description: "answered \(head.split(separator: "\r\n").first ?? "?") (is this a driftwood metrics address?)")
        }
        let body = Data(response[split.upperBound...])
        guard let json = try? JSONSerialization.jsonObject(with: body) as? [String: Any], json["stages"] != nil else {
            throw Failure(description: "the answer is not driftwood's status JSON")
        }
        return json
    }
}

/// The screen's text, from the status JSON.
enum TopScreen {
    static func lines(_ s: [String: Any], url: String, problem: String?, width: Int) -> [String] {
        var out: [String] = []
        let status = s["status"] as? String ?? "?"
        let up = (s["uptime_seconds"] as? NSNumber)?.intValue ?? 0
        out.append(
            bold("driftwood top") + "  pipeline \(s["pipeline"] as? String ?? "?")  v\(s["version"] as? String ?? "?")  "
                + (status == "ok" ? green(status) : yellow(status)) + "  up \(duration(up))  \(url)  (q quits)")
        if let problem { out.append(red("! " + problem)) }
        out.append("")
        out.append(bold("STAGES"))
        out.append(
            dim(pad("KIND", 7) + pad("ID", 22) + pad("TYPE", 14) + rpad("EVENTS IN", 13) + rpad("EVENTS OUT", 13)
                + rpad("IN/S", 10) + rpad("OUT/S", 10) + "  " + pad("QUEUE", 22) + rpad("ERRORS", 8)))
        for stage in s["stages"] as? [[String: Any]] ?? [] {
            let queue = number(stage["queue_events"])
            let capacity = number(stage["queue_capacity"])
            let kind = stage["kind"] as? String ?? ""
            let queueText = kind == "input" ? "" : bar(capacity > 0 ? queue / capacity : 0, 10) + " " + count(queue)
            let errors = number(stage["errors"])
            out.append(
                pad(kind, 7) + pad(stage["id"] as? String ?? "", 22) + pad(stage["type"] as? String ?? "", 14)
                    + rpad(count(number(stage["events_in"])), 13) + rpad(count(number(stage["events_out"])), 13)
                    + rpad(rate(number(stage["rate_in"])), 10) + rpad(rate(number(stage["rate_out"])), 10) + "  "
                    + pad(queueText, 22) + (errors > 0 ? red(rpad(count(errors), 8)) : rpad("0", 8)))
        }
        let alerts = s["alerts"] as? [[String: Any]] ?? []
        let firing = alerts.filter { $0["firing_now"] as? Bool == true }
        var firingByGroup: [String: Int] = [:]
        for a in firing { firingByGroup[a["group"] as? String ?? "", default: 0] += 1 }
        out.append("")
        out.append(bold("MODELS"))
        out.append(
            dim(pad("GROUP", 24) + rpad("EVENTS", 11) + rpad("RATE/S", 9) + rpad("ERROR RATE", 12) + rpad("LATENCY", 16)
                + "  " + pad("MAX DRIFT", 34) + pad("EVALUATION", 28) + "HEALTH"))
        let models = s["models"] as? [String: Any] ?? [:]
        if models.isEmpty { out.append(dim("(no model seen yet by a drift, monitor or evaluate filter)")) }
        for group in models.keys.sorted() {
            guard let m = models[group] as? [String: Any] else { continue }
            let thresholds = m["thresholds"] as? [String: Any] ?? [:]
            let statistic = m["latency_statistic"] as? String
            var driftText = "–"
            var driftOver = false
            if let d = m["drift"] as? [String: Any] {
                let max = number(d["max"])
                driftText = String(format: "%.3f %@ (%@)", max, d["metric"] as? String ?? "", d["max_feature"] as? String ?? "")
                if let t = thresholds[d["metric"] as? String ?? ""] as? NSNumber { driftOver = max > t.doubleValue }
            }
            var evaluation = "–"
            if let e = m["evaluation"] as? [String: Any], let metrics = e["metrics"] as? [String: Any] {
                evaluation = metrics.keys.sorted().prefix(3).map { "\($0) \(String(format: "%.3f", number(metrics[$0])))" }
                    .joined(separator: " ")
            }
            let n = firingByGroup[group] ?? 0
            let health = n > 0 ? red("\(n) firing") : green("ok")
            let errorRate = m["error_rate"] as? NSNumber
            let latency = m["latency"] as? NSNumber
            out.append(
                pad(group.isEmpty ? "(all events)" : group, 24) + rpad(count(number(m["events"])), 11)
                    + rpad(rate(number(m["rate"])), 9)
                    + rpad(errorRate.map { String(format: "%.2f%%", $0.doubleValue * 100) } ?? "–", 12)
                    + rpad(latency.map { String(format: "%.1f %@", $0.doubleValue, statistic ?? "") } ?? "–", 16) + "  "
                    + (driftOver ? red(pad(driftText, 34)) : pad(driftText, 34)) + pad(evaluation, 28) + health)
        }
        out.append("")
        out.append(bold("FIRING ALERTS") + dim("  (\(firing.count) of the last \(alerts.count) alerts)"))
        if firing.isEmpty { out.append(dim("(none)")) }
        for a in firing {
            let time = (a["time"] as? String ?? "").replacingOccurrences(of: "T", with: " ")
            out.append(
                red(pad(a["type"] as? String ?? "", 22)) + pad(a["group"] as? String ?? "", 20) + pad(String(time.prefix(19)), 21)
                    + (a["message"] as? String ?? ""))
        }
        return out.map { clip($0, width) }
    }

    static func number(_ v: Any?) -> Double { (v as? NSNumber)?.doubleValue ?? 0 }
    static func count(_ v: Double) -> String {
        let n = Int(v.rounded())
        var digits = Array(String(n))
        var i = digits.count - 3
        while i > 0 {
            digits.insert(",", at: i)
            i -= 3
        }
        return String(digits)
    }
    static func rate(_ v: Double) -> String {
        v >= 10_000 ? String(format: "%.1fk", v / 1000) : String(format: v >= 100 ? "%.0f" : "%.1f", v)
    }
    static func duration(_ s: Int) -> String {
        s >= 3600 ? "\(s / 3600)h\(s % 3600 / 60)m" : s >= 60 ? "\(s / 60)m\(s % 60)s" : "\(s)s"
    }
    static func bar(_ fill: Double, _ width: Int) -> String {
        let n = Int((min(max(fill, 0), 1) * Double(width)).rounded(.up))
        let text = String(repeating: "█", count: n) + String(repeating: "·", count: width - n)
        return fill > 0.9 ? red(text) : fill > 0.5 ? yellow(text) : text
    }
    static func pad(_ s: String, _ n: Int) -> String {
        let visible = visibleCount(s)
        return visible >= n ? s + " " : s + String(repeating: " ", count: n - visible)
    }
    static func rpad(_ s: String, _ n: Int) -> String {
        let visible = visibleCount(s)
        return visible >= n ? " " + s : String(repeating: " ", count: n - visible) + s
    }
    /// Characters on screen (escape sequences take none).
    static func visibleCount(_ s: String) -> Int {
        var n = 0
        var escape = false
        for c in s {
            if escape {
                if c == "m" { escape = false }
            } else if c == "\u{1B}" {
                escape = true
            } else {
                n += 1
            }
        }
        return n
    }
    /// At most `width` visible characters, escape sequences kept.
    static func clip(_ s: String, _ width: Int) -> String {
        guard visibleCount(s) > width else { return s }
        var out = ""
        var n = 0
        var escape = false
        for c in s {
            if escape {
                out.append(c)
                if c == "m" { escape = false }
                continue
            }
            if c == "\u{1B}" {
                escape = true
                out.append(c)
                continue
            }
            if n >= width { continue }
            out.append(c)
            n += 1
        }
        return out + "\u{1B}[0m"
    }
    static func bold(_ s: String) -> String { "\u{1B}[1m\(s)\u{1B}[0m" }
    static func dim(_ s: String) -> String { "\u{1B}[2m\(s)\u{1B}[0m" }
    static func red(_ s: String) -> String { "\u{1B}[31m\(s)\u{1B}[0m" }
    static func green(_ s: String) -> String { "\u{1B}[32m\(s)\u{1B}[0m" }
    static func yellow(_ s: String) -> String { "\u{1B}[33m\(s)\u{1B}[0m" }
}

/// The terminal in raw mode on the alternate screen, restored on leaving.
final class Terminal {
    private var saved = termios()
    private var raw = false

    func enter() {
        if isatty(0) == 1, tcgetattr(0, &saved) == 0 {
            var t = saved
            t.c_lflag &= ~tcflag_t(ICANON | ECHO)
            t.c_cc.6 = 1  // VMIN
            t.c_cc.5 = 0  // VTIME
            raw = tcsetattr(0, TCSANOW, &t) == 0
        }
        write("\u{1B}[?1049h\u{1B}[?25l")
    }

    func leave() {
        write("\u{1B}[?25h\u{1B}[?1049l")
        if raw { tcsetattr(0, TCSANOW, &saved) }
    }

    func size() -> (columns: Int, rows: Int) {
        var w = winsize()
        if ioctl(1, UInt(TIOCGWINSZ), &w) == 0, w.ws_col > 0, w.ws_row > 0 { return (Int(w.ws_col), Int(w.ws_row)) }
        return (160, 50)
    }

    /// Redraws in place: home, each line cleared to its end, the rest of the screen cleared.
    func draw(_ lines: [String]) {
        write("\u{1B}[H" + lines.map { $0 + "\u{1B}[K" }.joined(separator: "\r\n") + "\u{1B}[J")
    }

    /// Waits up to `milliseconds` for a key; true when it was `q` (or the input ended).
    func waitForQuit(milliseconds: Int32) -> Bool {
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(milliseconds) * 1_000_000
        while true {
            let now = DispatchTime.now().uptimeNanoseconds
            guard now < deadline else { return false }
            var p = pollfd(fd: 0, events: Int16(POLLIN), revents: 0)
            let left = Int32((deadline - now) / 1_000_000)
            let ready = poll(&p, 1, max(1, left))
            if ready > 0 {
                var byte: UInt8 = 0
                let n = read(0, &byte, 1)
                if n <= 0 { return p.revents & Int16(POLLHUP) != 0 }
                if byte == UInt8(ascii: "q") || byte == UInt8(ascii: "Q") || byte == 3 { return true }
            }
        }
    }

    private func write(_ s: String) {
        let bytes = Array(s.utf8)
        bytes.withUnsafeBytes { _ = Glibc.write(1, $0.baseAddress, $0.count) }
    }
}
