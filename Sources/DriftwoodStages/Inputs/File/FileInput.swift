#if canImport(Glibc)
import Glibc
#endif
import DriftwoodCore
import Foundation
import Logging
import Synchronization

/// `type: file` — tails files, or reads them to their end and finishes (archive replay).
///
/// Files are found by globs, rescanned every `scan_interval`, and known by device, inode and a
/// fingerprint of their first bytes. Rename rotation: the old file is read to its end through its
/// open handle; the new file starts at 0. Copy-truncate: a file that shrinks below the read
/// position (or whose first bytes change) starts again at 0, and its copy is read only from where
/// the original had got to (`CopyTracker`). A batch may hold lines of several
/// files; each file's checkpoint moves past its part of a batch once every output has accepted
/// the batch and every earlier one (`OffsetLedger`).
///
/// The work is split by concern: `+Tail` (the follow loop), `+Replay` (read mode), `+Scan`
/// (finding files, identity, rotation, descriptors), `+Copies` (copy-truncate copies), `+Read`
/// (lines, events, batches).
public final class FileInput: Input, @unchecked Sendable {
    let config: FileConfig
    let environment: StageEnvironment
    let glob: FileGlob
    let builder: LineEventBuilder
    let store: CheckpointStore
    let multiline: (LineStartPattern, Int)?
    let logger: Logger
    let stopping = Atomic<Bool>(false)
    let failures: FailureCounter

    // Used by the input's thread only.
    var harvesters: [FileKey: Harvester] = [:]
    var batch = EventBatch()
    var recycled: [Fields.Storage] = []
    var buffer = [UInt8](repeating: 0, count: 1 << 20)
    var timestamp: [UInt8] = []
    var eventsRead = 0
    var warnedDescriptors = false
    /// The files the first scan found (`start_at` applies to them).
    var foundAtStart = Set<FileKey>()
    /// Most files the input holds open (see `raiseDescriptorLimit`).
    var maxOpen = 900
    /// Files with lines in the batch being built.
    var touched: [Harvester] = []
    /// Files that could not be opened, warned about once.
    var warnedPaths = Set<String>()
    /// Copy-truncate copies (`x.log.1`) told from new files.
    let copies: CopyTracker
    /// Plain files being read, by fingerprint; built when a scan first needs it.
    var liveIndex: [Fingerprint: [FileKey]]?

    public init(config: FileConfig, environment: StageEnvironment) throws {
        self.config = config
        self.environment = environment
        self.logger = environment.logger
        failures = FailureCounter(environment)
        glob = FileGlob(
            paths: config.paths, exclude: config.exclude, directory: FileManager.default.currentDirectoryPath,
            followSymlinks: config.followSymlinks)
        builder = LineEventBuilder(inputType: "file", hostName: environment.hostName)
        copies = CopyTracker(wait: max(30, 3 * config.scanInterval.seconds))
        store = CheckpointStore.shared(
            dataDir: environment.dataDir, logger: environment.logger, interval: config.checkpointInterval.seconds)
        if let m = config.multiline {
            multiline = (try LineStartPattern(m.start), m.maxLines)
        } else {
            multiline = nil
        }
    }

    public func stop() { stopping.store(true, ordering: .relaxed) }

    /// Saves the checkpoints once everything is delivered (or at an early exit).
    public func close() { store.save() }

    /// How long the tail loop waits when every file was read to its end: the latency of a
    /// new line, against the cost of looking (a quarter of a second, as fast as most
    /// applications flush; Filebeat waits 1 to 10 seconds).
    let idleWait = 0.25

    var isStopping: Bool { stopping.load(ordering: .relaxed) }

    public func run(emit: (inout EventBatch) -> Void) throws {
        maxOpen = Self.raiseDescriptorLimit()
        batch.events.reserveCapacity(config.batchSize)
        switch config.mode {
        case .tail: tail(emit)
        case .read: replay(emit)
        }
        store.save()
    }

    // MARK: Helpers

    /// Seconds on the monotonic clock.
    static func now() -> Double { Double(monotonicNow()) / 1e9 }

    /// Many files can be open at once: raises the soft descriptor limit to the hard one, and
    /// returns how many files the file inputs may hold open: nine tenths of it, leaving at least
    /// 64 descriptors to the rest of driftwood.
    static func raiseDescriptorLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 900 }
        if limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max
            _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
            _ = getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
        let available = Int(min(limit.rlim_cur, 1 << 30))
        return max(8, min(available - 64, available / 10 * 9))
    }
}
