#if canImport(Glibc)
import Glibc
#endif
import DriftwoodCore
import Foundation

/// Finding files and pairing them with harvesters and checkpoints; rotation, truncation and the
/// descriptor budget.
extension FileInput {
    // MARK: Scanning

    /// Expands the globs; pairs each file with its harvester, a checkpoint, or a new start.
    func scan(first: Bool, now: Double) {
        let (found, complete) = scanOnce(first: first)
        liveIndex = nil
        copies.expire(now: now)
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
                    // Plain files are checked before every read (`pump`); gzip ones here.
                    if reader.isGzip == true { verify(h, reader: reader) }
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
        if complete { copies.waiting = copies.waiting.filter { seen.contains($0.key) } }
        for h in harvesters.values where complete && !seen.contains(h.key) {
            if h.reader == nil {
                harvesters[h.key] = nil
                if let gone = mark(h) { copies.remember(gone) }
                h.ledger.retire()
            } else if h.orphanSince == nil {
                h.orphanSince = now
                logger.info("file renamed away or deleted; reading it to its end", metadata: ["path": "\(h.path)"])
            }
        }
    }

    /// The files the globs match now, in path order. On the first scan, forgets the checkpoints
    /// of files that no longer exist.
    func scanOnce(first: Bool) -> (found: [FileGlob.Found], complete: Bool) {
        let scan = glob.scanChecked()
        let (found, complete) = (scan.found, scan.complete)
        for link in scan.skippedLinks where warnedPaths.insert(link).inserted {
            logger.warning(
                "symbolic link skipped (set follow_symlinks: true to read the file it points to)",
                metadata: ["path": "\(link)"])
        }
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
    /// this very file; else, when it is the copy of a file already read (copy-truncate), from
    /// where the original had got to; else from `start_at` (first scan) or 0 (a file that
    /// appeared later). A file that looks like the copy of a file still being read waits (nil).
    /// `copyOf`: nil unless the file is a copy of that content.
    func open(_ f: FileGlob.Found, first: Bool, now: Double, copyOf: CopyTracker.Mark? = nil) -> Harvester? {
        let reader: FileReader
        do { reader = try openReader(f.path) } catch {
            // Out of descriptors (said once): the file is opened by a later scan.
            if error is NoRoom { return nil }
            if let odd = error as? FileReader.NotRegular {
                // Swapped for a FIFO, a device, a link since the scan: never read, never waited on.
                if warnedPaths.insert(f.path).inserted {
                    logger.warning("\(odd.description); skipped", metadata: ["path": "\(f.path)"])
                }
                return nil
            }
            if let failure = error as? FileReader.ReadFailure, failure.errno == ELOOP, !config.followSymlinks {
                if warnedPaths.insert(f.path).inserted {
                    logger.warning(
                        "symbolic link skipped (set follow_symlinks: true to read the file it points to)",
                        metadata: ["path": "\(f.path)"])
                }
                return nil
            }
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
        let gzip = reader.peekGzip()
        var start: UInt64 = 0
        var skipToEnd = false
        var resumed = false
        var source: UInt64
        // `run --from-beginning`: the files found at the start are read again from their start.
        let known = first && environment.ignoreCheckpoints ? nil : store.checkpoints(input: environment.id)[key]
        if let c = known, c.fingerprint.matches(fd: reader.fd), c.fingerprint.length <= fingerprint.length,
            c.offset <= (gzip ? UInt64.max : f.size)
        {
            start = c.offset
            source = c.source
            resumed = true
        } else {
            if known != nil {
                logger.info(
                    "file reuses a known inode but is not the same file (or was truncated); reading it from the start",
                    metadata: ["path": "\(f.path)"])
            }
            source = Hash64.mix(Hash64.hash("file:" + environment.id), Hash64.mix(key.device &* 31 &+ key.inode, fingerprint.hash))
            switch copyVerdict(reader: reader, f, gzip: gzip, fingerprint: fingerprint, now: now, only: copyOf) {
            case .hold:
                return nil
            case .copy(let offset, let original):
                logger.info(
                    "file is a copy of one already read (copy-truncate rotation); reading only what the original had not got to",
                    metadata: ["path": "\(f.path)", "offset": "\(offset)"])
                start = offset
                source = original
            case .new:
                if copyOf != nil { return nil }
                if first && config.startAt == .end && !environment.ignoreCheckpoints {
                    if gzip { skipToEnd = true } else { start = f.size }
                }
            }
        }
        store.update(
            Checkpoint(input: environment.id, path: f.path, key: key, fingerprint: fingerprint, source: source, offset: start))
        let ledger = OffsetLedger(store: store, input: environment.id, key: key, path: f.path)
        let h = Harvester(
            key: key, path: f.path, source: source, fingerprint: fingerprint, ledger: ledger, start: start,
            maxLineBytes: config.maxLineBytes, multiline: multiline, now: now)
        if gzip { h.skipUntil = start } else { reader.seekPlain(to: start) }
        h.skipToEnd = skipToEnd
        h.reader = reader
        h.plain = reader.isGzip == false
        if h.plain { liveIndex?[fingerprint, default: []].append(key) }
        if config.mode == .tail, resumed, !gzip, start > 0, start >= f.size {
            logAlreadyRead(f.path)
        } else {
            logger.info("reading file", metadata: ["path": "\(f.path)", "offset": "\(start)"])
        }
        return h
    }

    /// Reopens a released file that grew.
    func reopen(_ h: Harvester) {
        guard let reader = try? openReader(h.path) else { return }
        var st = stat()
        guard fstat(reader.fd, &st) == 0, UInt64(st.st_dev) == h.key.device, UInt64(st.st_ino) == h.key.inode else { return }
        let position = h.splitter.offset
        if reader.peekGzip() { h.skipUntil = position } else { reader.seekPlain(to: position) }
        h.reader = reader
        h.atEOF = false
        verify(h, reader: reader)
    }

    /// Copy-truncate: a file that shrank below the read position, or whose first bytes changed,
    /// is read again from 0.
    func verify(_ h: Harvester, reader: FileReader) {
        guard h.truncatedOrReplaced(reader, size: reader.size) else { return }
        logger.info("file truncated or replaced; reading it again from the start", metadata: ["path": "\(h.path)"])
        let gone = reader.isGzip == true ? nil : mark(h)
        h.restart(maxLineBytes: config.maxLineBytes)
        if let gone {
            copies.remember(gone)
            rescueCopy(of: h.path, gone, now: Self.now())
        }
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
    func openReader(_ path: String) throws -> FileReader {
        if FileReader.openCount.load(ordering: .relaxed) >= maxOpen, !releaseIdlest() { throw NoRoom() }
        do { return try FileReader(path: path, followSymlinks: config.followSymlinks) } catch let error as FileReader.ReadFailure
            where error.errno == EMFILE || error.errno == ENFILE
        {
            guard releaseIdlest() else { throw NoRoom() }
            return try FileReader(path: path, followSymlinks: config.followSymlinks)
        }
    }

    /// No descriptor to spare now.
    struct NoRoom: Error {}

    /// Releases the handle of the file read to its end longest ago; false if none is idle.
    func releaseIdlest() -> Bool {
        if !warnedDescriptors {
            logger.warning(
                "more files than descriptors to hold them open; releasing idle handles early",
                metadata: ["open": "\(FileReader.openCount.load(ordering: .relaxed))", "limit": "\(maxOpen)"])
            warnedDescriptors = true
        }
        let idle = harvesters.values.filter { $0.reader != nil && $0.atEOF && !$0.holdsPartial }
        guard let oldest = idle.min(by: { $0.lastGrowth < $1.lastGrowth }) else { return false }
        oldest.release()
        return true
    }
}

extension FileInput {
    /// A file whose checkpoint is at its end: say where the checkpoint is and how to start over.
    func logAlreadyRead(_ path: String) {
        logger.notice(
            "already read to its end (checkpoint in \(store.path)); run with --from-beginning to read it again",
            metadata: ["path": "\(path)"])
    }
}
