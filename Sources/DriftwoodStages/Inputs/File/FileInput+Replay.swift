#if canImport(Glibc)
import Glibc
#endif
import DriftwoodCore
import Foundation

/// `mode: read`: each file from its checkpoint to its end, then finish (archive replay).
extension FileInput {
    // MARK: Read mode

    func replay(_ emit: (inout EventBatch) -> Void) {
        let found = scanOnce(first: true).found
        if found.isEmpty {
            logger.warning("no file matches paths; nothing to replay", metadata: ["paths": "\(config.paths)"])
        }
        var progress = ReplayProgress(
            files: found.count, totalBytes: found.reduce(0) { $0 + $1.size }, logger: logger,
            terminal: isatty(2) == 1)
        var alreadyRead = 0
        for f in found {
            if isStopping { break }
            guard let h = open(f, first: true, now: Self.now()) else {
                progress.skipped(bytes: f.size)
                continue
            }
            let startRaw = h.reader!.rawOffset
            let eventsBefore = eventsRead
            let resumed = h.skipUntil > 0 || startRaw > 0
            var lastRaw = startRaw
            progress.skipped(bytes: startRaw)
            while !isStopping {
                let more = pump(h, budget: 4 << 20, emit)
                let raw = h.reader?.rawOffset ?? lastRaw
                // Truncated under the reader, it starts again at 0: progress never goes back.
                progress.advance(bytes: raw > lastRaw ? raw - lastRaw : 0, events: eventsRead)
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
            if resumed && eventsRead == eventsBefore {
                alreadyRead += 1
                logAlreadyRead(h.path)
            }
            finish(h, emit, retire: false)
        }
        progress.done(events: eventsRead, alreadyRead: alreadyRead)
    }
}
