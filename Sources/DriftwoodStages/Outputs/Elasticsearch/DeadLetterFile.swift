#if canImport(Glibc)
import Glibc
#endif
import DriftwoodCore

/// The JSON-lines file that holds documents Elasticsearch rejected for good (a mapping conflict,
/// an invalid index name, …). A document counts as delivered once its line is written here.
///
/// One line per document: the rejection's `@timestamp`, `error.type`, `error.reason` and
/// `http.response.status_code`, where it was going (`elasticsearch.action`, `.index`, `.id`)
/// and the original event, byte for byte, as the string `event.original` (ECS). The event is
/// kept apart rather than merged with the error fields, because model logs often carry an
/// `error` field of their own.
final class DeadLetterFile: @unchecked Sendable {
    let path: String
    // Guarded by `mutex`: sender threads write concurrently.
    private var mutex = pthread_mutex_t()
    private var fd: Int32 = -1

    init(path: String) {
        self.path = path
        pthread_mutex_init(&mutex, nil)
    }

    deinit {
        if fd >= 0 { Glibc.close(fd) }
        pthread_mutex_destroy(&mutex)
    }

    /// Appends whole lines; on return they are in the file (handed to the kernel). When the write
    /// fails or stops short (a full disk), the file is truncated back to its size before: no torn
    /// line, and the caller's retry of the same documents repeats none.
    func append(_ lines: [UInt8]) throws {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        if fd < 0 {
            try FileDescriptorWriter.createParentDirectories(of: path)
            fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw FileDescriptorWriter.WriteError(path: path, errno: errno) }
        }
        var st = stat()
        let before = fstat(fd, &st) == 0 ? off_t(st.st_size) : nil
        do {
            try lines.withUnsafeBufferPointer { try FileDescriptorWriter.writeAll(fd, $0, path: path) }
        } catch {
            if let before { _ = ftruncate(fd, before) }
            throw error
        }
    }

    func close() {
        pthread_mutex_lock(&mutex)
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
        pthread_mutex_unlock(&mutex)
    }

    /// The dead-letter line (with its newline) for one rejected item.
    /// - Parameters:
    ///   - source: the event's JSON as sent.
    ///   - actionLine: the item's action line, `{"create":{"_index":…,"_id":…}}`.
    ///   - index: the index when the action line leaves it out (it was in the request path).
    static func record(
        source: ArraySlice<UInt8>, actionLine: ArraySlice<UInt8>, failure: BulkFailure, at time: Timestamp,
        index pathIndex: String? = nil
    ) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(source.count + failure.reason.utf8.count + 256)
        out.append(contentsOf: #"{"@timestamp":""#.utf8)
        time.appendRFC3339(to: &out)
        out.append(contentsOf: #"","error":{"type":"#.utf8)
        JSONWriter.appendString(failure.type, to: &out)
        out.append(contentsOf: #","reason":"#.utf8)
        JSONWriter.appendString(failure.reason, to: &out)
        out.append(UInt8(ascii: "}"))
        if let status = failure.status {
            out.append(contentsOf: #","http":{"response":{"status_code":"#.utf8)
            JSONWriter.appendInteger(Int64(status), to: &out)
            out.append(contentsOf: "}}".utf8)
        }
        let action = JSONValue(json: String(decoding: actionLine, as: UTF8.self))?.members.first
        if let action {
            out.append(contentsOf: #","elasticsearch":{"action":"#.utf8)
            JSONWriter.appendString(action.key, to: &out)
            if let index = action.value.member(Array("_index".utf8)) {
                out.append(contentsOf: #","index":"#.utf8)
                index.appendJSON(to: &out)
            } else if let pathIndex {
                out.append(contentsOf: #","index":"#.utf8)
                JSONWriter.appendString(pathIndex, to: &out)
            }
            if let id = action.value.member(Array("_id".utf8)) {
                out.append(contentsOf: #","id":"#.utf8)
                id.appendJSON(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
        out.append(contentsOf: #","event":{"original":"#.utf8)
        source.withUnsafeBufferPointer { JSONWriter.appendString(utf8: $0, to: &out) }
        out.append(contentsOf: "}}\n".utf8)
        return out
    }
}
