#if canImport(Glibc)
import Glibc
#endif
import DriftwoodCore

/// Copy-truncate rotation (`CopyTracker`): remembering what was read of a content that goes,
/// telling a copy from a new file, and finding the copy of a truncated file beside it.
extension FileInput {
    // MARK: Copies

    /// What was read of `h`'s content (plain files in tail mode; nil otherwise).
    func mark(_ h: Harvester) -> CopyTracker.Mark? {
        guard h.plain, config.mode == .tail else { return nil }
        let covered = h.covered
        return CopyTracker.Mark(
            fingerprint: h.fingerprint, offset: covered, tail: h.tailEnd == covered ? h.tail : nil, source: h.source,
            time: Self.now())
    }

    /// Keeps the hash of the bytes before `h`'s read position (once per read, not per line): the
    /// file may be truncated before anyone looks again.
    func noteTail(_ h: Harvester, reader: FileReader) {
        h.plain = reader.isGzip == false
        guard h.plain, config.mode == .tail else { return }
        let covered = h.covered
        guard covered != h.tailEnd || h.tail == nil, covered > 0 else { return }
        h.tail = CopyTracker.tail(of: reader.fd, before: covered)
        h.tailEnd = covered
    }

    /// Whether a newly opened file without a checkpoint is a copy of content already read.
    func copyVerdict(
        reader: FileReader, _ f: FileGlob.Found, gzip: Bool, fingerprint: Fingerprint, now: Double,
        only: CopyTracker.Mark? = nil
    ) -> CopyTracker.Verdict {
        guard config.mode == .tail else { return .new }
        let limit = config.fingerprintBytes
        let size = gzip ? 0 : reader.size
        var head: [UInt8]?
        func headPrint(_ length: Int) -> Fingerprint? {
            if head == nil { head = CopyTracker.head(of: reader, path: f.path, gzip: true, limit: limit) }
            guard head!.count >= length else { return nil }
            return Fingerprint.of(bytes: head![0..<length])
        }
        let candidate = CopyTracker.Candidate(
            key: FileKey(device: f.device, inode: f.inode), plainSize: gzip ? nil : size,
            fingerprint: { length in
                if gzip { return headPrint(length) }
                if length == fingerprint.length { return fingerprint }
                guard let print = Fingerprint.of(fd: reader.fd, limit: length), print.length == length else { return nil }
                return print
            },
            tail: { offset in gzip ? nil : CopyTracker.tail(of: reader.fd, before: offset) })
        var full = fingerprint
        if gzip {
            _ = headPrint(0)
            full = Fingerprint.of(bytes: head![...])
        }
        // A file that only starts like another is not held unless it is named like a rotated copy
        // of a file being read (`x.log.1`, `x.log.2.gz`) and is still being written.
        var inProgress: Bool?
        func copyInProgress() -> Bool {
            if inProgress == nil {
                inProgress =
                    Self.modifiedRecently(reader, within: max(2, 2 * config.scanInterval.seconds)) && looksRotated(f.path)
            }
            return inProgress!
        }
        var copiesLive = false
        if only == nil && full.length >= CopyTracker.minimumFingerprint {
            for key in liveKeys(full) where key != candidate.key {
                guard let h = harvesters[key], h.plain, h.fingerprint == full else { continue }
                if gzip {
                    copiesLive = copyInProgress() || looksRotated(f.path)
                } else if let tail = h.tail, h.tailEnd > 0, size >= h.tailEnd {
                    // It holds every byte read of the live file so far.
                    copiesLive = CopyTracker.tail(of: reader.fd, before: h.tailEnd) == tail
                } else if let live = h.reader, live.isGzip == false, h.truncatedOrReplaced(live, size: live.size) {
                    // The live file was truncated (or replaced) after it was read past this
                    // copy's end (lines written between logrotate's copy and its truncation) and
                    // before its next read: that read sees the truncation and takes this file as
                    // its copy (`rescueCopy`); until then this file waits.
                    copiesLive = true
                } else if let live = h.reader, live.size >= size, copyInProgress() {
                    // A copy still being made: the same bytes before its end.
                    copiesLive = CopyTracker.tail(of: live.fd, before: size) == CopyTracker.tail(of: reader.fd, before: size)
                }
                if copiesLive { break }
            }
        }
        // Fewer first bytes than a fingerprint and still being written: a copy (or a compression)
        // being made; look again.
        if only == nil && !copiesLive && full.length < limit && copyInProgress() { copiesLive = true }
        if !copiesLive && copies.marks.isEmpty && only == nil { return .new }
        return copies.verdict(for: candidate, copiesLive: copiesLive, now: now, only: only)
    }

