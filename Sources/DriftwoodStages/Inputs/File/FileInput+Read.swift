#if canImport(Glibc)
import Glibc
#endif
import DriftwoodCore
import Foundation

/// Reading a file's new bytes into lines and events, and sealing batches with their tickets.
extension FileInput {
    // MARK: Reading

    /// Reads up to `budget` bytes of the file, sending the lines as batches. Returns true if
    /// anything was read.
    @discardableResult
    func pump(_ h: Harvester, budget: Int, _ emit: (inout EventBatch) -> Void) -> Bool {
        guard let current = h.reader else { return false }
        if current.isGzip == false {
            let size = current.size
            if size == current.rawOffset {
                h.atEOF = true
                return false
            }
            // Shrunk, or grew with other first bytes (copy-truncate, then written past the old
            // offset before this look): start again at 0 rather than read mid-content.
            if h.truncatedOrReplaced(current, size: size) { verify(h, reader: current) }
        }
        guard let reader = h.reader else { return false }
        var read = 0
        timestamp = LineEventBuilder.readTimeJSON()
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
                    // The events array itself: `batch.count` copied the whole batch (its retains) per line.
                    if batch.events.count >= config.batchSize { seal(emit) }
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
        if h.reader != nil { noteTail(h, reader: reader) }
        if config.mode == .read { seal(emit) }
        return read > 0
    }

    /// A complete line of `h`.
    func take(_ line: LineSplitter.Line, of h: Harvester) {
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

    func add(_ bytes: UnsafeBufferPointer<UInt8>, offset: UInt64, of h: Harvester, truncated: Bool, cut: Bool) {
        touch(h)
        if recycled.isEmpty { FieldsPool.shared.take(config.batchSize, into: &recycled) }
        var fields = builder.make(
            line: bytes, timestamp: timestamp, logPrefix: h.logPrefix, offset: offset, storage: recycled.popLast())
        if truncated {
            fields.addTag("_line_truncated")
            failures.record("_line_truncated") { "a line of \(h.path) passed max_line_bytes (\(config.maxLineBytes))" }
        }
        if cut {
            fields.addTag("_multiline_truncated")
            failures.record("_multiline_truncated") { "an event of \(h.path) passed multiline.max_lines" }
        }
        batch.events.append(Event(fields: fields, origin: Origin(source: h.source, position: offset)))
        eventsRead += 1
    }

    func flushJoiner(_ h: Harvester) {
        if timestamp.isEmpty { timestamp = LineEventBuilder.readTimeJSON() }
        h.joiner!.flush { joined in
            add(joined.bytes, offset: joined.offset, of: h, truncated: joined.lineTruncated, cut: joined.cut)
        }
    }

    /// Sends the batch, which may hold lines of several files (a round over many slowly
    /// growing files makes one batch, not one per file). Each file it touched gets a ticket
    /// for what the batch covers of it; the batch's acknowledgement settles them all.
    /// A file that moved on without making events (blank lines) records that alone.
    func seal(_ emit: (inout EventBatch) -> Void) {
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
    func touch(_ h: Harvester) {
        if !h.touched {
            h.touched = true
            touched.append(h)
        }
    }

    /// The file is done with: its last line (even without a newline) and pending multiline event
    /// are sent, its handle released; `retire` forgets its checkpoint once all is delivered.
    func finish(_ h: Harvester, _ emit: (inout EventBatch) -> Void, retire: Bool) {
        if timestamp.isEmpty { timestamp = LineEventBuilder.readTimeJSON() }
        h.splitter.finish { line in take(line, of: h) }
        if h.joiner?.hasPending == true { flushJoiner(h) }
        h.lastLineEnd = max(h.lastLineEnd, h.splitter.offset)
        touch(h)
        seal(emit)
        h.reader = nil
        harvesters[h.key] = nil
        if retire {
            if let gone = mark(h) { copies.remember(gone) }
            h.ledger.retire()
        }
    }
}
