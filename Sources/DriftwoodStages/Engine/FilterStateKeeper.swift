import DriftwoodCore
import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Saves and restores the state of a pipeline's `PersistentFilter`s in `<data_dir>/state/`.
///
/// The filter thread (or the worker holding the turnstile) calls `afterBatch` once per batch:
/// the batch's acknowledgement then owes one more delivery, settled once a state that includes
/// the batch is on disk, so a checkpoint never gets ahead of the saved windows (after `kill -9`
/// the re-read events are counted twice, none is lost). About every `interval` seconds it takes
/// a snapshot on that thread (the filters' bytes only) and hands it to a writer thread
/// (envelope and checksum, temp file, fsync, rename); `finish` saves the last one synchronously
/// at stop. A large state is snapshotted less often: a snapshot waits at least `costFactor` times
/// as long as the last one took to make or to write (whichever was longer), so no more than ~1%
/// of the time goes to either (a join of a million pending predictions, ~65 MB, takes some tens
/// of milliseconds to make and ~0.1 s to write and fsync: saved about every 10 s, not every
/// second), and checkpoints then move less often. Windows of a few kilobytes still go once a second.
final class FilterStateKeeper: @unchecked Sendable {
    struct Entry {
        let id: String
        let filter: any PersistentFilter
        let path: String
        let digest: String
    }

    let entries: [Entry]
    let directory: String
    let interval: Double
    let logger: Logger
    // Touched only by the thread that runs the filters' turn.
    private var pending: [Acknowledgement] = []
    private var lastSnapshot = ContinuousClock.now
    /// How long the last snapshot took, on the filters' thread.
    private var lastCost = Duration.zero
    /// A snapshot waits at least this many times as long as the last took (at most 1%). At 20
    /// (5%), W1 + evaluate with a full join wrote 65 MB about every 2 s: ~7% of its CPU samples
    /// went to making, copying and zeroing the pages of state files.
    static let costFactor = 100
    private var unsavedBatches = 0
    private let writer: StateFileWriter

    init?(stages: [Pipeline.FilterStage], directory: String?, interval: Double, logger: Logger) {
        guard let directory else { return nil }
        let entries = stages.compactMap { stage -> Entry? in
            guard let filter = stage.filter as? any PersistentFilter else { return nil }
            return Entry(
                id: stage.id, filter: filter, path: directory + "/" + Self.fileName(stage.id),
                digest: "stage=\(stage.id)\n" + filter.stateDigest)
        }
        guard !entries.isEmpty else { return nil }
        self.entries = entries
        self.directory = directory
        self.interval = interval
        self.logger = logger
        writer = StateFileWriter(directory: directory, logger: logger)
    }

    /// A stage id as a file name: `/` and control characters become `_`.
    static func fileName(_ id: String) -> String {
        let name = String(id.unicodeScalars.map { $0 == "/" || $0.value < 0x20 || $0.value == 0x7f ? "_" : Character($0) })
        return name == "." || name == ".." || name.isEmpty ? "_" + name : name
    }

    /// Restores each filter's saved state, or logs once why it starts empty. Before any event.
    /// `except`: filters that keep the state they hold (a reload kept them running).
    func restore(except kept: Set<String> = []) {
        for entry in entries where !kept.contains(entry.id) {
            let why: String
            if let data = FileManager.default.contents(atPath: entry.path) {
                switch StateEnvelope.decode([UInt8](data), digest: entry.digest) {
                case .state(let payload):
                    do {
                        try entry.filter.restoreState(payload)
                        logger.info(
                            "state restored", metadata: ["stage": "\(entry.id)", "path": "\(entry.path)", "bytes": "\(data.count)"])
                        continue
                    } catch {
                        why = "the saved state cannot be read (\(error))"
                    }
                case .unusable(let reason):
                    why = reason
                }
            } else {
                why = FileManager.default.fileExists(atPath: entry.path) ? "the state file cannot be read" : "no saved state"
            }
            logger.notice(
                "starting with empty state: \(why)", metadata: ["stage": "\(entry.id)", "path": "\(entry.path)"])
        }
    }

    /// After the persistent filters' turn on a batch, on the thread that ran it.
    func afterBatch(_ acknowledgement: Acknowledgement?) {
        if let acknowledgement {
            acknowledgement.add(1)
            pending.append(acknowledgement)
        }
        unsavedBatches += 1
        let since = ContinuousClock.now - lastSnapshot
        let cost = max(lastCost, .nanoseconds(writer.lastWriteNanoseconds.load(ordering: .relaxed)))
        if since >= .seconds(interval), since >= cost * Self.costFactor { snapshot() }
    }

