import DriftwoodCore

/// `type: file` — tails files (or reads them to their end: archive replay), with restart-safe
/// checkpoints, rotation and gzip archives (docs/pipeline.md, docs/delivery.md).
public struct FileConfig: StageConfig {
    public enum Mode: String, Sendable, CaseIterable {
        /// Follow forever; files that appear later are picked up.
        case tail
        /// Read each file from its checkpoint to its end, then finish (replay).
        case read
    }

    public enum StartAt: String, Sendable, CaseIterable { case beginning, end }

    /// `multiline:` — joins continuation lines (tracebacks, stack traces) into one event.
    public struct Multiline: Sendable {
        /// A line matching this starts a new event; other lines are appended with "\n".
        public var start: String
        /// Most lines in one event; default 500. A longer run is cut into several events,
        /// tagged `_multiline_truncated`: nothing is dropped.
        public var maxLines: Int
        /// A pending event is sent when no line followed it for this long; default 1s.
        public var timeout: Duration
    }

    /// Globs (`*`, `?`, `[..]`, `**`) of the files to read; relative ones resolve against the
    /// working directory.
    public var paths: [String]
    /// Globs of files to leave alone; one without a `/` matches the file's name.
    public var exclude: [String]
    /// Read a matched symbolic link's file (default false: links are skipped with a warning, so
    /// a link planted in a log directory cannot ship `/etc/shadow`). `true` for
    /// `/var/log/containers/*.log`, whose entries are links. A file reached by several links is
    /// one file, under the first matching path.
    public var followSymlinks: Bool
    public var mode: Mode
    /// Where to start in a file never seen before, when found by the first scan (`end` skips what
    /// is there); files that appear later are always read from their beginning.
    public var startAt: StartAt
    /// How often the globs are expanded again; default 1s.
    public var scanInterval: Duration
    /// A handle of a file not written for this long is released, and reopened when it grows;
    /// default 5m.
    public var closeInactive: Duration
    /// Longer lines are cut here and tagged `_line_truncated`; default 1MiB.
    public var maxLineBytes: Int
    public var multiline: Multiline?
    /// Events per batch handed to the filters; default 1024.
    public var batchSize: Int
    /// Bytes at the start of a file that identify it beside its device and inode; default 1024.
    public var fingerprintBytes: Int
    /// Longest time between an acknowledgement and the checkpoint file that records it; default
    /// 1s (what `kill -9` can make a JSONL output receive twice; Elasticsearch's fingerprint ids
    /// make such re-sends harmless). `0s` saves after every acknowledgement.
    public var checkpointInterval: Duration

    public init(
        paths: [String], exclude: [String] = [], mode: Mode = .tail, startAt: StartAt = .beginning,
        scanInterval: Duration = .seconds(1), closeInactive: Duration = .seconds(300), maxLineBytes: Int = 1 << 20,
        multiline: Multiline? = nil, batchSize: Int = 1024, fingerprintBytes: Int = 1024,
        checkpointInterval: Duration = .seconds(1), followSymlinks: Bool = false
    ) {
        self.checkpointInterval = checkpointInterval
        self.followSymlinks = followSymlinks
        self.paths = paths
        self.exclude = exclude
        self.mode = mode
        self.startAt = startAt
        self.scanInterval = scanInterval
        self.closeInactive = closeInactive
        self.maxLineBytes = maxLineBytes
        self.multiline = multiline
        self.batchSize = batchSize
        self.fingerprintBytes = fingerprintBytes
    }

    public init(_ c: ConfigObject) {
        paths = c.stringList("paths") ?? []
        if !c.has("paths") {
            c.error("missing required key 'paths' (globs of the files to read, like /var/log/model/*.log)")
        } else if paths.isEmpty {
            c.error("needs at least one path", at: c.node("paths"), key: "paths")
        }
        for (k, p) in paths.enumerated() where p.isEmpty {
            c.error("paths[\(k)] is empty", at: c.node("paths"), key: "paths")
        }
        exclude = c.stringList("exclude") ?? []
        followSymlinks = c.bool("follow_symlinks", default: false)
        mode = Mode(rawValue: c.choice("mode", Mode.allCases.map(\.rawValue), default: "tail")) ?? .tail
        startAt = StartAt(rawValue: c.choice("start_at", StartAt.allCases.map(\.rawValue), default: "beginning")) ?? .beginning
        scanInterval = c.duration("scan_interval", default: .seconds(1))
        closeInactive = c.duration("close_inactive", default: .seconds(300))
        maxLineBytes = c.size("max_line_bytes", default: 1 << 20)
        if maxLineBytes < 1 { c.error("must be at least 1 byte", at: c.node("max_line_bytes"), key: "max_line_bytes") }
        batchSize = c.int("batch_size", default: 1024, min: 1)
        fingerprintBytes = c.size("fingerprint_bytes", default: 1024)
        if fingerprintBytes < 1 {
            c.error("must be at least 1 byte", at: c.node("fingerprint_bytes"), key: "fingerprint_bytes")
        }
        checkpointInterval = c.duration("checkpoint_interval", default: .seconds(1))
        if let m = c.object("multiline") {
            let start = m.string("start")
            if start == nil && !m.has("start") {
                m.error("missing required key 'start' (a regex that matches the first line of an event)")
            }
            if let start {
                do { _ = try LineStartPattern(start) } catch {
                    m.error("bad regex '\(start)': \(error.reason)", at: m.node("start"), key: "start")
                }
            }
            let maxLines = m.int("max_lines", default: 500, min: 1)
            let timeout = m.duration("timeout", default: .seconds(1))
            m.finish()
            if let start { multiline = Multiline(start: start, maxLines: maxLines, timeout: timeout) }
        }
    }
}
