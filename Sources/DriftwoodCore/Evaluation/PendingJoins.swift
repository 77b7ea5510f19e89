import CMemory

/// The join of `evaluate`: predictions waiting for their label, labels that came first waiting
/// for their prediction, and the ids already matched (so a second label is known as one).
///
/// Entries are fixed-size: an id is kept as its 128-bit hash (two independent 64-bit hashes of
/// its bytes; two different ids meet with probability about n²/2¹²⁹, ~10⁻²⁷ for a million), so a
/// million pending predictions cost ~64 MB (and 16–32 MB of index) whatever the ids look like.
/// Entries sit in a slab with two lists in arrival order (pending, matched), so the oldest is
/// dropped first in O(1), and an open-addressing index (linear probing, backward-shift
/// deletion) finds an id in O(1).
/// Time is event time (`@timestamp`, milliseconds): an entry expires once the newest time seen
/// is more than `ttl` past its own.
public struct PendingJoins: Sendable {
    /// What a pending entry is.
    public enum Kind: UInt8, Sendable {
        case prediction = 1
        case label = 2
        /// The id was matched; remembered to count a second label.
        case matched = 3
    }

    /// One entry. `value`, `score`, `flags` and `attribute` belong to the caller (the
    /// prediction's class or number and score, or the label's value).
    public struct Entry: Sendable, Equatable {
        public var idLow: UInt64
        public var idHigh: UInt64
        public var time: Int64
        public var value: Double
        public var score: Double
        public var group: Int32
        public var attribute: Int32
        public var kind: Kind
        public var flags: UInt8

        public init(
            idLow: UInt64, idHigh: UInt64, time: Int64, value: Double = 0, score: Double = 0, group: Int32 = 0,
            attribute: Int32 = -1, kind: Kind, flags: UInt8 = 0
        ) {
            self.idLow = idLow
            self.idHigh = idHigh
            self.time = time
            self.value = value
            self.score = score
            self.group = group
            self.attribute = attribute
            self.kind = kind
            self.flags = flags
        }
    }

    struct Node: Sendable {
        var entry: Entry
        var prev: Int32
        var next: Int32
    }

    /// Why an entry left without a match.
    public enum Loss: Sendable, Equatable {
        /// Older than `ttl` (event time).
        case expired(Entry)
        /// Dropped, oldest first, to stay within `max`.
        case evicted(Entry)
    }

    public let max: Int
    public let ttlMilliseconds: Int64
    var nodes: [Node] = []
    var free: [Int32] = []
    /// Head and tail of the pending list and of the matched list (-1: empty).
    var pendingHead: Int32 = -1
    var pendingTail: Int32 = -1
    var matchedHead: Int32 = -1
    var matchedTail: Int32 = -1
    public private(set) var pendingCount = 0
    public private(set) var matchedCount = 0
    /// Index slots, keyed by `idLow`: the node index + 1 in the low 32 bits (0: empty), the low
    /// 32 bits of the entry's `idLow` in the high ones. A probe compares those before it reads
    /// the node (a cache miss in a table of a million), and an entry's home slot is known from
    /// the slot alone.
    var slots: [UInt64]
    var used = 0
    /// The newest event time seen.
    public private(set) var now: Int64 = .min

    public init(max: Int, ttlMilliseconds: Int64) {
        precondition(max >= 1)
        self.max = max
        self.ttlMilliseconds = ttlMilliseconds
        slots = [UInt64](repeating: 0, count: 64)
    }

    /// Pending predictions and labels.
    public var count: Int { pendingCount }

    /// Every entry held: pending ones and matched ids (what a saved state holds).
    public var entryCount: Int { pendingCount + matchedCount }

    /// Moves event time forward to `time` (never back), and removes what that expires.
    public mutating func advance(to time: Int64, lost: inout [Loss]) {
        if time > now { now = time }
        expire(&lost)
    }

    func isExpired(_ e: Entry) -> Bool { now != .min && now &- e.time > ttlMilliseconds }

    mutating func expire(_ lost: inout [Loss]) {
        while pendingHead >= 0, isExpired(nodes[Int(pendingHead)].entry) {
            let n = pendingHead
            lost.append(.expired(nodes[Int(n)].entry))
            remove(n)
        }
        while matchedHead >= 0, isExpired(nodes[Int(matchedHead)].entry) { remove(matchedHead) }
    }

