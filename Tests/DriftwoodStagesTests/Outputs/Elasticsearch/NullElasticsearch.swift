import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `Tests/Fixtures/elasticsearch/fault_proxy.py` without an upstream: a null Elasticsearch on
/// 127.0.0.1 that answers every bulk item 201, takes injected faults and records requests.
/// Ended by its PID (and when the test process's end closes its stdin).
final class NullElasticsearch: @unchecked Sendable {
    let process = Process()
    let url: String
    private let stdin = Pipe()

    init() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        let script = root.appendingPathComponent("Fixtures/elasticsearch/fault_proxy.py").path
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("null-es-\(UUID().uuidString).out")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script]
        process.standardInput = stdin
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(20)
        var found: String?
        while found == nil && Date() < deadline {
            if let line = try? String(contentsOf: out, encoding: .utf8).split(separator: "\n").first,
                let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            {
                found = object["url"] as? String
            } else {
                Thread.sleep(forTimeInterval: 0.05)
            }
        }
        guard let found, found.hasPrefix("http://127.0.0.1:") else {
            kill(process.processIdentifier, SIGKILL)
            throw CocoaError(.fileReadUnknown)
        }
        url = found
    }

    func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    deinit { stop() }

    @discardableResult
    func post(_ path: String, _ json: Any) throws -> Data {
        var request = URLRequest(url: URL(string: url + path)!)
        request.httpMethod = "POST"
        request.httpBody = try JSONSerialization.data(withJSONObject: json)
        return try Self.send(request)
    }

    func down(status: Int = 503) throws { try post("/_proxy/down", ["status": status]) }
    func up() throws { try post("/_proxy/up", [String: Any]()) }
    func inject(_ faults: [[String: Any]]) throws { try post("/_proxy/faults", faults) }

    /// Recorded `_bulk` requests: status and number of items.
    func bulkRequests() throws -> [(status: String, items: Int)] {
        let data = try Self.send(URLRequest(url: URL(string: url + "/_proxy/requests")!))
        let all = try JSONSerialization.jsonObject(with: data) as! [[String: Any]]
        return all.filter { ($0["path"] as? String)?.contains("_bulk") == true }.map {
            ("\($0["status"] ?? "")", ($0["line_count"] as? Int ?? 0) / 2)
        }
    }

    final class Box: @unchecked Sendable {
        var data = Data()
        var error: Error?
        let done = DispatchSemaphore(value: 0)
    }

    static func send(_ request: URLRequest) throws -> Data {
        let box = Box()
        URLSession.shared.dataTask(with: request) { data, _, error in
            box.data = data ?? Data()
            box.error = error
            box.done.signal()
        }.resume()
        box.done.wait()
        if let error = box.error { throw error }
        return box.data
    }
}
