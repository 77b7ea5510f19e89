#if canImport(Glibc)
import Glibc
#endif
import DriftwoodCore
import Foundation
import Logging
import Metrics
import Synchronization

/// `<data_dir>/checkpoints.json`, shared by the file inputs of a pipeline.
///
/// Offsets change in memory as batches are acknowledged; a writer thread saves the file soon
/// after each change (at most every `interval`), atomically: a temporary file, fsync, rename,
/// fsync of the directory — so a crash or power loss leaves the old file or the new one, never
/// a mix. A file that cannot be read is moved aside with a warning, and the inputs start as if
/// new: never a crash loop.
///
/// A save that fails (a full disk, a read-only directory) is retried every `interval`, counted in
/// `driftwood_checkpoint_failures_total`, logged (the first at once, then at most every 10
/// seconds with the count since), and makes `/health` `degraded` until a save succeeds; when
/// the last save before the exit failed, `driftwood run` exits 1.
public final class CheckpointStore: @unchecked Sendable {
    public let path: String
    let logger: Logger
    /// Shortest time between two saves (the smallest any input asked for).
    private let intervalMicroseconds = Atomic<Int>(1_000_000)

    // Guarded by `mutex`.
    private var mutex = pthread_mutex_t()
    private var changed = pthread_cond_t()
    private var checkpoints: [String: [FileKey: Checkpoint]] = [:]
    private var dirty = false
    private var writerStarted = false
    /// Serialises saves (the writer thread, and `save()` at close); guards `lastWriteFailed`.
    private let saving = NSLock()
    private var lastWriteFailed = false
    /// Failed saves not yet logged, and when the last log line about them was written.
    private var unloggedFailures = 0
    private var lastFailureLog = 0.0
    /// Why this store's last save failed; nil after a save that succeeded.
    private let lastFailure = Mutex<String?>(nil)
    private let failures = Counter(label: "driftwood_checkpoint_failures_total")

    /// Stores by path, so the file inputs of one pipeline share one file.
    private static let stores = Mutex<[String: CheckpointStore]>([:])

    /// The store for `dataDir` (made on first use, its file read then).
    public static func shared(dataDir: String, logger: Logger, interval: Double) -> CheckpointStore {
        let path = FileGlob.absolute(dataDir, in: FileManager.default.currentDirectoryPath) + "/checkpoints.json"
        let store = stores.withLock { stores in
            if let store = stores[path] { return store }
            let store = CheckpointStore(path: path, logger: logger, interval: interval)
            stores[path] = store
            return store
        }
        store.intervalMicroseconds.store(
            min(store.intervalMicroseconds.load(ordering: .relaxed), Int(interval * 1_000_000)), ordering: .relaxed)
        return store
    }

    /// Saves every store now (before an immediate exit).
    public static func saveAll() {
        for store in stores.withLock({ Array($0.values) }) { store.save() }
    }

    /// Why the last save of some store failed (`path: reason`); nil when every store's last save
    /// succeeded. `/health` reports it; `driftwood run` exits 1 when it is set at the end.
    public static var failure: String? {
        for store in stores.withLock({ Array($0.values) }) {
            if let reason = store.lastFailure.withLock({ $0 }) { return reason }
        }
        return nil
    }

