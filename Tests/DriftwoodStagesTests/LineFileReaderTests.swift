import CZlib
import Foundation
import Testing

@testable import DriftwoodStages

/// Reading reference files for `driftwood baseline`: plain or gzip, told apart by magic bytes.
@Suite struct LineFileReaderTests {
    static func lines(of path: String) throws -> [String] {
        var out: [String] = []
        try LineFileReader.forEachLine(path: path) { out.append(String(decoding: $0, as: UTF8.self)) }
        return out
    }

    static func write(_ bytes: [UInt8], _ name: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("driftwood-lines-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent(name).path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func plainFileWithCRLFAndNoFinalNewline() throws {
        let path = try Self.write(Array("a\r\nb\n\nc".utf8), "plain.jsonl")
        #expect(try Self.lines(of: path) == ["a", "b", "", "c"])
    }

    @Test func gzipMembersAreAllReadWhateverTheName() throws {
        // Big enough to cross the 1 MiB buffers, in three members.
        let many = (0..<60_000).map { #"{"n":\#($0),"pad":"\#(String(repeating: "x", count: $0 % 50))"}"# }
        var bytes: [UInt8] = []
        for chunk in [many[0..<20_000], many[20_000..<45_000], many[45_000...]] {
            let text = Array((chunk.joined(separator: "\n") + "\n").utf8)
            bytes += text.withUnsafeBufferPointer { Gzip.compress($0, level: 6) }
        }
        let path = try Self.write(bytes, "reference.log")  // no .gz in the name
        #expect(try Self.lines(of: path) == many)
    }

    @Test func truncatedGzipIsAnError() throws {
        let text = Array((0..<5_000).map { "line \($0)" }.joined(separator: "\n").utf8)
        let gz = text.withUnsafeBufferPointer { Gzip.compress($0) }
        let path = try Self.write(Array(gz[0..<(gz.count / 2)]), "cut.gz")
        #expect(throws: LineFileReader.ReadError.self) { try Self.lines(of: path) }
        #expect(throws: LineFileReader.ReadError.self) { try Self.lines(of: "/nonexistent/file") }
    }
}
