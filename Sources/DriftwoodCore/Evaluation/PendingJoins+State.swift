/// The join as saved in a state file: the newest time seen, then every entry (pending ones,
/// then matched ids, each list oldest first) as 50 bytes, written in one pass straight into the
/// state's bytes (a million pending predictions are 50 MB).
extension PendingJoins {
    public static let entryBytes = 50

    public func save(to w: inout StateWriter) {
        w.append(now == .min ? UInt64.max : UInt64(bitPattern: now))
        w.append(entryCount)
        // Straight from the lists into the state's bytes: no list of entries, no second copy.
        w.append(rawCount: entryCount * Self.entryBytes) { b in
            var o = 0
            forEachEntry { e in
                b.storeBytes(of: e.idLow.littleEndian, toByteOffset: o, as: UInt64.self)
                b.storeBytes(of: e.idHigh.littleEndian, toByteOffset: o + 8, as: UInt64.self)
                b.storeBytes(of: e.time.littleEndian, toByteOffset: o + 16, as: Int64.self)
                b.storeBytes(of: e.value.bitPattern.littleEndian, toByteOffset: o + 24, as: UInt64.self)
                b.storeBytes(of: e.score.bitPattern.littleEndian, toByteOffset: o + 32, as: UInt64.self)
                b.storeBytes(of: e.group.littleEndian, toByteOffset: o + 40, as: Int32.self)
                b.storeBytes(of: e.attribute.littleEndian, toByteOffset: o + 44, as: Int32.self)
                b[o + 48] = e.kind.rawValue
                b[o + 49] = e.flags
                o += Self.entryBytes
            }
        }
    }

    /// Reads what `save` wrote; `groups` bounds the entries' group ids.
    public mutating func restore(from r: inout StateReader, groups: Int) throws {
        let savedNow = try r.uint64()
        let n = try r.int(in: 0...(2 * max))
        let raw = try r.raw(n * Self.entryBytes)
        var saved: [Entry] = []
        saved.reserveCapacity(n)
        try raw.withUnsafeBytes { b in
            var o = 0
            for _ in 0..<n {
                guard let kind = Kind(rawValue: b[o + 48]) else { throw StateError("an entry of unknown kind") }
                let e = Entry(
                    idLow: UInt64(littleEndian: b.loadUnaligned(fromByteOffset: o, as: UInt64.self)),
                    idHigh: UInt64(littleEndian: b.loadUnaligned(fromByteOffset: o + 8, as: UInt64.self)),
                    time: Int64(littleEndian: b.loadUnaligned(fromByteOffset: o + 16, as: Int64.self)),
                    value: Double(bitPattern: UInt64(littleEndian: b.loadUnaligned(fromByteOffset: o + 24, as: UInt64.self))),
                    score: Double(bitPattern: UInt64(littleEndian: b.loadUnaligned(fromByteOffset: o + 32, as: UInt64.self))),
                    group: Int32(littleEndian: b.loadUnaligned(fromByteOffset: o + 40, as: Int32.self)),
                    attribute: Int32(littleEndian: b.loadUnaligned(fromByteOffset: o + 44, as: Int32.self)),
                    kind: kind, flags: b[o + 49])
                guard kind != .prediction || (0..<Int32(groups)).contains(e.group) else {
                    throw StateError("an entry of group \(e.group), of \(groups)")
                }
                saved.append(e)
                o += Self.entryBytes
            }
        }
        self = PendingJoins(max: max, ttlMilliseconds: ttlMilliseconds)
        restore(saved, now: savedNow == UInt64.max ? .min : Int64(bitPattern: savedNow))
    }
}

extension PairWindow {
    /// The window as saved: its pairs in ring order and where the ring starts, and the
    /// regression sums as they are (their bits match an uninterrupted run). Counts are rebuilt.
    public func save(to w: inout StateWriter) {
        w.append(ring.count)
        w.append(head)
        for p in ring {
            w.append(p.truth)
            w.append(p.predicted)
            w.append(p.score)
            w.append(p.lag)
            w.append(Int(p.attribute))
        }
        for s in [absSum, squareSum, percentSum] {
            w.append(s.sum)
            w.append(s.compensation)
        }
        w.append(sinceResum)
    }

    /// Reads what `save` wrote; `classes` and `values` bound the class and attribute ids.
    public mutating func restore(from r: inout StateReader, classes: Int, values: Int) throws {
        var restored = PairWindow(task: task, capacity: capacity)
        let n = try r.int(in: 0...capacity)
        let head = try r.int(in: 0...Swift.max(0, capacity - 1))
        for _ in 0..<n {
            let p = Pair(
                truth: try r.double(), predicted: try r.double(), score: try r.double(), lag: try r.double(),
                attribute: Int32(try r.int(in: -1...Swift.max(-1, values - 1))))
            if task == .multiclass {
                guard p.truth >= 0, p.predicted >= 0, Int(p.truth) < classes, Int(p.predicted) < classes else {
                    throw StateError("a pair of an unknown class")
                }
            }
            restored.ring.append(p)
            restored.count(p, by: 1)
        }
        restored.head = n < capacity ? 0 : head
        var sums: [CompensatedSum] = []
        for _ in 0..<3 { sums.append(CompensatedSum(sum: try r.double(), compensation: try r.double())) }
        restored.absSum = sums[0]
        restored.squareSum = sums[1]
        restored.percentSum = sums[2]
        restored.sinceResum = try r.int(in: 0...capacity)
        self = restored
    }
}
