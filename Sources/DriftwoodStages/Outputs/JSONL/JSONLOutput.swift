#if canImport(Glibc)
import Glibc
#endif
import DriftwoodCore

/// Writes events as JSON lines to files named per event. A batch is accepted once its lines are
/// written to the files (handed to the kernel), which is what the acknowledgement path needs.
///
/// A batch is all or nothing: when a write fails or stops short (a full disk), every file the
/// batch wrote to is truncated back to its size before the batch, so no file ends in a torn line
/// or a partial gzip member, and the retry of the batch repeats no line.
public final class JSONLOutput: Output, @unchecked Sendable {
    // Used only from the output's own thread.
    let config: JSONLConfig
    private var files: [String: OpenFile] = [:]
    private var useCounter = 0
    static let maxOpenFiles = 64
    /// Files the batch being written has written to (each once), with their size before it.
    private var touched: [OpenFile] = []
    /// Handles rotated away or evicted during the batch: closed once it is written or undone.
    private var closeAfterBatch: [OpenFile] = []

    final class OpenFile {
        let fd: Int32
        var size: Int
        var lastUse: Int
        /// Size before the batch being written; nil when the batch has not written here.
        var sizeBeforeBatch: Int?
        init(fd: Int32, size: Int, lastUse: Int) {
            self.fd = fd
            self.size = size
            self.lastUse = lastUse
        }
    }

    /// Told of every batch written (`/health`).
    let health: OutputHealth?

    public init(config: JSONLConfig, health: OutputHealth? = nil) {
        self.config = config
        self.health = health
    }

    /// JSON lines per file, made on a filter worker.
    struct Lines: EncodedPayload {
        var files: [(path: String, bytes: [UInt8])]
        var byteCount: Int { files.reduce(64) { $0 + $1.bytes.count } }
    }

    public func encode(_ batch: consuming EventBatch) -> EventBatch {
        batch.eventCount = batch.events.count
        batch.encoded = Self.lines(consuming: &batch.events, path: config.path)
        return batch
    }

    /// The events as JSON lines, grouped by the file each one goes to (order kept within a
    /// file). Takes the events: each is moved out, written, and its buffers go back to the pool.
    static func lines(consuming events: inout [Event], path: Template) -> Lines {
        var recycled: [Fields.Storage] = []
        recycled.reserveCapacity(events.count)
        var files: [(path: String, bytes: [UInt8])] = []
        var index: [String: Int] = [:]
        if path.isConstant {
            var bytes: [UInt8] = []
            bytes.reserveCapacity(events.count * 320)
            files.append((path.source, bytes))
        }
        // Reversed in place through the buffer (swaps by moving; `events.reverse()` copied each
        // event, a retain and a release), then popped from the end in batch order.
        events.withUnsafeMutableBufferPointer { $0.reverse() }
        while var event = events.popLast() {
            var k = 0
            if !path.isConstant {
                let name = path.renderPath(event.fields)
                if let existing = index[name] {
                    k = existing
                } else {
                    k = files.count
                    index[name] = k
                    files.append((name, []))
                }
            }
            event.fields.write(to: &files[k].bytes)
            files[k].bytes.append(0x0A)
            if let storage = event.fields.recycle() { recycled.append(storage) }
        }
        FieldsPool.shared.give(&recycled)
        return Lines(files: files)
    }

    public func write(_ batch: EventBatch) throws {
        var events = batch.events
        let lines = batch.encoded as? Lines ?? Self.lines(consuming: &events, path: config.path)
        do {
            for (path, bytes) in lines.files { try append(bytes, to: path) }
        } catch {
            undoBatch()
            throw error
        }
        endBatch()
        batch.acknowledgement?.settle(1)
        health?.delivered(batch.count)
    }

