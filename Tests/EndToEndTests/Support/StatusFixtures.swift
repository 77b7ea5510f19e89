import Foundation

/// The demo pipeline (parse, enrich, drift, monitor, three JSONL outputs) pointed at a temporary
/// directory, for the status page, `driftwood top` and the status API tests.
enum StatusFixtures {
    /// pipelines/demo.yml with its sample paths made absolute and its outputs under `dir`;
    /// `logs` (a glob) replaces the sample log, `tail` switches the file input to tail mode.
    static func demoPipeline(in dir: URL, logs: String? = nil, tail: Bool = false) throws -> String {
        let root = Driftwood.packageRoot.path
        var text = try String(contentsOf: Driftwood.packageRoot.appendingPathComponent("pipelines/demo.yml"), encoding: .utf8)
        text = text.replacingOccurrences(of: "${DRIFTWOOD_HOME:-.}/", with: "")
        if let logs {
            text = text.replacingOccurrences(of: "paths: [samples/model_logs.jsonl]", with: "paths: [\"\(logs)\"]")
            text = text.replacingOccurrences(of: "paths: [\"samples/model_logs.jsonl\"]", with: "paths: [\"\(logs)\"]")
        }
        if tail { text = text.replacingOccurrences(of: "    mode: read", with: "    mode: tail") }
        text = text.replacingOccurrences(of: "samples/", with: root + "/samples/")
        text = text.replacingOccurrences(of: "out/demo/", with: dir.path + "/out/")
        return try Driftwood.write(text, to: "demo.yml", in: dir)
    }

    /// `GET /api/v1/status` as JSON (waiting out the 503 of a pipeline still being built).
    static func status(_ base: String) throws -> [String: Any] {
        var (code, body) = try HTTP.request("GET", base + "/api/v1/status")
        let deadline = Date().addingTimeInterval(60)
        while code == 503 && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.1)
            (code, body) = try HTTP.request("GET", base + "/api/v1/status")
        }
        guard code == 200, let json = try JSONSerialization.jsonObject(with: body) as? [String: Any] else {
            throw LocalServer.ServerError(description: "/api/v1/status answered \(code): \(String(decoding: body, as: UTF8.self))")
        }
        return json
    }

    static func stages(_ status: [String: Any]) -> [[String: Any]] { status["stages"] as? [[String: Any]] ?? [] }
    static func models(_ status: [String: Any]) -> [String: [String: Any]] {
        status["models"] as? [String: [String: Any]] ?? [:]
    }
    static func number(_ v: Any?) -> Double? { (v as? NSNumber)?.doubleValue }

    /// The browsers the page is checked in, each by a probe script printing the same JSON.
    enum Browser: String, CaseIterable, CustomStringConvertible {
        /// Headless Chromium over the DevTools protocol (page_probe.py).
        case chromium
        /// Headless Firefox over WebDriver BiDi (page_probe_firefox.py).
        case firefox
        var script: String { self == .chromium ? "page_probe.py" : "page_probe_firefox.py" }
        var description: String { rawValue }
    }

    /// Runs `python3 <probe> URL SHOT TIMEOUT` (the page in a headless browser) and returns its JSON.
    static func probe(_ url: String, screenshot: String, timeout: Double = 60, browser: Browser = .chromium) throws -> [String: Any] {
        let script = Driftwood.packageRoot.appendingPathComponent("Tests/EndToEndTests/Support/\(browser.script)").path
        let result = try Driftwood.run(
            ["python3", script, url, screenshot, String(Int(timeout))], executable: "/usr/bin/env")
        guard result.code == 0, let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        else {
            throw LocalServer.ServerError(description: "\(browser.script) failed (\(result.code)): \(result.stderr)\(result.stdout)")
        }
        return json
    }

    /// Where screenshots are kept after a test: .build/test-artifacts/ in the package.
    static func artifact(_ name: String) throws -> String {
        let dir = Driftwood.packageRoot.appendingPathComponent(".build/test-artifacts")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.appendingPathComponent(name).path
    }
}