    init(path: String, logger: Logger, interval: Double = 1.0) {
        self.path = path
        self.logger = logger
        intervalMicroseconds.store(Int(interval * 1_000_000), ordering: .relaxed)
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&changed, nil)
        for c in load() { checkpoints[c.input, default: [:]][c.key] = c }
    }

    /// The checkpoints of one input.
    func checkpoints(input: String) -> [FileKey: Checkpoint] {
        locked { checkpoints[input] ?? [:] }
    }

    /// Records a file's checkpoint (new, moved, or further along).
    func update(_ c: Checkpoint) {
        locked {
            guard checkpoints[c.input]?[c.key] != c else { return }
            checkpoints[c.input, default: [:]][c.key] = c
            markDirty()
        }
    }

    /// Moves a file's offset (its other fields unchanged).
    func advance(input: String, key: FileKey, to offset: UInt64) {
        change(input: input, key: key) { $0.offset = offset }
    }

    /// The file was found under another name.
    func moved(input: String, key: FileKey, to path: String) {
        change(input: input, key: key) { $0.path = path }
    }

    /// The file grew past its fingerprint's length: the fingerprint covers more of it now.
    func refingerprint(input: String, key: FileKey, _ fingerprint: Fingerprint) {
        change(input: input, key: key) { $0.fingerprint = fingerprint }
    }

    /// Applies `edit` to a known file's checkpoint; marks the store dirty when that changed it.
    private func change(input: String, key: FileKey, _ edit: (inout Checkpoint) -> Void) {
        locked {
            guard let before = checkpoints[input]?[key] else { return }
            var after = before
            edit(&after)
            guard after != before else { return }
            checkpoints[input]![key] = after
            markDirty()
        }
    }

    /// Forgets a file (gone, and everything read from it delivered).
    func remove(input: String, key: FileKey) {
        locked {
            guard checkpoints[input]?.removeValue(forKey: key) != nil else { return }
            markDirty()
        }
    }

    /// Writes the file now if anything changed since the last save.
    public func save() {
        saving.lock()
        defer { saving.unlock() }
        let snapshot: [Checkpoint]? = locked {
            guard dirty else { return nil }
            dirty = false
            return checkpoints.keys.sorted().flatMap { input in
                checkpoints[input]!.values.sorted { $0.path < $1.path || ($0.path == $1.path && $0.key.inode < $1.key.inode) }
            }
        }
        guard let snapshot else { return }
        do {
            try write(CheckpointFile.encode(snapshot))
            if lastWriteFailed { logger.info("checkpoints saved again", metadata: ["path": "\(path)"]) }
            lastWriteFailed = false
            unloggedFailures = 0
            lastFailure.withLock { $0 = nil }
        } catch {
            locked { dirty = true }  // try again on the next change or save
            failed(error)
        }
    }

    /// Counts a failed save, logs it (rate-limited), and keeps its reason for `/health`.
    private func failed(_ error: FileDescriptorWriter.WriteError) {
        failures.increment()
        lastFailure.withLock { $0 = "\(error)" }
        unloggedFailures += 1
        let now = FileInput.now()
        if !lastWriteFailed || now - lastFailureLog >= 10 {
            logger.error(
                "cannot save checkpoints; a restart would read again what was delivered since the last save",
                metadata: ["path": "\(path)", "error": "\(error)", "failed_saves": "\(unloggedFailures)"])
            unloggedFailures = 0
            lastFailureLog = now
        }
        lastWriteFailed = true
    }

    // MARK: Reading and writing the file

    private func load() -> [Checkpoint] {
        let fd = open(path, O_RDONLY)
        if fd < 0 {
            if errno != ENOENT {
                logger.warning("cannot read checkpoints; starting as if new", metadata: ["path": "\(path)", "error": "\(String(cString: strerror(errno)))"])
            }
            return []
        }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            bytes += chunk[0..<n]
        }
        close(fd)
        do {
            return try CheckpointFile.decode(bytes)
        } catch {
            let aside = path + ".corrupt-" + String(Int(Date().timeIntervalSince1970))
            let moved = rename(path, aside) == 0
            logger.warning(
                "checkpoint file is corrupt; \(moved ? "moved it aside" : "could not move it aside") and starting as if new (files are read again from start_at)",
                metadata: ["path": "\(path)", "reason": "\(error)", "moved_to": "\(moved ? aside : "-")"])
            return []
        }
    }

    private func write(_ bytes: [UInt8]) throws(FileDescriptorWriter.WriteError) {
        try FileDescriptorWriter.createParentDirectories(of: path)
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .init(path: temporary, errno: errno) }
        do {
            try bytes.withUnsafeBufferPointer { b throws(FileDescriptorWriter.WriteError) in
                try FileDescriptorWriter.writeAll(fd, b, path: temporary)
            }
        } catch {
            close(fd)
            throw error
        }
        if fsync(fd) != 0 {
            let e = errno
            close(fd)
            throw .init(path: temporary, errno: e)
        }
        close(fd)
        guard rename(temporary, path) == 0 else { throw .init(path: path, errno: errno) }
        let directory = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
        let dirFD = open(directory.isEmpty ? "/" : directory, O_RDONLY | O_DIRECTORY)
        if dirFD >= 0 {
            _ = fsync(dirFD)
            close(dirFD)
        }
    }

    // MARK: The writer thread

    /// Called with the mutex held.
    private func markDirty() {
        dirty = true
        if !writerStarted {
            writerStarted = true
            let thread = Thread { [self] in writerLoop() }
            thread.name = "checkpoints"
            thread.start()
        }
        pthread_cond_signal(&changed)
    }

    private func writerLoop() {
        while true {
            pthread_mutex_lock(&mutex)
            while !dirty { pthread_cond_wait(&changed, &mutex) }
            pthread_mutex_unlock(&mutex)
            save()
            let pause = intervalMicroseconds.load(ordering: .relaxed)
            if pause > 0 { usleep(useconds_t(pause)) }
        }
    }

    private func locked<T>(_ body: () -> T) -> T {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return body()
    }
}
