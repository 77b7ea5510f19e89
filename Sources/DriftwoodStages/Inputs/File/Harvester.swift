import DriftwoodCore

/// One file being read: its reader (nil while released for inactivity), line splitter,
/// multiline joiner, and the ledger of its batches in flight. Used by its input's thread only.
final class Harvester {
    let key: FileKey
    private(set) var path: String
    private(set) var logPrefix: [UInt8]
    /// The basis of this file's events' fingerprint ids (fixed when the file was first seen).
    let source: UInt64
    var fingerprint: Fingerprint
    let ledger: OffsetLedger
    var reader: FileReader?
    var splitter: LineSplitter
    var joiner: MultilineJoiner?
    /// Decompressed bytes before this are skipped: resuming a gzip file, which can only be
    /// read from its start.
    var skipUntil: UInt64 = 0
    /// Skip everything there is now (`start_at: end` on a gzip file).
    var skipToEnd = false
    /// End of the last line handed on (to the batch or the joiner).
    var lastLineEnd: UInt64
    /// What the last batch sent covered (see `covered`).
    var lastSent: UInt64
    /// Monotonic seconds: last time bytes were read; last time a line reached the joiner.
    var lastGrowth: Double
    var lastLine: Double = 0
    /// Since when the file is no longer at any matched path (renamed away or deleted).
    var orphanSince: Double?
    /// Has lines in the batch being built.
    var touched = false
    /// The last read found nothing more.
    var atEOF = false
    /// Bytes of the file read when its handle was released (`release()`); a scan that finds
    /// another size reopens it.
    var sizeAtRelease: UInt64 = 0
    /// Plain (not gzip) content: its fingerprint is over its content, so a copy of it can be told
    /// (`CopyTracker`).
    var plain = false
    /// Hash of the bytes before `tailEnd` (a read position), for `CopyTracker`.
    var tail: UInt64?
    var tailEnd: UInt64 = 0

    /// Closes the handle of a file read to its end. What was read, not the size now, is kept: a
    /// line appended between the last read and the release still makes the size differ. (A
    /// damaged gzip file, never read further, keeps its size: it is not reopened for nothing.)
    func release() {
        if let reader { sizeAtRelease = reader.damaged == nil ? reader.rawOffset : reader.size }
        reader = nil
    }

    init(key: FileKey, path: String, source: UInt64, fingerprint: Fingerprint, ledger: OffsetLedger, start: UInt64,
        maxLineBytes: Int, multiline: (LineStartPattern, Int)?, now: Double)
    {
        self.key = key
        self.path = path
        self.logPrefix = LineEventBuilder.filePrefix(path: path)
        self.source = source
        self.fingerprint = fingerprint
        self.ledger = ledger
        self.splitter = LineSplitter(maxLineBytes: maxLineBytes, startOffset: start)
        if let (pattern, maxLines) = multiline {
            joiner = MultilineJoiner(pattern: pattern, maxLines: maxLines, maxBytes: maxLineBytes)
        }
        lastLineEnd = start
        lastSent = start
        lastGrowth = now
    }

    /// The file was found under another name (renamed within the globs).
    func moved(to newPath: String) {
        path = newPath
        logPrefix = LineEventBuilder.filePrefix(path: newPath)
    }

    /// Where reading must resume to lose nothing: the first line not yet in a sent batch.
    var covered: UInt64 {
        if let joiner, joiner.hasPending { return joiner.offset }
        return lastLineEnd
    }

    /// Bytes of lines not yet complete or not yet sent are held.
    var holdsPartial: Bool { splitter.hasPartialLine || joiner?.hasPending == true }

    /// Starts over at 0 (copy-truncate, or the content was replaced).
    func restart(maxLineBytes: Int) {
        splitter = LineSplitter(maxLineBytes: maxLineBytes, startOffset: 0)
        joiner?.reset()
        skipUntil = 0
        skipToEnd = false
        lastLineEnd = 0
        lastSent = 0
        fingerprint = .empty
        tail = nil
        tailEnd = 0
        ledger.restart()
    }
}

extension Harvester {
    /// The content this harvester read is gone from `reader` (of size `size`): a plain file
    /// shrank below the read position, or the first bytes are no longer the ones read
    /// (copy-truncate, then written past the old offset before this look).
    func truncatedOrReplaced(_ reader: FileReader, size: UInt64) -> Bool {
        (reader.isGzip != true && size < reader.rawOffset) || !fingerprint.matches(fd: reader.fd)
    }
}
