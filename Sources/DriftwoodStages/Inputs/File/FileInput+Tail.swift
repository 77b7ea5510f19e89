#if canImport(Glibc)
import Glibc
#endif
import DriftwoodCore
import Foundation

/// `mode: tail`: follow the files forever, rescanning the globs every `scan_interval`.
extension FileInput {
    // MARK: Tail mode

    func tail(_ emit: (inout EventBatch) -> Void) {
        let scanEvery = config.scanInterval.seconds
        let closeAfter = config.closeInactive.seconds
        let timeout = config.multiline.map { $0.timeout.seconds } ?? .infinity
        var nextScan = 0.0
        var first = true
        var caughtUp = false
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
                    h.release()
                }
            }
            // Every file found is read to its end: say so once, and with `run --once` finish (a
            // pending multiline event is flushed below).
            let atEnd = !more && !caughtUp && harvesters.values.allSatisfy { $0.reader == nil || $0.atEOF }
            if atEnd && !caughtUp {
                caughtUp = true
                logger.notice(
                    "caught up: every file read to its end",
                    metadata: ["files": "\(harvesters.count)", "events_read": "\(eventsRead)"])
                if environment.once {
                    logger.info("--once: finishing once the outputs have delivered")
                    break
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
}
