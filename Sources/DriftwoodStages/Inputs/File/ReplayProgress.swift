#if canImport(Glibc)
import Glibc
#endif
import Logging

/// Progress of a read-mode replay: a bar on stderr (bytes done / total, events/s, ETA) when
/// stderr is a terminal, else a log line every 10 seconds.
struct ReplayProgress {
    let files: Int
    let totalBytes: UInt64
    let logger: Logger
    let terminal: Bool
    private var doneBytes: UInt64 = 0
    private var events = 0
    private let started: Double
    private var lastShown: Double

    init(files: Int, totalBytes: UInt64, logger: Logger, terminal: Bool) {
        self.files = files
        self.totalBytes = totalBytes
        self.logger = logger
        self.terminal = terminal
        started = FileInput.now()
        lastShown = started
        // Sizes on disk: a gzip file counts with its compressed size (progress is in the same unit).
        logger.info("replay started", metadata: ["files": "\(files)", "bytes_on_disk": "\(totalBytes)"])
    }

    /// Bytes passed over without reading them (already delivered, or a file that vanished).
    mutating func skipped(bytes: UInt64) {
        doneBytes += bytes
    }

    mutating func advance(bytes: UInt64, events: Int) {
        doneBytes += bytes
        self.events = events
        let now = FileInput.now()
        if now - lastShown >= (terminal ? 0.25 : 10) {
            lastShown = now
            show(now: now, final: false)
        }
    }

    /// Reading is over; delivery is not (the end-of-run summary says what was delivered).
    mutating func done(events: Int, alreadyRead: Int = 0) {
        self.events = events
        doneBytes = max(doneBytes, totalBytes)
        let now = FileInput.now()
        if terminal { show(now: now, final: true) }
        logger.info(
            "replay read every file; waiting for the outputs to deliver",
            metadata: [
                "files": "\(files)", "already_read": "\(alreadyRead)", "events_read": "\(events)",
                "seconds": "\(Self.format(now - started, decimals: 1))",
            ])
    }

    private func show(now: Double, final: Bool) {
        let elapsed = max(now - started, 1e-6)
        let fraction = totalBytes == 0 ? 1 : min(1, Double(doneBytes) / Double(totalBytes))
        let rate = Double(events) / elapsed
        let eta = fraction > 0 ? elapsed * (1 - fraction) / fraction : 0
        let done = Self.mebibytes(doneBytes)
        let total = Self.mebibytes(totalBytes)
        if terminal {
            let width = 30
            let filled = Int(fraction * Double(width))
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            let line =
                "\r[\(bar)] \(Self.format(fraction * 100, decimals: 1))% \(done)/\(total) MiB  \(Self.format(rate / 1000, decimals: 1))k events/s  ETA \(Self.clock(eta))\u{1B}[K"
                + (final ? "\n" : "")
            let bytes = Array(line.utf8)
            bytes.withUnsafeBufferPointer { _ = write(2, $0.baseAddress, $0.count) }
        } else {
            logger.info(
                "replay progress",
                metadata: [
                    "done_mib": "\(done)", "total_mib": "\(total)", "percent": "\(Self.format(fraction * 100, decimals: 1))",
                    "events_per_second": "\(Int(rate))", "eta_seconds": "\(Int(eta))",
                ])
        }
    }

    static func mebibytes(_ b: UInt64) -> String { format(Double(b) / 1_048_576, decimals: 1) }

    static func format(_ v: Double, decimals: Int) -> String {
        let scale = decimals == 0 ? 1.0 : pow(10, Double(decimals))
        let r = (v * scale).rounded() / scale
        return decimals == 0 ? String(Int(r)) : String(r)
    }

    static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        let (h, m, sec) = (s / 3600, (s / 60) % 60, s % 60)
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return h > 0 ? "\(h):\(two(m)):\(two(sec))" : "\(m):\(two(sec))"
    }
}
