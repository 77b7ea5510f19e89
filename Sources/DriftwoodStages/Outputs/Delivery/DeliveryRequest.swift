import DriftwoodCore
import Synchronization

/// Encoded items, back to back: item `i` is `body[offsets[i]..<offsets[i+1]]` (a `_bulk` action
/// and source line, an NDJSON line, a JSON object for an array).
public struct DeliveryItems: Sendable {
    public var body: [UInt8] = []
    /// Where each item starts, plus the end of the last one.
    public var offsets: [UInt32] = []

    public init() {}

    public var count: Int { max(offsets.count - 1, 0) }

    /// The bytes of item `i`.
    public func range(of i: Int) -> Range<Int> { Int(offsets[i])..<Int(offsets[i + 1]) }

    /// Appends one item made by `write` (which appends to the body).
    public mutating func append(_ write: (inout [UInt8]) -> Void) {
        if offsets.isEmpty { offsets.append(0) }
        write(&body)
        offsets.append(UInt32(body.count))
    }
}

/// How a request's items make its body: back to back (NDJSON, `_bulk`: each item ends in its
/// newline), or between a prefix and a suffix with a separator (a JSON array).
public struct DeliveryFraming: Sendable, Equatable {
    public var prefix: [UInt8]
    public var separator: [UInt8]
    public var suffix: [UInt8]

    public static let concatenated = DeliveryFraming(prefix: [], separator: [], suffix: [])
    public static let jsonArray = DeliveryFraming(prefix: [UInt8(ascii: "[")], separator: [UInt8(ascii: ",")], suffix: [UInt8(ascii: "]")])

    /// Bodies of whole chunks are then their bodies back to back (and their gzip members too).
    public var isConcatenated: Bool { prefix.isEmpty && separator.isEmpty && suffix.isEmpty }
}

/// One pipeline batch as encoded items (made on a filter worker), shared by the requests that
/// carry its items. Once every item is accepted or dead-lettered, the batch's acknowledgement
/// is settled, exactly once.
final class DeliveryChunk: @unchecked Sendable {
    let items: DeliveryItems
    /// The whole body as one gzip member, compressed ahead on the filter worker; empty when the
    /// output does not compress. Requests made of whole chunks send these members back to back
    /// (a gzip stream may hold several members; servers read them all).
    let gzip: [UInt8]
    /// Set by `write` before the chunk is shared with the senders.
    var acknowledgement: Acknowledgement?
    /// Set by `write` with `acknowledgement`: resolved items count as delivered.
    var health: OutputHealth?
    private let unresolved: Atomic<Int>

    init(items: DeliveryItems, gzip: [UInt8]) {
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
        precondition(left >= 0, "items resolved twice")
        health?.delivered(n)
        if left == 0 { acknowledgement?.settle(1) }
    }
}

/// What `encode` hands to `write`: the chunk of a batch.
struct EncodedDelivery: EncodedPayload {
    let chunk: DeliveryChunk
    var byteCount: Int { chunk.items.body.capacity + chunk.gzip.count + chunk.items.offsets.count * 4 + 64 }
}

/// Items of one or more chunks sent as one `_bulk` request, and how often they have been tried.
struct DeliveryRequest {
    enum Selection {
        case all
        case range(Range<Int>)
        case list([Int32])
    }

    struct Part {
        let chunk: DeliveryChunk
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

    mutating func append(_ chunk: DeliveryChunk, _ selection: Selection = .all) {
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
    func forEachItem(_ body: (DeliveryChunk, Int) -> Void) {
        for part in parts { part.forEachItem { body(part.chunk, $0) } }
    }

    /// A request of the given items, consecutive items of a chunk grouped into one part.
    init(items: [(DeliveryChunk, Int)], attempts: Int) {
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
    func halves() -> (DeliveryRequest, DeliveryRequest) {
        var all: [(DeliveryChunk, Int)] = []
        all.reserveCapacity(itemCount)
        forEachItem { all.append(($0, $1)) }
        let middle = all.count / 2
        return (
            DeliveryRequest(items: Array(all[..<middle]), attempts: attempts),
            DeliveryRequest(items: Array(all[middle...]), attempts: attempts)
        )
    }

    /// True when every part is a whole chunk with its gzip member ready.
    var isWholeGzipChunks: Bool {
        parts.allSatisfy {
            if case .all = $0.selection { return !$0.chunk.gzip.isEmpty }
            return false
        }
    }

    /// Appends the uncompressed body of the request to `out`, its items joined by `framing`.
    func appendBody(to out: inout [UInt8], framing: DeliveryFraming = .concatenated) {
        guard !framing.isConcatenated else {
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
            return
        }
        out.append(contentsOf: framing.prefix)
        var first = true
        forEachItem { chunk, i in
            if !first { out.append(contentsOf: framing.separator) }
            first = false
            out.append(contentsOf: chunk.items.body[chunk.items.range(of: i)])
        }
        out.append(contentsOf: framing.suffix)
    }
}

