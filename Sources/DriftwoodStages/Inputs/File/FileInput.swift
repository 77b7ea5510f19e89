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
/// position (or whose first bytes change) starts again at 0. Each batch holds lines of one file;
/// the file's checkpoint moves past a batch once every output has accepted it (`OffsetLedger`).
public final class FileInput: Input, @unchecked Sendable {
    let config: FileConfig
    let environment: StageEnvironment
    let glob: FileGlob
    let builder: LineEventBuilder
    let store: CheckpointStore
    let multiline: (LineStartPattern, Int)?
    let logger: Logger
    private let stopping = Atomic<Bool>(false)

    // Used by the input's thread only.
    private var harvesters: [FileKey: Harvester] = [:]
    private var batch = EventBatch()
    private var recycled: [Fields.Storage] = []
    private var buffer = [UInt8](repeating: 0, count: 1 << 20)
    private var timestamp: [UInt8] = []
    private var eventsRead = 0
    private var warnedDescriptors = false
    /// The files the first scan found (`start_at` applies to them).
    private var foundAtStart = Set<FileKey>()
    /// Most files the input holds open (see `raiseDescriptorLimit`).
    private var maxOpen = 900
    /// Files with lines in the batch being built.
    private var touched: [Harvester] = []
    /// Files that could not be opened, warned about once.
    private var warnedPaths = Set<String>()

