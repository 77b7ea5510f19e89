import DriftwoodCore

/// `type: stdin` — reads lines from standard input until end of file.
public struct StdinConfig: StageConfig {
    /// Longer lines are cut here and tagged `_line_truncated`; default 1MiB.
    public var maxLineBytes: Int
    /// Events per batch handed to the filters; default 1024.
    public var batchSize: Int

    public init(maxLineBytes: Int = 1 << 20, batchSize: Int = 1024) {
        self.maxLineBytes = maxLineBytes
        self.batchSize = batchSize
    }

    public init(_ c: ConfigObject) {
        maxLineBytes = c.size("max_line_bytes", default: 1 << 20)
        batchSize = c.int("batch_size", default: 1024, min: 1)
    }
}
