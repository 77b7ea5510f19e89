import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A helper process that prints one JSON line with its `url` when ready (osmem-server, the
/// fault proxy). Started by the tests on 127.0.0.1 and ended by its own PID, never by name.
final class LocalServer: @unchecked Sendable {
    let process: Process
    let url: String
    let name: String
    private let stdinPipe: Pipe?

    /// Starts `executable` and waits (up to `timeout` seconds) for its ready line.
    /// - Parameter keepStdinOpen: give it a pipe on stdin that closes when the test process
    ///   ends, for servers that exit when their stdin closes.
    init(name: String, executable: String, arguments: [String], keepStdinOpen: Bool, timeout: Double = 30) throws {
        self.name = name
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString).out")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        let handle = try FileHandle(forWritingTo: out)
        process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = handle
        process.standardError = handle
        if keepStdinOpen {
            let pipe = Pipe()
            process.standardInput = pipe
            stdinPipe = pipe
        } else {
            process.standardInput = FileHandle.nullDevice
            stdinPipe = nil
        }
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        var found: String?
        while found == nil && Date() < deadline && process.isRunning {
            if let text = try? String(contentsOf: out, encoding: .utf8) {
                for line in text.split(separator: "\n") {
                    if let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                        let u = object["url"] as? String
                    {
                        found = u
                        break
                    }
                }
            }
            if found == nil { Thread.sleep(forTimeInterval: 0.05) }
        }
        guard let found else {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            let text = (try? String(contentsOf: out, encoding: .utf8)) ?? ""
            throw ServerError(description: "\(name) did not start: \(text)")
        }
        precondition(
            found.hasPrefix("http://127.0.0.1:") || found.hasPrefix("https://127.0.0.1:"),
            "test servers listen on 127.0.0.1 only")
        url = found
    }

    struct ServerError: Error, CustomStringConvertible { let description: String }

    /// Ends the process by its PID and waits for it.
    func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    deinit { stop() }

    // MARK: HTTP

    /// A request to this server; returns the status and the body.
    @discardableResult
    func request(_ method: String, _ path: String, json: Any? = nil, body: Data? = nil) throws -> (status: Int, body: Data) {
        try HTTP.request(method, url + path, body: json.map { try JSONSerialization.data(withJSONObject: $0) } ?? body)
    }

    /// The body of a 2xx answer as a JSON object.
    func get(_ path: String) throws -> [String: Any] {
        let (status, body) = try request("GET", path)
        guard (200..<300).contains(status) else {
            throw ServerError(description: "GET \(path): \(status) \(String(decoding: body, as: UTF8.self))")
        }
        return try JSONSerialization.jsonObject(with: body) as! [String: Any]
    }
}

/// Blocking HTTP for tests (URLSession, waited on with a semaphore).
enum HTTP {
    final class Box: @unchecked Sendable {
        var status = 0
        var data = Data()
        var error: Error?
        let done = DispatchSemaphore(value: 0)
    }

    static func request(_ method: String, _ url: String, body: Data? = nil) throws -> (status: Int, body: Data) {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = method
        request.timeoutInterval = 60
        if let body {
            request.httpBody = body
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let box = Box()
        let task = URLSession.shared.dataTask(with: request) { data, response, error in
            box.data = data ?? Data()
            box.status = (response as? HTTPURLResponse)?.statusCode ?? 0
            box.error = error
            box.done.signal()
        }
        task.resume()
        box.done.wait()
        if let error = box.error { throw error }
        return (box.status, box.data)
    }
}
