import DriftwoodCore
import Foundation
import Synchronization
import Yams
#if canImport(Glibc)
import Glibc
#endif

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
    /// The file as every filter worker's copy of the filter shares it.
    let file: RegistryFile
    /// The versions as this copy last took them from `file`, and their generation.
    private(set) var table: RegistryTable
    private var generation: Int

    public init(path: String) throws {
        self.path = path
        file = try RegistryFile.shared(path: path)
        (generation, table) = file.current()
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

    /// Re-reads the file if it changed (checked at most once a second for all the copies that
    /// share it). A broken new version keeps the old mapping.
    public func refreshIfChanged(now: Date = Date()) -> LoadError? {
        let error = file.refreshIfDue(now: now)
        takeNewer()
        return error
    }

    /// Takes the newest versions once another copy (or `refreshIfChanged`) has read them: one
    /// load of a shared counter per event, so every worker switches within an event of the others
    /// (each copy re-reading on its own clock made old and new versions alternate for a second).
    @inline(__always)
    public func takeNewer() {
        if file.generation.load(ordering: .relaxed) != generation { (generation, table) = file.current() }
    }

    /// The version (as JSON text) of the model named by `value`, or nil.
    public func version(for value: JSONValue) -> [UInt8]? {
        let table = self.table
        if table.versions.count <= 16 {
            for v in table.versions where value.stringEquals(v.name) { return v.json }
            return nil
        }
        return value.string.flatMap { table.indices[$0] }.map { table.versions[$0].json }
    }

    /// The index in `table.versions` of the model whose name is these bytes, or nil.
    @inline(__always)
    public func index(ofName name: UnsafeBufferPointer<UInt8>) -> Int? {
        table.index(ofName: name)
    }
}

/// One snapshot of a registry file's versions (never changed once made).
public final class RegistryTable: Sendable {
    public let versions: [(name: [UInt8], json: [UInt8])]
    /// The first entry of each name, for registries of more than 16.
    let indices: [String: Int]

    init(_ pairs: [(String, String)]) {
        versions = pairs.map { name, version in
            var json: [UInt8] = []
            JSONWriter.appendString(version, to: &json)
            return (Array(name.utf8), json)
        }
        var indices: [String: Int] = [:]
        for (i, v) in versions.enumerated() {
            let name = String(decoding: v.name, as: UTF8.self)
            if indices[name] == nil { indices[name] = i }
        }
        self.indices = indices
    }

    /// The index of the first entry named by these bytes.
    func index(ofName name: UnsafeBufferPointer<UInt8>) -> Int? {
        if versions.count > 16 { return indices[String(decoding: name, as: UTF8.self)] }
        for (i, v) in versions.enumerated() where v.name.count == name.count {
            if name.isEmpty || v.name.withUnsafeBufferPointer({ memcmp($0.baseAddress!, name.baseAddress!, name.count) == 0 }) {
                return i
            }
        }
        return nil
    }
}

/// A registry file read once for every enrich filter (and every worker's copy of one) that names
/// it: re-read at most once a second when its modification time changes, each new mapping a new
/// generation the copies take on their next event.
final class RegistryFile: @unchecked Sendable {
    let path: String
    let generation = Atomic<Int>(0)
    private let lock = NSLock()
    private var table: RegistryTable
    private var modified: Date?
    private var lastCheck = Date.distantPast

    nonisolated(unsafe) private static var files: [String: RegistryFile] = [:]
    private static let filesLock = NSLock()

    /// The shared file for `path`, read again now when it changed (so a pipeline built or
    /// reloaded sees the file as it is, and a broken one is an error here).
    static func shared(path: String) throws -> RegistryFile {
        let key = FileAccess.absolute(path)
        let file: RegistryFile? = filesLock.withLock { files[key] }
        if let file {
            try file.lock.withLock { try file.reloadIfModified() }
            return file
        }
        let made = try RegistryFile(path: path)
        return filesLock.withLock {
            if let raced = files[key] { return raced }
            files[key] = made
            return made
        }
    }

    private init(path: String) throws {
        self.path = path
        modified = Self.modificationDate(path)
        table = RegistryTable(try ModelRegistry.load(path: path))
    }

    func current() -> (Int, RegistryTable) {
        lock.withLock { (generation.load(ordering: .relaxed), table) }
    }

    /// Re-reads the file if it changed, at most once a second whoever asks; a broken version
    /// keeps the mapping in use and is reported once (per change of the file).
    func refreshIfDue(now: Date) -> ModelRegistry.LoadError? {
        lock.withLock { () -> ModelRegistry.LoadError? in
            guard now.timeIntervalSince(lastCheck) >= 1 else { return nil }
            lastCheck = now
            do {
                try reloadIfModified()
                return nil
            } catch let error as ModelRegistry.LoadError {
                return error
            } catch {
                return nil
            }
        }
    }

    /// Under `lock`.
    private func reloadIfModified() throws {
        let mtime = Self.modificationDate(path)
        guard mtime != modified else { return }
        // A broken file is reported once per change, and the last good mapping stays.
        modified = mtime
        table = RegistryTable(try ModelRegistry.load(path: path))
        generation.add(1, ordering: .relaxed)
    }

    static func modificationDate(_ path: String) -> Date? {
        (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
    }
}