    /// No batch came for a while: save what is unsaved, so checkpoints can move.
    func idle() {
        if unsavedBatches > 0 { snapshot() }
    }

    private func snapshot() {
        let started = ContinuousClock.now
        writer.submit(files(), settling: pending)
        pending.removeAll(keepingCapacity: true)
        unsavedBatches = 0
        lastSnapshot = .now
        lastCost = lastSnapshot - started
    }

    private func files() -> [StateFileWriter.File] {
        entries.map { StateFileWriter.File(path: $0.path, digest: $0.digest, payload: $0.filter.saveState()) }
    }

    /// The filters are done: saves their final state and waits for it to be on disk.
    func finish() {
        writer.submit(files(), settling: pending)
        pending.removeAll()
        writer.drain()
    }
}

/// Writes state files on a thread of its own, the newest snapshot only when several wait.
final class StateFileWriter: @unchecked Sendable {
    /// One filter's state: written as its envelope's head, the payload, its tail.
    struct File {
        let path: String
        let digest: String
        let payload: [UInt8]
    }

    struct Job {
        var files: [File]
        var acknowledgements: [Acknowledgement]
    }

    let directory: String
    let logger: Logger
    private let waiting = Mutex<(job: Job?, running: Bool)>((nil, false))
    /// How long writing the last job took (files, fsyncs, renames), for the keeper's spacing.
    let lastWriteNanoseconds = Atomic<Int>(0)
    private let done = DispatchSemaphore(value: 0)
    private let queue = DispatchQueue(label: "driftwood.state")
    private var failures = 0

    init(directory: String, logger: Logger) {
        self.directory = directory
        self.logger = logger
    }

    func submit(_ files: [File], settling acknowledgements: [Acknowledgement]) {
        let start = waiting.withLock { w -> Bool in
            if w.job != nil {
                w.job!.files = files
                w.job!.acknowledgements += acknowledgements
            } else {
                w.job = Job(files: files, acknowledgements: acknowledgements)
            }
            if w.running { return false }
            w.running = true
            return true
        }
        if start { queue.async { self.run() } }
    }

    /// Waits until every submitted snapshot is written.
    func drain() { queue.sync {} }

    private func run() {
        while true {
            let job = waiting.withLock { w -> Job? in
                let job = w.job
                w.job = nil
                if job == nil { w.running = false }
                return job
            }
            guard let job else { return }
            var ok = true
            let started = ContinuousClock.now
            for file in job.files where !save(file) { ok = false }
            let took = (ContinuousClock.now - started).components
            lastWriteNanoseconds.store(Int(took.seconds) * 1_000_000_000 + Int(took.attoseconds / 1_000_000_000), ordering: .relaxed)
            // Even when a write failed: the checkpoint must move (the events were delivered);
            // the state is then older than it, which a restart counts as lost from the window.
            for a in job.acknowledgements { a.settle(1) }
            if ok { failures = 0 }
        }
    }

    /// Temp file, fsync, rename, fsync of the directory.
    private func save(_ file: File) -> Bool {
        let path = file.path
        let (head, tail) = StateEnvelope.frame(digest: file.digest, payload: file.payload)
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let temp = path + ".tmp"
            let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw StateError("cannot create \(temp): \(String(cString: strerror(errno)))") }
            do {
                for bytes in [head, file.payload, tail] {
                    try bytes.withUnsafeBufferPointer { b throws(FileDescriptorWriter.WriteError) in
                        try FileDescriptorWriter.writeAll(fd, b, path: temp)
                    }
                }
            } catch {
                close(fd)
                unlink(temp)
                throw StateError("cannot write \(temp): \(String(cString: strerror(error.errno)))")
            }
            let synced = fsync(fd)
            close(fd)
            guard synced == 0, rename(temp, path) == 0 else {
                let e = String(cString: strerror(errno))
                unlink(temp)
                throw StateError("cannot save \(path): \(e)")
            }
            let dir = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            if dir >= 0 {
                fsync(dir)
                close(dir)
            }
            return true
        } catch {
            failures += 1
            if failures == 1 || failures % 100 == 0 {
                logger.error("cannot save filter state", metadata: ["error": "\(error)", "failures": "\(failures)"])
            }
            return false
        }
    }
}
