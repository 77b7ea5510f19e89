import Foundation
import Logging
import Testing

@testable import DriftwoodCore
@testable import DriftwoodStages

/// The file input's pure parts: globs, multiline joining, the checkpoint file, the ledger that
/// moves a checkpoint only past acknowledged batches.
@Suite struct FileInputPartsTests {
    static func tree(_ files: [String]) throws -> URL {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("glob-\(UUID().uuidString)")
        for f in files {
            let url = root.appendingPathComponent(f)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try "x\n".write(to: url, atomically: false, encoding: .utf8)
        }
        return root
    }

    @Test func globsWithDoubleStarCharacterClassesAndExclusions() throws {
        let root = try Self.tree([
            "a.log", "b.log", "c.txt", ".hidden.log", "x/1.log", "x/y/2.log", "x/y/z/3.log.gz", "x/skip.tmp", "m7.log",
        ])
        func scan(_ paths: [String], exclude: [String] = []) -> [String] {
            FileGlob(paths: paths, exclude: exclude, directory: root.path).scan()
                .map { String($0.path.dropFirst(root.path.count + 1)) }.sorted()
        }
        #expect(scan(["*.log"]) == ["a.log", "b.log", "m7.log"])
        #expect(scan(["**/*.log"]) == ["a.log", "b.log", "m7.log", "x/1.log", "x/y/2.log"])
        #expect(scan(["x/**/*"], exclude: ["*.tmp"]) == ["x/1.log", "x/y/2.log", "x/y/z/3.log.gz"])
        #expect(scan(["[ab].log", "m?.log"]) == ["a.log", "b.log", "m7.log"])
        #expect(scan(["**/*.log*"], exclude: ["x/y/**"]) == ["a.log", "b.log", "m7.log", "x/1.log"])
        #expect(scan([root.path + "/x/1.log"]) == ["x/1.log"])
        #expect(scan(["nothing/*.log"]).isEmpty)
    }

    static func line(_ text: String, at offset: UInt64) -> (String, UInt64) { (text, offset) }

    /// Feeds lines to a joiner, collecting the events it makes.
    static func join(_ lines: [String], maxLines: Int = 100, maxBytes: Int = 1 << 20, flush: Bool = true) throws
        -> [(String, UInt64, UInt64, Bool)]
    {
        var joiner = MultilineJoiner(pattern: try LineStartPattern(#"^\d{4}-"#), maxLines: maxLines, maxBytes: maxBytes)
        var events: [(String, UInt64, UInt64, Bool)] = []
        let collect: (MultilineJoiner.Joined) -> Void = {
            events.append((String(decoding: $0.bytes, as: UTF8.self), $0.offset, $0.endOffset, $0.cut))
        }
        var offset: UInt64 = 0
        for text in lines {
            let bytes = Array(text.utf8)
            bytes.withUnsafeBufferPointer { b in
                joiner.add(
                    LineSplitter.Line(bytes: b, truncated: false, offset: offset, endOffset: offset + UInt64(b.count) + 1),
                    collect)
            }
            offset += UInt64(bytes.count) + 1
        }
        if flush { joiner.flush(collect) }
        return events
    }

    @Test func multilineJoinsContinuationsAndKeepsOffsets() throws {
        let events = try Self.join(["2026-01 a", "  at x", "  at y", "2026-02 b", "2026-03 c", "  more"])
        #expect(events.map(\.0) == ["2026-01 a\n  at x\n  at y", "2026-02 b", "2026-03 c\n  more"])
        #expect(events.map(\.1) == [0, 24, 34])
        #expect(events.map(\.2) == [24, 34, 51])
        #expect(events.allSatisfy { !$0.3 })
        // Lines before the first start line still make an event.
        #expect(try Self.join(["orphan", "2026-01 a"]).map(\.0) == ["orphan", "2026-01 a"])
        // Without a flush the last event waits.
        #expect(try Self.join(["2026-01 a", "  at x"], flush: false).isEmpty)
    }

    @Test func multilineCutsLongRunsIntoTaggedPieces() throws {
        let events = try Self.join(["2026-01 a", "1", "2", "3", "4", "2026-02 b"], maxLines: 2)
        #expect(events.map(\.0) == ["2026-01 a\n1", "2\n3", "4", "2026-02 b"])
        #expect(events.map(\.3) == [true, true, true, false])
        let bytes = try Self.join(["2026-01 aaaa", "bbbb", "cccc"], maxBytes: 12)
        #expect(bytes.map(\.0) == ["2026-01 aaaa", "bbbb\ncccc"])
    }

    @Test func checkpointFileRoundTripsAndRejectsDamage() throws {
        let checkpoints = [
            Checkpoint(
                input: "logs", path: "/var/log/\"model\".log", key: FileKey(device: 2049, inode: 123),
                fingerprint: Fingerprint(length: 1024, hash: 0xFEDC_BA98_7654_3210), source: UInt64.max, offset: 1 << 40),
            Checkpoint(
                input: "other", path: "/a", key: FileKey(device: 1, inode: 2), fingerprint: .empty, source: 0, offset: 0),
        ]
        let bytes = CheckpointFile.encode(checkpoints)
        #expect(try CheckpointFile.decode(bytes) == checkpoints)
        for damaged in [[], Array(bytes.prefix(bytes.count / 2)), [UInt8](repeating: 0, count: 32), Array(#"{"version":2,"files":[]}"#.utf8),
            Array(#"{"version":1,"files":[{"input":"a"}]}"#.utf8)]
        {
            #expect(throws: CheckpointFile.Corrupt.self) { try CheckpointFile.decode(damaged) }
        }
    }

    @Test func ledgerMovesTheCheckpointOnlyPastContiguousAcknowledgedBatches() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ledger-\(UUID().uuidString)")
        let store = CheckpointStore(path: dir.path + "/checkpoints.json", logger: Logger(label: "test"))
        let key = FileKey(device: 1, inode: 1)
        store.update(Checkpoint(input: "in", path: "/f", key: key, fingerprint: .empty, source: 7, offset: 0))
        let ledger = OffsetLedger(store: store, input: "in", key: key, path: "/f")
        let a = ledger.sent(upTo: 100)
        let b = ledger.sent(upTo: 200)
        let c = ledger.sent(upTo: 300)
        ledger.complete(c)
        #expect(store.checkpoints(input: "in")[key]?.offset == 0)
        ledger.complete(a)
        #expect(store.checkpoints(input: "in")[key]?.offset == 100)
        ledger.complete(b)
        #expect(store.checkpoints(input: "in")[key]?.offset == 300)
        // Truncated: batches of the old content no longer move it.
        let old = ledger.sent(upTo: 400)
        ledger.restart()
        let fresh = ledger.sent(upTo: 50)
        ledger.complete(old)
        #expect(store.checkpoints(input: "in")[key]?.offset == 0)
        ledger.complete(fresh)
        #expect(store.checkpoints(input: "in")[key]?.offset == 50)
        // Retired: forgotten once the last batch is delivered.
        let last = ledger.sent(upTo: 60)
        ledger.retire()
        #expect(store.checkpoints(input: "in")[key] != nil)
        ledger.complete(last)
        #expect(store.checkpoints(input: "in")[key] == nil)
        store.save()
        #expect(try CheckpointFile.decode(Array(try Data(contentsOf: URL(fileURLWithPath: store.path)))).isEmpty)
    }
}