    /// The entry of this id, if any (an expired one is removed and reported instead).
    public mutating func find(idLow: UInt64, idHigh: UInt64, lost: inout [Loss]) -> Entry? {
        guard let n = lookup(idLow, idHigh) else { return nil }
        let e = nodes[Int(n)].entry
        if isExpired(e) {
            if e.kind != .matched { lost.append(.expired(e)) }
            remove(n)
            return nil
        }
        return e
    }

    /// Adds a pending prediction or label (its id is not in the store); the oldest pending entry
    /// is evicted when `max` are held.
    public mutating func addPending(_ entry: Entry, lost: inout [Loss]) {
        if pendingCount >= max, pendingHead >= 0 {
            lost.append(.evicted(nodes[Int(pendingHead)].entry))
            remove(pendingHead)
        }
        let n = allocate(entry)
        link(n, matched: false)
        pendingCount += 1
        index(n)
    }

    /// The pending entry of this id was matched: it becomes a `matched` marker (kept for `ttl`,
    /// and at most `max` of them, oldest dropped first) at the matching event's time.
    public mutating func markMatched(idLow: UInt64, idHigh: UInt64, time: Int64) {
        if let n = lookup(idLow, idHigh) { remove(n) }
        if matchedCount >= max, matchedHead >= 0 { remove(matchedHead) }
        let n = allocate(Entry(idLow: idLow, idHigh: idHigh, time: time, kind: .matched))
        link(n, matched: true)
        matchedCount += 1
        index(n)
    }

    /// Every entry, pending ones then matched ones, each list oldest first.
    public var entries: [Entry] {
        var out: [Entry] = []
        out.reserveCapacity(entryCount)
        forEachEntry { out.append($0) }
        return out
    }

    /// Calls `body` with every entry in the order of `entries`, without making the list.
    @inline(__always)
    func forEachEntry(_ body: (Entry) -> Void) {
        nodes.withUnsafeBufferPointer { nodes in
            for head in [pendingHead, matchedHead] {
                var n = head
                while n >= 0 {
                    body(nodes[Int(n)].entry)
                    n = nodes[Int(n)].next
                }
            }
        }
    }

    /// Puts back what `entries` gave (a restart); `now` as it was.
    public mutating func restore(_ saved: [Entry], now: Int64) {
        self.now = now
        var lost: [Loss] = []
        for e in saved {
            if e.kind == .matched {
                markMatched(idLow: e.idLow, idHigh: e.idHigh, time: e.time)
            } else {
                addPending(e, lost: &lost)
            }
        }
    }

    // MARK: Slab and lists

    mutating func allocate(_ entry: Entry) -> Int32 {
        if let n = free.popLast() {
            nodes[Int(n)] = Node(entry: entry, prev: -1, next: -1)
            return n
        }
        nodes.append(Node(entry: entry, prev: -1, next: -1))
        return Int32(nodes.count - 1)
    }

    /// Appends node `n` to the pending or the matched list.
    mutating func link(_ n: Int32, matched: Bool) {
        let tail = matched ? matchedTail : pendingTail
        nodes[Int(n)].prev = tail
        nodes[Int(n)].next = -1
        if tail >= 0 {
            nodes[Int(tail)].next = n
        } else if matched {
            matchedHead = n
        } else {
            pendingHead = n
        }
        if matched { matchedTail = n } else { pendingTail = n }
    }

    /// Unlinks node `n` from its list, drops it from the index and frees it.
    mutating func remove(_ n: Int32) {
        let node = nodes[Int(n)]
        let matched = node.entry.kind == .matched
        if node.prev >= 0 {
            nodes[Int(node.prev)].next = node.next
        } else if matched {
            matchedHead = node.next
        } else {
            pendingHead = node.next
        }
        if node.next >= 0 {
            nodes[Int(node.next)].prev = node.prev
        } else if matched {
            matchedTail = node.prev
        } else {
            pendingTail = node.prev
        }
        if matched { matchedCount -= 1 } else { pendingCount -= 1 }
        unindex(n)
        free.append(n)
    }

