#if canImport(Glibc)
import Glibc
#endif

/// Writing whole buffers to file descriptors, and creating parent directories.
public enum FileDescriptorWriter {
    /// Why a write failed.
    public struct WriteError: Error, CustomStringConvertible {
        public let path: String
        public let errno: Int32
        public var description: String { "\(path): \(String(cString: strerror(errno)))" }
    }

    /// Writes all of `bytes`, retrying short writes and interruptions.
    public static func writeAll(_ fd: Int32, _ bytes: UnsafeBufferPointer<UInt8>, path: String) throws(WriteError) {
        guard var p = bytes.baseAddress else { return }
        var left = bytes.count
        while left > 0 {
            let n = write(fd, p, left)
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw WriteError(path: path, errno: errno)
            }
            p += n
            left -= n
        }
    }

    /// `mkdir -p` of the directory that holds `path`.
    public static func createParentDirectories(of path: String) throws(WriteError) {
        var parts = path.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast()
        var current = path.hasPrefix("/") ? "" : "."
        for part in parts where !part.isEmpty {
            current += "/" + part
            if mkdir(current, 0o755) != 0 && errno != EEXIST { throw WriteError(path: current, errno: errno) }
        }
    }
}