    /// `path` is a file being read's path plus a suffix logrotate gives (`.1`, `-20261202`, `.gz`).
    func looksRotated(_ path: String) -> Bool {
        let live = Set(harvesters.values.map(\.path))
        let slash = path.lastIndex(of: "/") ?? path.startIndex
        var i = path.index(after: slash)
        while i < path.endIndex {
            if path[i] == "." || path[i] == "-" || path[i] == "_", live.contains(String(path[..<i])) { return true }
            i = path.index(after: i)
        }
        return false
    }

    static func modifiedRecently(_ reader: FileReader, within seconds: Double) -> Bool {
        var st = stat()
        guard fstat(reader.fd, &st) == 0 else { return false }
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let age = Double(now.tv_sec - st.st_mtim.tv_sec) + Double(now.tv_nsec - st.st_mtim.tv_nsec) / 1e9
        return age < seconds
    }

    /// The plain files being read whose fingerprint is `fingerprint` (the index is rebuilt on the
    /// first look of each scan).
    func liveKeys(_ fingerprint: Fingerprint) -> [FileKey] {
        if liveIndex == nil {
            var index: [Fingerprint: [FileKey]] = [:]
            for h in harvesters.values where h.plain && h.fingerprint.length >= CopyTracker.minimumFingerprint {
                index[h.fingerprint, default: []].append(h.key)
            }
            liveIndex = index
        }
        return liveIndex![fingerprint] ?? []
    }

    /// `path` was just truncated: a copy of it beside it (`x.log.1`, `x.log-20261202`, the names
    /// logrotate gives), matched or not by `paths`, is read from where the original had got to,
    /// so the lines written between the last read and the copy are not lost. A copy outside
    /// `paths` is read to its end and released.
    func rescueCopy(of path: String, _ mark: CopyTracker.Mark, now: Double) {
        guard let slash = path.lastIndex(of: "/") else { return }
        let directory = String(path[..<slash])
        let base = String(path[path.index(after: slash)...])
        guard let dir = opendir(directory.isEmpty ? "/" : directory) else { return }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
            }
            guard name.count > base.count, name.hasPrefix(base), let next = name.dropFirst(base.count).first,
                next == "." || next == "-" || next == "_"
            else { continue }
            names.append(name)
        }
        closedir(dir)
        for name in names.sorted() {
            let candidate = directory + "/" + name
            guard !glob.isExcluded(candidate) else { continue }
            var st = stat()
            guard lstat(candidate, &st) == 0 else { continue }
            if (st.st_mode & S_IFMT) == S_IFLNK {
                guard config.followSymlinks, stat(candidate, &st) == 0 else { continue }
            }
            guard (st.st_mode & S_IFMT) == S_IFREG else { continue }
            let key = FileKey(device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
            guard harvesters[key] == nil else { continue }
            let found = FileGlob.Found(path: candidate, device: key.device, inode: key.inode, size: UInt64(st.st_size))
            if let h = open(found, first: false, now: now, copyOf: mark) {
                // Released once read to its end unless a scan finds it under `paths`.
                h.orphanSince = now
                harvesters[key] = h
            }
        }
    }
}