    /// Truncates every file the failed batch wrote to back to its size before the batch: the
    /// file ends at its last whole line (gzip: its last complete member) again.
    private func undoBatch() {
        // Latest first: a file evicted and opened again within the batch has two handles, and
        // the earlier size must be the one that stays.
        for f in touched.reversed() {
            guard let before = f.sizeBeforeBatch else { continue }
            if ftruncate(f.fd, off_t(before)) == 0 { f.size = before }
        }
        endBatch()
    }

    private func endBatch() {
        for f in touched { f.sizeBeforeBatch = nil }
        touched.removeAll(keepingCapacity: true)
        for f in closeAfterBatch { Glibc.close(f.fd) }
        closeAfterBatch.removeAll()
    }

    /// Closes a handle now, or after the batch when the batch wrote to it (it may be undone).
    private func retire(_ f: OpenFile) {
        if f.sizeBeforeBatch != nil { closeAfterBatch.append(f) } else { Glibc.close(f.fd) }
    }

    public func close() throws {
        for (_, f) in files { Glibc.close(f.fd) }
        files = [:]
    }

    /// Appends whole lines to `path`, rotating first when the file would pass `rotate.max_bytes`.
    private func append(_ lines: [UInt8], to path: String) throws {
        guard !lines.isEmpty else { return }
        guard let limit = config.rotateMaxBytes else {
            try writeChunk(lines[...], to: path)
            return
        }
        var rest = lines[...]
        while !rest.isEmpty {
            let file = try open(path)
            let room = limit - file.size
            // Take as many whole lines as fit; a file always takes at least one line.
            var cut = rest.endIndex
            if rest.count > room {
                let limitIndex = rest.startIndex + max(0, room)
                if let nl = rest[rest.startIndex..<limitIndex].lastIndex(of: 0x0A) {
                    cut = nl + 1
                } else if file.size > 0 {
                    try rotate(path)
                    continue
                } else {
                    cut = (rest[limitIndex...].firstIndex(of: 0x0A) ?? rest.endIndex - 1) + 1
                }
            }
            try writeChunk(rest[rest.startIndex..<cut], to: path)
            rest = rest[cut...]
            if !rest.isEmpty { try rotate(path) }
        }
    }

    private func writeChunk(_ chunk: ArraySlice<UInt8>, to path: String) throws {
        let file = try open(path)
        if file.sizeBeforeBatch == nil {
            file.sizeBeforeBatch = file.size
            touched.append(file)
        }
        if config.gzip {
            let member = chunk.withUnsafeBufferPointer { Gzip.compress($0) }
            try member.withUnsafeBufferPointer { try FileDescriptorWriter.writeAll(file.fd, $0, path: path) }
            file.size += member.count
        } else {
            try chunk.withUnsafeBufferPointer { try FileDescriptorWriter.writeAll(file.fd, $0, path: path) }
            file.size += chunk.count
        }
    }

    /// The full file becomes `<path>.N` for the lowest N not taken; the next write starts a new file.
    private func rotate(_ path: String) throws {
        if let f = files.removeValue(forKey: path) { retire(f) }
        var n = 1
        var st = stat()
        while stat("\(path).\(n)", &st) == 0 { n += 1 }
        if rename(path, "\(path).\(n)") != 0 { throw FileDescriptorWriter.WriteError(path: path, errno: errno) }
    }

    private func open(_ path: String) throws -> OpenFile {
        useCounter += 1
        if let f = files[path] {
            f.lastUse = useCounter
            return f
        }
        if files.count >= Self.maxOpenFiles, let oldest = files.min(by: { $0.value.lastUse < $1.value.lastUse }) {
            retire(oldest.value)
            files.removeValue(forKey: oldest.key)
        }
        try FileDescriptorWriter.createParentDirectories(of: path)
        let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileDescriptorWriter.WriteError(path: path, errno: errno) }
        var st = stat()
        fstat(fd, &st)
        let f = OpenFile(fd: fd, size: Int(st.st_size), lastUse: useCounter)
        files[path] = f
        return f
    }
}