    // MARK: Index

    @inline(__always)
    func home(_ idLow: UInt64) -> Int { Int(truncatingIfNeeded: idLow) & (slots.count - 1) }

    @inline(__always)
    static func slot(_ n: Int32, _ idLow: UInt64) -> UInt64 { (idLow << 32) | UInt64(UInt32(n + 1)) }

    @inline(__always)
    static func node(_ slot: UInt64) -> Int32 { Int32(truncatingIfNeeded: slot & 0xffff_ffff) - 1 }

    /// The home of the entry in `slot`, from the id bits the slot holds (`home` of its `idLow`).
    @inline(__always)
    static func home(ofSlot slot: UInt64, _ mask: Int) -> Int { Int(truncatingIfNeeded: slot >> 32) & mask }

    /// Starts loading the index slots where the ids' lookups begin (a hint). A lookup in a table
    /// of a million entries is a cache miss: issued for the next events while the current ones
    /// are joined, the misses overlap instead of each waiting for memory in turn.
    /// `idLow(k)` for k in 0..<count gives the ids (nil: none); one call per chunk of events.
    @inline(__always)
    public func prefetch(_ count: Int, idLow: (Int) -> UInt64?) {
        slots.withUnsafeBufferPointer { slots in
            for k in 0..<count {
                if let id = idLow(k) { CMemory_prefetch(slots.baseAddress! + home(id)) }
            }
        }
    }

    /// Starts loading the index slots of the pending entries evicted next once the store is
    /// full (oldest first), from the `skip`-th on: each eviction's index update is another miss.
    public func prefetchVictims(skip: Int, count: Int) {
        guard pendingCount >= max else { return }
        nodes.withUnsafeBufferPointer { nodes in
            slots.withUnsafeBufferPointer { slots in
                var n = pendingHead
                var k = 0
                while n >= 0 && k < skip + count {
                    if k >= skip { CMemory_prefetch(slots.baseAddress! + home(nodes[Int(n)].entry.idLow)) }
                    n = nodes[Int(n)].next
                    k += 1
                }
            }
        }
    }

    func lookup(_ idLow: UInt64, _ idHigh: UInt64) -> Int32? {
        let mask = slots.count - 1
        var i = home(idLow)
        let key = idLow << 32
        return slots.withUnsafeBufferPointer { slots in
            while true {
                let s = slots[i]
                if s == 0 { return nil }
                if s & 0xffff_ffff_0000_0000 == key {
                    let e = nodes[Int(Self.node(s))].entry
                    if e.idLow == idLow && e.idHigh == idHigh { return Self.node(s) }
                }
                i = (i + 1) & mask
            }
        }
    }

    mutating func index(_ n: Int32) {
        if (used + 1) * 2 > slots.count { grow() }
        place(n)
        used += 1
    }

    mutating func place(_ n: Int32) {
        let mask = slots.count - 1
        let idLow = nodes[Int(n)].entry.idLow
        var i = home(idLow)
        while slots[i] != 0 { i = (i + 1) & mask }
        slots[i] = Self.slot(n, idLow)
    }

    mutating func grow() {
        let old = slots
        slots = [UInt64](repeating: 0, count: old.count * 2)
        let mask = slots.count - 1
        for s in old where s != 0 {
            var i = Self.home(ofSlot: s, mask)
            while slots[i] != 0 { i = (i + 1) & mask }
            slots[i] = s
        }
    }

    /// Removes node `n` from the index, shifting back the entries after it (no tombstones).
    mutating func unindex(_ n: Int32) {
        let mask = slots.count - 1
        let idLow = nodes[Int(n)].entry.idLow
        let target = Self.slot(n, idLow)
        var i = home(idLow)
        while slots[i] != target { i = (i + 1) & mask }
        var hole = i
        var j = i
        while true {
            j = (j + 1) & mask
            let s = slots[j]
            if s == 0 { break }
            let h = Self.home(ofSlot: s, mask)
            // The entry at j may move to the hole when its home is not in (hole, j].
            let between = hole <= j ? (h > hole && h <= j) : (h > hole || h <= j)
            if !between {
                slots[hole] = s
                hole = j
            }
        }
        slots[hole] = 0
        used -= 1
    }
}
