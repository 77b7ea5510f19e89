import DriftwoodCore

/// What a file input remembers about one file: who it is, where it was last seen, and how far
/// its events have been delivered (docs/delivery.md).
struct Checkpoint: Equatable, Sendable {
    /// The file input's id.
    var input: String
    /// Where the file was last seen (absolute).
    var path: String
    var key: FileKey
    var fingerprint: Fingerprint
    /// The basis of this file's events' fingerprint ids, fixed when the file was first seen.
    var source: UInt64
    /// Everything before this offset (in decompressed bytes for gzip files) is delivered.
    var offset: UInt64
}

/// `checkpoints.json`: `{"version":1,"files":[{"input":…,"path":…,"device":…,"inode":…,
/// "fingerprint":{"length":…,"hash":"<hex>"},"source":"<hex>","offset":…}]}`.
enum CheckpointFile {
    static let version: Int64 = 1

    /// Why a checkpoint file could not be read.
    struct Corrupt: Error, CustomStringConvertible {
        let reason: String
        var description: String { reason }
    }

    static func encode(_ checkpoints: [Checkpoint]) -> [UInt8] {
        var out: [UInt8] = Array(#"{"version":1,"files":["#.utf8)
        for (k, c) in checkpoints.enumerated() {
            if k > 0 { out += Array(",\n".utf8) }
            out += Array(#"{"input":"#.utf8)
            JSONWriter.appendString(c.input, to: &out)
            out += Array(#","path":"#.utf8)
            JSONWriter.appendString(c.path, to: &out)
            out += Array(#","device":\#(c.key.device),"inode":\#(c.key.inode)"#.utf8)
            out += Array(#","fingerprint":{"length":\#(c.fingerprint.length),"hash":"\#(Hash64.hex(c.fingerprint.hash))"}"#.utf8)
            out += Array(#","source":"\#(Hash64.hex(c.source))","offset":\#(c.offset)}"#.utf8)
        }
        out += Array("]}\n".utf8)
        return out
    }

    static func decode(_ bytes: [UInt8]) throws(Corrupt) -> [Checkpoint] {
        guard !bytes.isEmpty else { throw Corrupt(reason: "the file is empty") }
        guard let root = JSONValue(json: String(decoding: bytes, as: UTF8.self)) else {
            throw Corrupt(reason: "not valid JSON (truncated or overwritten?)")
        }
        guard root.member(Array("version".utf8))?.integer == version else {
            throw Corrupt(reason: "no \"version\": \(version)")
        }
        guard let files = root.member(Array("files".utf8)), case .array = files.kind else {
            throw Corrupt(reason: "no \"files\" list")
        }
        var result: [Checkpoint] = []
        for (k, f) in files.elements.enumerated() {
            func string(_ name: String) -> String? { f.member(Array(name.utf8))?.string }
            func unsigned(_ name: String) -> UInt64? { f.member(Array(name.utf8))?.integer.flatMap { $0 >= 0 ? UInt64($0) : nil } }
            let fp = f.member(Array("fingerprint".utf8))
            guard let input = string("input"), let path = string("path"), let device = unsigned("device"),
                let inode = unsigned("inode"), let offset = unsigned("offset"),
                let source = string("source").flatMap({ UInt64($0, radix: 16) }),
                let length = fp?.member(Array("length".utf8))?.integer, length >= 0,
                let hash = fp?.member(Array("hash".utf8))?.string.flatMap({ UInt64($0, radix: 16) })
            else { throw Corrupt(reason: "files[\(k)] is incomplete") }
            result.append(
                Checkpoint(
                    input: input, path: path, key: FileKey(device: device, inode: inode),
                    fingerprint: Fingerprint(length: Int(length), hash: hash), source: source, offset: offset))
        }
        return result
    }
}
