import Testing

@testable import DriftwoodCore

@Suite struct PendingJoinsTests {
    static func entry(_ id: UInt64, _ time: Int64, _ kind: PendingJoins.Kind = .prediction) -> PendingJoins.Entry {
        PendingJoins.Entry(idLow: id &* 0x9E37_79B9_7F4A_7C15, idHigh: id, time: time, value: Double(id), kind: kind)
    }

    func find(_ j: inout PendingJoins, _ id: UInt64, _ lost: inout [PendingJoins.Loss]) -> PendingJoins.Entry? {
        j.find(idLow: id &* 0x9E37_79B9_7F4A_7C15, idHigh: id, lost: &lost)
    }

    @Test func evictsTheOldestFirstAtMax() {
        var j = PendingJoins(max: 3, ttlMilliseconds: 1_000_000)
        var lost: [PendingJoins.Loss] = []
        for id in 1...5 { j.addPending(Self.entry(UInt64(id), Int64(id)), lost: &lost) }
        #expect(lost == [.evicted(Self.entry(1, 1)), .evicted(Self.entry(2, 2))])
        #expect(j.count == 3)
        lost = []
        #expect(find(&j, 1, &lost) == nil && find(&j, 3, &lost) == Self.entry(3, 3))
        // Matching 4 takes it out of the pending list: the next eviction is 3, then 5.
        j.markMatched(idLow: Self.entry(4, 0).idLow, idHigh: 4, time: 6)
        j.addPending(Self.entry(6, 6), lost: &lost)
        j.addPending(Self.entry(7, 7), lost: &lost)
        #expect(lost == [.evicted(Self.entry(3, 3))])
        #expect(find(&j, 4, &lost)?.kind == .matched)
        #expect(j.entries.map(\.idHigh) == [5, 6, 7, 4])
    }

    @Test func expiresByEventTimeNotByArrival() {
        var j = PendingJoins(max: 100, ttlMilliseconds: 1_000)
        var lost: [PendingJoins.Loss] = []
        j.addPending(Self.entry(1, 0), lost: &lost)
        j.addPending(Self.entry(2, 500), lost: &lost)
        j.advance(to: 1_000, lost: &lost)  // exactly ttl: not yet
        #expect(lost.isEmpty && j.count == 2)
        j.advance(to: 1_001, lost: &lost)
        #expect(lost == [.expired(Self.entry(1, 0))])
        // Time never goes back: an older event does not bring 1 back or keep 2 alive.
        j.advance(to: 10, lost: &lost)
        #expect(j.now == 1_001)
        // An entry filed late with an old time is expired when it is looked up.
        lost = []
        j.addPending(Self.entry(3, 0), lost: &lost)
        #expect(find(&j, 3, &lost) == nil && lost == [.expired(Self.entry(3, 0))])
        j.advance(to: 2_000, lost: &lost)
        #expect(j.count == 0)
    }

    @Test func theIndexSurvivesManyInsertsAndRemovals() {
        var j = PendingJoins(max: 10_000, ttlMilliseconds: .max / 4)
        var lost: [PendingJoins.Loss] = []
        for id in 0..<20_000 {
            j.addPending(Self.entry(UInt64(id), Int64(id)), lost: &lost)
            if id % 3 == 0 { j.markMatched(idLow: Self.entry(UInt64(id), 0).idLow, idHigh: UInt64(id), time: Int64(id)) }
        }
        #expect(j.count == 10_000)
        for id in 0..<20_000 {
            let e = find(&j, UInt64(id), &lost)
            if id % 3 == 0 {
                #expect(e?.kind == .matched || id < 10_000, "\(id)")
            } else if id >= 10_000 {
                #expect(e == Self.entry(UInt64(id), Int64(id)), "\(id)")
            }
        }
    }

    /// Ids whose low bits collide (the index keys on them and keeps their low 32 bits in its
    /// slots): random adds, matches and evictions against a plain model of what is held.
    @Test func theIndexKeepsIdsApartWhoseLowBitsCollide() {
        var j = PendingJoins(max: 3_000, ttlMilliseconds: .max / 4)
        var lost: [PendingJoins.Loss] = []
        var pending: [UInt64] = []  // idHigh in arrival order (the model of the pending list)
        var matched: [UInt64] = []  // matched ids, oldest first (at most `max` are kept)
        var rng = SystemRandomNumberGenerator()
        // idLow: 16 distinct values, shared by many ids; the same low 32 bits for half of them.
        func low(_ id: UInt64) -> UInt64 { (id % 16 < 8 ? 0 : (id % 16) << 40) | 0x1234 | ((id % 16 & 1) << 20) }
        var next: UInt64 = 0
        for _ in 0..<20_000 {
            if pending.isEmpty || Int.random(in: 0..<3, using: &rng) > 0 {
                let e = PendingJoins.Entry(idLow: low(next), idHigh: next, time: Int64(next), kind: .prediction)
                j.addPending(e, lost: &lost)
                pending.append(next)
                if pending.count > 3_000 { pending.removeFirst() }
                next += 1
            } else {
                let k = Int.random(in: 0..<pending.count, using: &rng)
                let id = pending.remove(at: k)
                #expect(j.find(idLow: low(id), idHigh: id, lost: &lost)?.idHigh == id)
                j.markMatched(idLow: low(id), idHigh: id, time: Int64(next))
                matched.append(id)
                if matched.count > 3_000 { matched.removeFirst() }
            }
        }
        #expect(j.count == pending.count)
        let held = Set(pending)
        let marked = Set(matched)
        for id in 0..<next {
            let e = j.find(idLow: low(id), idHigh: id, lost: &lost)
            if held.contains(id) {
                #expect(e?.kind == .prediction && e?.idHigh == id, "\(id)")
            } else if marked.contains(id) {
                #expect(e?.kind == .matched, "\(id)")
            } else {
                #expect(e == nil, "\(id)")
            }
        }
    }

    @Test func savesAndRestoresEveryEntryInOrder() throws {
        var j = PendingJoins(max: 5, ttlMilliseconds: 60_000)
        var lost: [PendingJoins.Loss] = []
        for id in 1...6 { j.addPending(Self.entry(UInt64(id), Int64(id) * 10, id % 2 == 0 ? .label : .prediction), lost: &lost) }
        j.markMatched(idLow: Self.entry(3, 0).idLow, idHigh: 3, time: 70)
        j.advance(to: 80, lost: &lost)
        var w = StateWriter()
        j.save(to: &w)
        var r = StateReader(w.bytes)
        var k = PendingJoins(max: 5, ttlMilliseconds: 60_000)
        try k.restore(from: &r, groups: 1)
        #expect(r.atEnd)
        #expect(k.entries == j.entries && k.now == 80 && k.count == j.count)
    }
}
