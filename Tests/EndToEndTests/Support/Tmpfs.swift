import Foundation

/// A small tmpfs the test mounts (as root) to fill a disk for real, and unmounts after.
final class Tmpfs {
    let path: String

    /// Mounts a tmpfs of `size` (`2m`) at `path` (created). Throws `Unavailable` when mounting is
    /// not permitted here (not root, or no CAP_SYS_ADMIN in this container).
    init(at path: String, size: String) throws {
        self.path = path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let result = Self.run("/bin/mount", ["-t", "tmpfs", "-o", "size=\(size)", "tmpfs", path])
        guard result.code == 0 else { throw Unavailable(reason: result.output) }
    }

    struct Unavailable: Error, CustomStringConvertible {
        let reason: String
        var description: String { "cannot mount a tmpfs (needs root): \(reason)" }
    }

    /// Makes the filesystem bigger: the full disk has room again.
    func resize(_ size: String) -> Bool {
        Self.run("/bin/mount", ["-o", "remount,size=\(size)", path]).code == 0
    }

    func unmount() {
        _ = Self.run("/bin/umount", ["-l", path])
    }

    static func run(_ executable: String, _ arguments: [String]) -> (code: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        do { try process.run() } catch { return (-1, "\(error)") }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Decompresses a gzip file with the system's gzip; nil (and the message) when it is corrupt.
    static func gunzip(_ path: String) -> (text: String?, error: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/gzip")
        process.arguments = ["-dc", path]
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        do { try process.run() } catch { return (nil, "\(error)") }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let message = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        return (process.terminationStatus == 0 ? text : nil, String(decoding: message, as: UTF8.self))
    }
}
