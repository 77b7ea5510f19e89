import DriftwoodCore
import Foundation
import Testing

@testable import DriftwoodStages

/// Requests made of chunks: halves for 413, regrouping for partial retries, bodies, acknowledgements.
@Suite struct BulkRequestTests {
    static func chunk(_ n: Int, gzip: Bool = true) throws -> BulkChunk {
        let events = try (0..<n).map {
            Event(fields: try Fields(json: #"{"@timestamp":"2026-11-24T10:00:00.000Z","n":\#($0)}"#), origin: Origin(position: UInt64($0)))
        }
        let items = BulkEncoder(action: .create, index: try Template("t"), documentID: .fingerprint).encode(events)
        return BulkChunk(items: items, gzip: gzip ? BulkGzip.member(items.body, level: 1) : [])
    }

    static func numbers(_ request: BulkRequest) -> [Int] {
        var out: [Int] = []
        request.forEachItem { chunk, i in
            let source = String(decoding: chunk.items.source(of: i), as: UTF8.self)
            out.append(Int(source.split(separator: ":").last!.dropLast())!)
        }
        return out
    }

    @Test func wholeChunksSendTheirGzipMembersBackToBack() throws {
        let a = try Self.chunk(3)
        let b = try Self.chunk(2)
        var request = BulkRequest()
        request.append(a)
        request.append(b)
        #expect(request.itemCount == 5 && request.bytes == a.byteCount + b.byteCount)
        #expect(request.isWholeGzipChunks)
        // Two gzip members concatenated inflate to both bodies, which is what a server reads.
        let wire = a.gzip + b.gzip
        #expect(try Gzip.decompress(wire) == a.items.body + b.items.body)
        var plain: [UInt8] = []
        request.appendBody(to: &plain)
        #expect(plain == a.items.body + b.items.body)
    }

    @Test func halvesKeepOrderAndAttempts() throws {
        let a = try Self.chunk(3)
        let b = try Self.chunk(4)
        var request = BulkRequest()
        request.append(a)
        request.append(b, .range(1..<4))
        request.attempts = 2
        let (first, second) = request.halves()
        #expect(Self.numbers(first) == [0, 1, 2])
        #expect(Self.numbers(second) == [1, 2, 3])
        #expect(first.attempts == 2 && second.attempts == 2)
        #expect(first.isWholeGzipChunks && !second.isWholeGzipChunks)
        var body: [UInt8] = []
        second.appendBody(to: &body)
        #expect(body == Array(b.items.body[Int(b.items.offsets[1])...]))
    }

    @Test func regroupedItemsMakeRangesAndLists() throws {
        let a = try Self.chunk(6)
        let request = BulkRequest(items: [(a, 0), (a, 2), (a, 5)], attempts: 1)
        #expect(Self.numbers(request) == [0, 2, 5])
        #expect(request.bytes == [0, 2, 5].reduce(0) { $0 + a.items.range(of: $1).count })
        let run = BulkRequest(items: [(a, 2), (a, 3)], attempts: 0)
        if case .range(let r) = run.parts[0].selection { #expect(r == 2..<4) } else { Issue.record("a run is a range") }
    }

    @Test func acknowledgementSettlesOnceEveryItemIsResolved() throws {
        let a = try Self.chunk(4)
        let settled = Counter()
        a.acknowledgement = Acknowledgement(count: 1) { settled.add() }
        a.resolve(3)
        #expect(settled.value == 0)
        a.resolve(1)
        #expect(settled.value == 1)
    }

    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var n = 0
        func add() { lock.withLock { n += 1 } }
        var value: Int { lock.withLock { n } }
    }
}
