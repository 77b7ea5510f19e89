#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Reading a whole file named in a pipeline or on the command line, with one wording for every
/// failure: `cannot read /absolute/path: no such file` (or `permission denied`, `not a file (a
/// directory)`), plus, for a relative path, the directory it was resolved against.
public enum FileAccess {
    /// Why a file could not be read.
    public struct Problem: Error, CustomStringConvertible, Sendable {
        /// The path as given.
        public let path: String
        /// The absolute path that was tried.
        public let absolute: String
        /// `no such file`, `permission denied`, `not a file (a directory)`, …
        public let reason: String

        public init(path: String, absolute: String, reason: String) {
            self.path = path
            self.absolute = absolute
            self.reason = reason
        }

        public var description: String {
            var text = "cannot read \(absolute): \(reason)"
            if !path.hasPrefix("/") {
                text += " ('\(path)' is relative to the working directory \(FileManager.default.currentDirectoryPath))"
            }
            return text
        }
    }

    /// The path made absolute against the working directory, `.` and `..` resolved.
    public static func absolute(_ path: String) -> String {
        let base = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        var parts: [Substring] = []
        for part in base.split(separator: "/") {
            if part == "." { continue }
            if part == ".." {
                if !parts.isEmpty { parts.removeLast() }
                continue
            }
            parts.append(part)
        }
        return "/" + parts.joined(separator: "/")
    }

    /// Why `path` cannot be read as a regular file, or nil when it can (checked, not read).
    public static func problem(_ path: String) -> Problem? {
        let absolute = absolute(path)
        var info = stat()
        if stat(path, &info) != 0 { return Problem(path: path, absolute: absolute, reason: reason(errno)) }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            return Problem(path: path, absolute: absolute, reason: "not a file (a directory)")
        }
        if (info.st_mode & S_IFMT) != S_IFREG {
            return Problem(path: path, absolute: absolute, reason: "not a regular file")
        }
        let fd = open(path, O_RDONLY)
        if fd < 0 { return Problem(path: path, absolute: absolute, reason: reason(errno)) }
        close(fd)
        return nil
    }

    /// The whole file's bytes.
    public static func read(_ path: String) throws(Problem) -> [UInt8] {
        if let problem = problem(path) { throw problem }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Problem(path: path, absolute: absolute(path), reason: reason(errno))
        }
        return [UInt8](data)
    }

    /// The whole file as UTF-8 text.
    public static func text(_ path: String) throws(Problem) -> String {
        let bytes = try read(path)
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw Problem(path: path, absolute: absolute(path), reason: "not UTF-8 text")
        }
        return text
    }

    static func reason(_ code: Int32) -> String {
        switch code {
        case ENOENT: return "no such file"
        case EACCES, EPERM: return "permission denied"
        case ENOTDIR: return "no such file (a parent is not a directory)"
        case EISDIR: return "not a file (a directory)"
        default: return String(cString: strerror(code))
        }
    }
}
