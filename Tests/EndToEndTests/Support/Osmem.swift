import Foundation

/// osmem-server, an in-memory OpenSearch-compatible server (`pip install osmem-server`), on a
/// free port of 127.0.0.1. One per test, so tests never see each other's documents.
enum Osmem {
    /// The binary: `OSMEM_SERVER_BIN`, or the one in the installed wheel (`osmem_server/bin/`).
    static let binary: String? = {
        if let path = ProcessInfo.processInfo.environment["OSMEM_SERVER_BIN"] { return path }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import osmem_server; print(osmem_server.resolve_binary())"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return nil }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        let path = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }()

    /// Starts a server; `-parent-pid` ends it if the test process dies before `stop()`.
    static func start() throws -> LocalServer {
        guard let binary else {
            throw LocalServer.ServerError(
                description: "osmem-server is not installed: run scripts/install-deps.sh (pip install osmem-server)")
        }
        return try LocalServer(
            name: "osmem",
            executable: binary,
            arguments: ["-addr", "127.0.0.1:0", "-no-stdin-watch", "-no-ja", "-parent-pid", "\(getpid())"],
            keepStdinOpen: false)
    }
}

extension LocalServer {
    /// Documents in `index` (a name or a pattern like `model-logs-*`).
    func count(_ index: String) throws -> Int {
        (try get("/\(index)/_count")["count"] as? Int) ?? -1
    }

    /// The `_source` of every document in `index` with its `_id` under "_id".
    func documents(_ index: String) throws -> [[String: Any]] {
        let result = try get("/\(index)/_search?size=10000")
        let hits = (result["hits"] as? [String: Any])?["hits"] as? [[String: Any]] ?? []
        return hits.map { hit in
            var source = hit["_source"] as? [String: Any] ?? [:]
            source["_id"] = hit["_id"]
            source["_index"] = hit["_index"]
            return source
        }
    }
}
