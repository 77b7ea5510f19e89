import DriftwoodCore
import Foundation
import Yams

/// Model name → version, read from a YAML or JSON file, re-read when the file changes.
public final class ModelRegistry {
    /// Why a registry file could not be used.
    public struct LoadError: Error, CustomStringConvertible {
        public let path: String
        public let reason: String
        /// The file could not be read at all (the reason names the absolute path).
        public var unreadable = false
        public var description: String {
            unreadable ? "model registry: \(reason)" : "model registry \(FileAccess.absolute(path)): \(reason)"
        }
    }

    public let path: String
    private(set) var versions: [(name: [UInt8], json: [UInt8])] = []
    private var lookup: [String: [UInt8]] = [:]
    private var modified: Date?
    private var lastCheck = Date.distantPast

    public init(path: String) throws {
        self.path = path
        try reload()
    }

    /// Reads a registry file: a mapping of model name to version (any scalar, read as a string).
    public static func load(path: String) throws -> [(String, String)] {
        let text: String
        do { text = try FileAccess.text(path) } catch {
            var failure = LoadError(path: path, reason: "\(error)")
            failure.unreadable = true
            throw failure
        }
        let node: Node?
        do { node = try Yams.compose(yaml: text) } catch {
            throw LoadError(path: path, reason: "is not valid YAML or JSON: \(error)")
        }
        guard case .mapping(let mapping)? = node else {
            throw LoadError(path: path, reason: "must be a mapping of model name to version")
        }
        var result: [(String, String)] = []
        for (key, value) in mapping {
            guard let name = key.string, case .scalar(let v) = value else {
                throw LoadError(path: path, reason: "line \(key.mark?.line ?? 0): expected 'model name: version'")
            }
            result.append((name, v.string))
        }
        return result
    }

    /// Re-reads the file if it changed (checked at most once a second). A broken new version keeps
    /// the old mapping.
    public func refreshIfChanged(now: Date = Date()) -> LoadError? {
        guard now.timeIntervalSince(lastCheck) >= 1 else { return nil }
        lastCheck = now
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        let mtime = attributes?[.modificationDate] as? Date
        guard mtime != modified else { return nil }
        do {
            try reload()
            return nil
        } catch let error as LoadError {
            modified = mtime
            return error
        } catch {
            return nil
        }
    }

    private func reload() throws {
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        let pairs = try Self.load(path: path)
        modified = attributes?[.modificationDate] as? Date
        versions = pairs.map { name, version in
            var json: [UInt8] = []
            JSONWriter.appendString(version, to: &json)
            return (Array(name.utf8), json)
        }
        lookup = Dictionary(versions.map { (String(decoding: $0.name, as: UTF8.self), $0.json) }, uniquingKeysWith: { a, _ in a })
    }

    /// The version (as JSON text) of the model named by `value`, or nil.
    public func version(for value: JSONValue) -> [UInt8]? {
        if versions.count <= 16 {
            for v in versions where value.stringEquals(v.name) { return v.json }
            return nil
        }
        return value.string.flatMap { lookup[$0] }
    }
}