    public init(config: FileConfig, environment: StageEnvironment) throws {
        self.config = config
        self.environment = environment
        self.logger = environment.logger
        glob = FileGlob(paths: config.paths, exclude: config.exclude, directory: FileManager.default.currentDirectoryPath)
        builder = LineEventBuilder(inputType: "file", hostName: environment.hostName)
        store = CheckpointStore.shared(
            dataDir: environment.dataDir, logger: environment.logger, interval: Self.seconds(config.checkpointInterval))
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

    private var isStopping: Bool { stopping.load(ordering: .relaxed) }

    public func run(emit: (inout EventBatch) -> Void) throws {
        maxOpen = Self.raiseDescriptorLimit()
        batch.events.reserveCapacity(config.batchSize)
        switch config.mode {
        case .tail: tail(emit)
        case .read: replay(emit)
        }
        store.save()
    }

    // MARK: Tail mode

    private func tail(_ emit: (inout EventBatch) -> Void) {
        let scanEvery = Self.seconds(config.scanInterval)
        let closeAfter = Self.seconds(config.closeInactive)
        let timeout = config.multiline.map { Self.seconds($0.timeout) } ?? .infinity
        var nextScan = 0.0
        var first = true
        while !isStopping {
            var now = Self.now()
            if now >= nextScan {
                scan(first: first, now: now)
                if first && harvesters.isEmpty {
                    logger.warning("no file matches paths yet; looking again every scan_interval", metadata: ["paths": "\(config.paths)"])
                }
                first = false
                nextScan = now + scanEvery
            }
            // Go round again at once only when some file has more than one round's budget
            // waiting; otherwise wait for lines to accumulate (`idleWait`).
            var more = false
            for h in harvesters.values where h.reader != nil {
                if isStopping { break }
                if pump(h, budget: 4 << 20, emit), !h.atEOF { more = true }
            }
            now = Self.now()
            for h in harvesters.values {
                if let joiner = h.joiner, joiner.hasPending, now - h.lastLine >= timeout { flushJoiner(h) }
            }
            seal(emit)
            for h in Array(harvesters.values) {
                guard h.reader != nil, h.atEOF else { continue }
                if let since = h.orphanSince, now - max(since, h.lastGrowth) >= max(2 * scanEvery, 1) {
                    // Renamed away or deleted, and read to its end: release it.
                    logger.info("file gone and read to its end; released", metadata: ["path": "\(h.path)"])
                    finish(h, emit, retire: true)
                } else if now - h.lastGrowth >= closeAfter && !h.holdsPartial {
                    logger.debug("file inactive; handle released", metadata: ["path": "\(h.path)"])
                    h.sizeAtRelease = h.reader!.size
                    h.reader = nil
                }
            }
            if !more {
                let wait = min(idleWait, max(0.001, nextScan - Self.now()))
                usleep(useconds_t(wait * 1_000_000))
            }
        }
        // Graceful stop: a pending multiline event is complete as far as anyone will know.
        for h in harvesters.values where h.joiner?.hasPending == true { flushJoiner(h) }
        seal(emit)
    }

    // MARK: Read mode

    private func replay(_ emit: (inout EventBatch) -> Void) {
        let found = scanOnce(first: true).found
        if found.isEmpty {
            logger.warning("no file matches paths; nothing to replay", metadata: ["paths": "\(config.paths)"])
        }
        var progress = ReplayProgress(
            files: found.count, totalBytes: found.reduce(0) { $0 + $1.size }, logger: logger,
            terminal: isatty(2) == 1)
        for f in found {
            if isStopping { break }
            guard let h = open(f, first: true, now: Self.now()) else {
                progress.skipped(bytes: f.size)
                continue
            }
            let startRaw = h.reader!.rawOffset
            var lastRaw = startRaw
            progress.skipped(bytes: startRaw)
            while !isStopping {
                let more = pump(h, budget: 4 << 20, emit)
                let raw = h.reader?.rawOffset ?? lastRaw
                progress.advance(bytes: raw - lastRaw, events: eventsRead)
                lastRaw = raw
                if !more { break }
            }
            if isStopping {
                if h.joiner?.hasPending == true { flushJoiner(h) }
                seal(emit)
                break
            }
            if let damage = h.reader?.damaged {
                logger.warning("gzip data is damaged; read what came before it", metadata: ["path": "\(h.path)", "error": "\(damage)"])
            }
            progress.skipped(bytes: max(f.size, lastRaw) - lastRaw)
            finish(h, emit, retire: false)
        }
        progress.done(events: eventsRead)
    }

    // MARK: Scanning

    /// Expands the globs; pairs each file with its harvester, a checkpoint, or a new start.
    private func scan(first: Bool, now: Double) {
        let (found, complete) = scanOnce(first: first)
        var seen = Set<FileKey>()
        for f in found {
            let key = FileKey(device: f.device, inode: f.inode)
            seen.insert(key)
            if let h = harvesters[key] {
                if h.path != f.path {
                    logger.info("file renamed", metadata: ["from": "\(h.path)", "to": "\(f.path)"])
                    h.moved(to: f.path)
                    store.moved(input: environment.id, key: key, to: f.path)
                }
                h.orphanSince = nil
                if let reader = h.reader {
                    verify(h, reader: reader)
                } else if f.size != h.sizeAtRelease {
                    reopen(h)
                }
                continue
            }
            // Files of the first scan that had to wait for a descriptor still count as found then.
            if first { foundAtStart.insert(key) }
            if let h = open(f, first: foundAtStart.contains(key), now: now) { harvesters[key] = h }
        }
        // A scan cut short proves nothing about the files it did not see.
        for h in harvesters.values where complete && !seen.contains(h.key) {
            if h.reader == nil {
                harvesters[h.key] = nil
                h.ledger.retire()
            } else if h.orphanSince == nil {
                h.orphanSince = now
                logger.info("file renamed away or deleted; reading it to its end", metadata: ["path": "\(h.path)"])
            }
        }
    }

    /// The files the globs match now, in path order. On the first scan, forgets the checkpoints
    /// of files that no longer exist.
    private func scanOnce(first: Bool) -> (found: [FileGlob.Found], complete: Bool) {
        let (unsorted, complete) = glob.scanChecked()
        let found = unsorted.sorted { $0.path < $1.path }
        if !complete {
            logger.warning("could not list every directory of paths (out of descriptors?); scanning again later")
        }
        if first && complete {
            let keys = Set(found.map { FileKey(device: $0.device, inode: $0.inode) })
            for (key, c) in store.checkpoints(input: environment.id) where !keys.contains(key) {
                var st = stat()
                let there = stat(c.path, &st) == 0 && UInt64(st.st_dev) == key.device && UInt64(st.st_ino) == key.inode
                if !there { store.remove(input: environment.id, key: key) }
            }
        }
        return (found, complete)
    }

    /// Starts reading a file this run has not seen: from its checkpoint when the checkpoint is
    /// this very file, else from `start_at` (first scan) or 0 (a file that appeared later).
    private func open(_ f: FileGlob.Found, first: Bool, now: Double) -> Harvester? {
        let reader: FileReader
        do { reader = try openReader(f.path) } catch {
            // Out of descriptors (said once): the file is opened by a later scan.
            if error is NoRoom { return nil }
            if warnedPaths.insert(f.path).inserted {
                logger.warning("cannot open file; will try again", metadata: ["path": "\(f.path)", "error": "\(error)"])
            }
            return nil
        }
        warnedPaths.remove(f.path)
        var st = stat()
        guard fstat(reader.fd, &st) == 0, UInt64(st.st_dev) == f.device, UInt64(st.st_ino) == f.inode else {
            return nil  // replaced between the scan and the open: the next scan sees the new one
        }
        let key = FileKey(device: f.device, inode: f.inode)
        let fingerprint = Fingerprint.of(fd: reader.fd, limit: config.fingerprintBytes) ?? .empty
        var start: UInt64 = 0
        var skipToEnd = false
        var source: UInt64
        let known = store.checkpoints(input: environment.id)[key]
        if let c = known, c.fingerprint.matches(fd: reader.fd), c.fingerprint.length <= fingerprint.length,
            c.offset <= (isGzip(reader) ? UInt64.max : f.size)
        {
            start = c.offset
            source = c.source
        } else {
            if known != nil {
                logger.info(
                    "file reuses a known inode but is not the same file (or was truncated); reading it from the start",
                    metadata: ["path": "\(f.path)"])
            }
            source = Hash64.mix(Hash64.hash("file:" + environment.id), Hash64.mix(key.device &* 31 &+ key.inode, fingerprint.hash))
            if first && config.startAt == .end {
                if isGzip(reader) { skipToEnd = true } else { start = f.size }
            }
        }
        store.update(
            Checkpoint(input: environment.id, path: f.path, key: key, fingerprint: fingerprint, source: source, offset: start))
        let ledger = OffsetLedger(store: store, input: environment.id, key: key, path: f.path)
        let h = Harvester(
            key: key, path: f.path, source: source, fingerprint: fingerprint, ledger: ledger, start: start,
            maxLineBytes: config.maxLineBytes, multiline: multiline, now: now)
        if isGzip(reader) { h.skipUntil = start } else { reader.seekPlain(to: start) }
        h.skipToEnd = skipToEnd
        h.reader = reader
        logger.info("reading file", metadata: ["path": "\(f.path)", "offset": "\(start)"])
        return h
    }

    /// Reopens a released file that grew.
    private func reopen(_ h: Harvester) {
        guard let reader = try? openReader(h.path) else { return }
        var st = stat()
        guard fstat(reader.fd, &st) == 0, UInt64(st.st_dev) == h.key.device, UInt64(st.st_ino) == h.key.inode else { return }
        let position = h.splitter.offset
        if isGzip(reader) { h.skipUntil = position } else { reader.seekPlain(to: position) }
        h.reader = reader
        h.atEOF = false
        verify(h, reader: reader)
    }

    /// Copy-truncate: a file that shrank below the read position, or whose first bytes changed,
    /// is read again from 0.
    private func verify(_ h: Harvester, reader: FileReader) {
        let size = reader.size
        let shrank = reader.isGzip != true && size < reader.rawOffset
        guard shrank || !h.fingerprint.matches(fd: reader.fd) else { return }
        logger.info("file truncated or replaced; reading it again from the start", metadata: ["path": "\(h.path)"])
        h.restart(maxLineBytes: config.maxLineBytes)
        if reader.isGzip == true {
            if let fresh = try? FileReader(path: h.path) { h.reader = fresh }
        } else {
            reader.seekPlain(to: 0)
        }
        h.atEOF = false
    }

    /// Opens a file, keeping the input's handles under its share of the descriptor limit: past
    /// it, the handle idle longest is released first, and with none idle the file waits for a
    /// later scan (`NoRoom`). Other stages (outputs, sockets) keep descriptors of their own.
    private func openReader(_ path: String) throws -> FileReader {
        if FileReader.openCount.load(ordering: .relaxed) >= maxOpen, !releaseIdlest() { throw NoRoom() }
        do { return try FileReader(path: path) } catch let error as FileReader.ReadFailure
            where error.errno == EMFILE || error.errno == ENFILE
        {
            guard releaseIdlest() else { throw NoRoom() }
            return try FileReader(path: path)
        }
    }

    /// No descriptor to spare now.
    struct NoRoom: Error {}

    /// Releases the handle of the file read to its end longest ago; false if none is idle.
    private func releaseIdlest() -> Bool {
        if !warnedDescriptors {
            logger.warning(
                "more files than descriptors to hold them open; releasing idle handles early",
                metadata: ["open": "\(FileReader.openCount.load(ordering: .relaxed))", "limit": "\(maxOpen)"])
            warnedDescriptors = true
        }
        let idle = harvesters.values.filter { $0.reader != nil && $0.atEOF && !$0.holdsPartial }
        guard let oldest = idle.min(by: { $0.lastGrowth < $1.lastGrowth }) else { return false }
        oldest.sizeAtRelease = oldest.reader!.size
        oldest.reader = nil
        return true
    }

    private func isGzip(_ reader: FileReader) -> Bool { reader.peekGzip() }

    // MARK: Reading

    /// Reads up to `budget` bytes of the file, sending the lines as batches. Returns true if
    /// anything was read.
    @discardableResult
    private func pump(_ h: Harvester, budget: Int, _ emit: (inout EventBatch) -> Void) -> Bool {
        guard let current = h.reader else { return false }
        if current.isGzip == false {
            let size = current.size
            if size == current.rawOffset {
                h.atEOF = true
                return false
            }
            // Shrunk, or grew with other first bytes (copy-truncate, then written past the old
            // offset before this look): start again at 0 rather than read mid-content.
            if size < current.rawOffset || !h.fingerprint.matches(fd: current.fd) { verify(h, reader: current) }
        }
        guard let reader = h.reader else { return false }
        var read = 0
        timestamp = Self.timestampJSON()
        var readError: (any Error)?
        while read < budget && !isStopping {
            let n: Int
            do {
                n = try buffer.withUnsafeMutableBufferPointer { b throws in try reader.read(into: b) }
            } catch {
                readError = error
                break
            }
            if n == 0 {
                if h.skipToEnd {
                    // `start_at: end` on a gzip file: everything there now was skipped.
                    h.skipToEnd = false
                    h.splitter = LineSplitter(maxLineBytes: config.maxLineBytes, startOffset: reader.position)
                    h.lastLineEnd = reader.position
                    h.lastSent = reader.position
                    h.ledger.skipped(upTo: reader.position)
                }
                h.atEOF = true
                break
            }
            read += n
            h.atEOF = false
            h.lastGrowth = Self.now()
            // A plain file that filled less than the buffer is at its end now: no second read
            // just to be told so.
            let short = n < buffer.count && reader.isGzip == false
            if h.skipToEnd { continue }
            let chunkStart = reader.position - UInt64(n)
            var from = 0
            if chunkStart < h.skipUntil {
                from = Int(min(UInt64(n), h.skipUntil - chunkStart))
                if from == n { continue }
            }
            buffer.withUnsafeBufferPointer { all in
                h.splitter.feed(UnsafeBufferPointer(rebasing: all[from..<n])) { line in
                    take(line, of: h)
                    if batch.count >= config.batchSize { seal(emit) }
                }
            }
            if short {
                h.atEOF = true
                break
            }
        }
        if let readError {
            logger.error("read failed; file released", metadata: ["path": "\(h.path)", "error": "\(readError)"])
            h.reader = nil
        }
        if h.fingerprint.length < config.fingerprintBytes, reader.rawOffset > UInt64(h.fingerprint.length),
            let grown = Fingerprint.of(fd: reader.fd, limit: config.fingerprintBytes), grown.length > h.fingerprint.length
        {
            h.fingerprint = grown
            store.refingerprint(input: environment.id, key: h.key, grown)
        }
        if config.mode == .read { seal(emit) }
        return read > 0
    }

    /// A complete line of `h`.
    private func take(_ line: LineSplitter.Line, of h: Harvester) {
        h.lastLineEnd = line.endOffset
        touch(h)
        if h.joiner != nil {
            h.lastLine = Self.now()
            h.joiner!.add(line) { joined in
                add(joined.bytes, offset: joined.offset, of: h, truncated: joined.lineTruncated, cut: joined.cut)
            }
            return
        }
        // Blank lines make no event (as in Filebeat); their bytes still count as read.
        if line.bytes.isEmpty && !line.truncated { return }
        add(line.bytes, offset: line.offset, of: h, truncated: line.truncated, cut: false)
    }

    private func add(_ bytes: UnsafeBufferPointer<UInt8>, offset: UInt64, of h: Harvester, truncated: Bool, cut: Bool) {
        touch(h)
        if recycled.isEmpty { FieldsPool.shared.take(config.batchSize, into: &recycled) }
        var fields = builder.make(
            line: bytes, timestamp: timestamp, logPrefix: h.logPrefix, offset: offset, storage: recycled.popLast())
        if truncated { fields.addTag("_line_truncated") }
        if cut { fields.addTag("_multiline_truncated") }
        batch.events.append(Event(fields: fields, origin: Origin(source: h.source, position: offset)))
        eventsRead += 1
    }

    private func flushJoiner(_ h: Harvester) {
        if timestamp.isEmpty { timestamp = Self.timestampJSON() }
        h.joiner!.flush { joined in
            add(joined.bytes, offset: joined.offset, of: h, truncated: joined.lineTruncated, cut: joined.cut)
        }
    }

    /// Sends the batch, which may hold lines of several files (a round over many slowly
    /// growing files makes one batch, not one per file). Each file it touched gets a ticket
    /// for what the batch covers of it; the batch's acknowledgement settles them all.
    /// A file that moved on without making events (blank lines) records that alone.
    private func seal(_ emit: (inout EventBatch) -> Void) {
        var tickets: [(OffsetLedger, UInt64)] = []
        tickets.reserveCapacity(touched.count)
        for h in touched {
            h.touched = false
            let covered = h.covered
            guard covered != h.lastSent else { continue }
            if batch.isEmpty {
                h.ledger.skipped(upTo: covered)
            } else {
                tickets.append((h.ledger, h.ledger.sent(upTo: covered)))
            }
            h.lastSent = covered
        }
        touched.removeAll(keepingCapacity: true)
        guard !batch.isEmpty else { return }
        let settle = tickets
        batch.acknowledgement = Acknowledgement(count: 1) {
            for (ledger, ticket) in settle { ledger.complete(ticket) }
        }
        emit(&batch)
        batch.events.reserveCapacity(config.batchSize)
    }

    /// `h` has lines in (or bytes read for) the batch being built.
    private func touch(_ h: Harvester) {
        if !h.touched {
            h.touched = true
            touched.append(h)
        }
    }

    /// The file is done with: its last line (even without a newline) and pending multiline event
    /// are sent, its handle released; `retire` forgets its checkpoint once all is delivered.
    private func finish(_ h: Harvester, _ emit: (inout EventBatch) -> Void, retire: Bool) {
        if timestamp.isEmpty { timestamp = Self.timestampJSON() }
        h.splitter.finish { line in take(line, of: h) }
        if h.joiner?.hasPending == true { flushJoiner(h) }
        h.lastLineEnd = max(h.lastLineEnd, h.splitter.offset)
        touch(h)
        seal(emit)
        h.reader = nil
        harvesters[h.key] = nil
        if retire { h.ledger.retire() }
    }

    // MARK: Helpers

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    static func now() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }

    static func timestampJSON() -> [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "\"")]
        Timestamp.now().appendRFC3339(to: &out)
        out.append(UInt8(ascii: "\""))
        return out
    }

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
