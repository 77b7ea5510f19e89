import CZlib
import DriftwoodCore
import Synchronization

/// One pipeline batch as `_bulk` items (made on a filter worker), shared by the requests that
/// carry its items. Once every item is accepted or dead-lettered, the batch's acknowledgement
/// is settled.
final class BulkChunk: @unchecked Sendable {
    let items: BulkItems
    /// The whole body as one gzip member, compressed ahead on the filter worker; empty when the
    /// output does not compress. Requests made of whole chunks send these members back to back
    /// (a gzip stream may hold several members; Elasticsearch and OpenSearch read them all).
    let gzip: [UInt8]
    /// Set by `write` before the chunk is shared with the senders.
    var acknowledgement: Acknowledgement?
    /// Set by `write` with `acknowledgement`: resolved items count as delivered.
    var health: OutputHealth?
    private let unresolved: Atomic<Int>

    init(items: BulkItems, gzip: [UInt8]) {
        self.items = items
        self.gzip = gzip
        unresolved = Atomic(items.count)
    }

    var count: Int { items.count }
    var byteCount: Int { items.body.count }

    /// `n` items were accepted or dead-lettered; settles the acknowledgement after the last.
    func resolve(_ n: Int) {
        guard n > 0 else { return }
        let left = unresolved.wrappingSubtract(n, ordering: .acquiringAndReleasing).newValue
        precondition(left >= 0, "bulk items resolved twice")
        health?.delivered(n)
        if left == 0 { acknowledgement?.settle(1) }
    }
}

/// What `encode` hands to `write`: the chunk of a batch.
struct EncodedBulk: EncodedPayload {
    let chunk: BulkChunk
    var byteCount: Int { chunk.items.body.capacity + chunk.gzip.count + chunk.items.offsets.count * 4 + 64 }
}

/// Items of one or more chunks sent as one `_bulk` request, and how often they have been tried.
struct BulkRequest {
    enum Selection {
        case all
        case range(Range<Int>)
        case list([Int32])
    }

    struct Part {
        let chunk: BulkChunk
        var selection: Selection

        var count: Int {
            switch selection {
            case .all: return chunk.count
            case .range(let r): return r.count
            case .list(let l): return l.count
            }
        }

        func forEachItem(_ body: (Int) -> Void) {
            switch selection {
            case .all: for i in 0..<chunk.count { body(i) }
            case .range(let r): for i in r { body(i) }
            case .list(let l): for i in l { body(Int(i)) }
            }
        }
    }

    var parts: [Part] = []
    var itemCount = 0
    /// Uncompressed body bytes.
    var bytes = 0
    /// Attempts made so far.
    var attempts = 0
    /// Monotonic nanoseconds before which a retry is not sent.
    var due: UInt64 = 0

    var isEmpty: Bool { itemCount == 0 }

    mutating func append(_ chunk: BulkChunk, _ selection: Selection = .all) {
        let part = Part(chunk: chunk, selection: selection)
        parts.append(part)
        itemCount += part.count
        switch selection {
        case .all: bytes += chunk.byteCount
        case .range(let r): bytes += Int(chunk.items.offsets[r.upperBound] - chunk.items.offsets[r.lowerBound])
        case .list(let l): for i in l { bytes += chunk.items.range(of: Int(i)).count }
        }
    }

    /// Every item in request order (the order of the answer's items).
    func forEachItem(_ body: (BulkChunk, Int) -> Void) {
        for part in parts { part.forEachItem { body(part.chunk, $0) } }
    }

    /// A request of the given items, consecutive items of a chunk grouped into one part.
    init(items: [(BulkChunk, Int)], attempts: Int) {
        self.attempts = attempts
        var k = 0
        while k < items.count {
            let chunk = items[k].0
            var list: [Int32] = []
            while k < items.count, items[k].0 === chunk {
                list.append(Int32(items[k].1))
                k += 1
            }
            if list.count == chunk.count {
                append(chunk)
            } else if let first = list.first, Int(list.last!) - Int(first) + 1 == list.count {
                append(chunk, .range(Int(first)..<Int(list.last!) + 1))
            } else {
                append(chunk, .list(list))
            }
        }
    }

    init() {}

    /// The two halves of the request (by item count), each with the same attempt count.
    func halves() -> (BulkRequest, BulkRequest) {
        var all: [(BulkChunk, Int)] = []
        all.reserveCapacity(itemCount)
        forEachItem { all.append(($0, $1)) }
        let middle = all.count / 2
        return (
            BulkRequest(items: Array(all[..<middle]), attempts: attempts),
            BulkRequest(items: Array(all[middle...]), attempts: attempts)
        )
    }

    /// True when every part is a whole chunk with its gzip member ready.
    var isWholeGzipChunks: Bool {
        parts.allSatisfy {
            if case .all = $0.selection { return !$0.chunk.gzip.isEmpty }
            return false
        }
    }

    /// Appends the uncompressed NDJSON body of the request to `out`.
    func appendBody(to out: inout [UInt8]) {
        for part in parts {
            let items = part.chunk.items
            switch part.selection {
            case .all:
                out.append(contentsOf: items.body)
            case .range(let r):
                out.append(contentsOf: items.body[Int(items.offsets[r.lowerBound])..<Int(items.offsets[r.upperBound])])
            case .list(let l):
                for i in l { out.append(contentsOf: items.body[items.range(of: Int(i))]) }
            }
        }
    }
}

/// Whole-buffer gzip with libdeflate, for `_bulk` bodies (a compressor kept per thread).
enum BulkGzip {
    /// `input` as one gzip member, in an array of exactly its size.
    static func member(_ input: [UInt8], level: Int) -> [UInt8] {
        let bound = CZlib_gzipBound(input.count)
        let scratch = [UInt8](unsafeUninitializedCapacity: bound) { buffer, count in
            count = input.withUnsafeBytes { CZlib_gzipWholeCached($0.baseAddress, $0.count, buffer.baseAddress, bound, Int32(level)) }
        }
        precondition(!scratch.isEmpty || input.isEmpty, "libdeflate could not compress a bulk body")
        // A copy of exactly the compressed size: the bound is about the input's size.
        return Array(scratch[...])
    }

    /// Appends `input` as one gzip member to `out`.
    static func append(_ input: [UInt8], level: Int, to out: inout [UInt8]) {
        let bound = CZlib_gzipBound(input.count)
        let start = out.count
        out.append(contentsOf: repeatElement(0, count: bound))
        let n = input.withUnsafeBytes { i in
            out.withUnsafeMutableBytes { o in
                CZlib_gzipWholeCached(i.baseAddress, i.count, o.baseAddress! + start, bound, Int32(level))
            }
        }
        precondition(n > 0 || input.isEmpty, "libdeflate could not compress a bulk body")
        out.removeLast(bound - n)
    }
}
