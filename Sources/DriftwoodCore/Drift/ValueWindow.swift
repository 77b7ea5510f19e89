/// The last `capacity` values of a number (a latency), with their mean and exact quantiles.
///
/// A ring buffer keeps arrival order; the mean comes from a running sum that is recomputed
/// from the ring once per `capacity` additions, so rounding never accumulates. When quantiles
/// are asked for (`keepsSorted`), a sorted copy of the window is kept too: the value that leaves
/// is overwritten by the one that arrives and slid to its place, which moves only the values
/// between the two (at most `capacity`, usually far fewer). Quantiles are numpy's default
/// (`linear`) over exactly the values in the window.
public struct ValueWindow: Sendable {
    public let capacity: Int
    public let keepsSorted: Bool
    var ring: [Double]
    var head = 0
    public private(set) var count = 0
    var sum = 0.0
    var sinceResum = 0
    var sorted: [Double]

    public init(capacity: Int, keepsSorted: Bool) {
        precondition(capacity >= 1)
        self.capacity = capacity
        self.keepsSorted = keepsSorted
        ring = [Double](repeating: 0, count: capacity)
        sorted = []
        if keepsSorted { sorted.reserveCapacity(capacity) }
    }

    public var isFull: Bool { count == capacity }

    /// Adds a value (finite); the oldest leaves a full window.
    public mutating func add(_ x: Double) {
        if count < capacity {
            ring[count] = x
            count += 1
            sum += x
            if keepsSorted { sorted.insert(x, at: Self.upperBound(sorted, x)) }
            return
        }
        let old = ring[head]
        ring[head] = x
        head += 1
        if head == capacity { head = 0 }
        sum += x - old
        sinceResum += 1
        if sinceResum >= capacity {
            sinceResum = 0
            sum = 0
            for v in ring { sum += v }
        }
        if keepsSorted && x != old { replaceSorted(old, with: x) }
    }

    mutating func replaceSorted(_ old: Double, with x: Double) {
        sorted.withUnsafeMutableBufferPointer { s in
            let i = Self.lowerBound(UnsafeBufferPointer(s), old)
            if x > old {
                // Values in (old, x) move one place down; x goes after them.
                var j = i
                while j + 1 < s.count && s[j + 1] < x {
                    s[j] = s[j + 1]
                    j += 1
                }
                s[j] = x
            } else {
                var j = i
                while j > 0 && s[j - 1] > x {
                    s[j] = s[j - 1]
                    j -= 1
                }
                s[j] = x
            }
        }
    }

    /// The window as saved in a state file (the running sum too, so the mean is the same bits).
    public func save(to w: inout StateWriter) {
        w.append(count)
        w.append(head)
        w.append(sum)
        w.append(sinceResum)
        for v in ring { w.append(v) }
    }

    public mutating func restore(from r: inout StateReader) throws {
        count = try r.int(in: 0...capacity)
        head = try r.int(in: 0...(capacity - 1))
        if count < capacity { head = 0 }
        sum = try r.double()
        sinceResum = try r.int(in: 0...capacity)
        for i in 0..<capacity { ring[i] = try r.double() }
        if keepsSorted {
            sorted = Array(ring[0..<count]).sorted()
        }
    }

    /// The mean of the values held (0 when empty).
    public var mean: Double { count == 0 ? 0 : sum / Double(count) }

    /// The `q` quantile (0…1) of the values held; needs `keepsSorted` and at least one value.
    public func quantile(_ q: Double) -> Double {
        precondition(keepsSorted && count > 0)
        return Quantiles.linear(sorted: sorted, q)
    }

    /// The values held, oldest first.
    public var values: [Double] {
        count < capacity ? Array(ring[0..<count]) : Array(ring[head...] + ring[..<head])
    }

    static func lowerBound(_ s: UnsafeBufferPointer<Double>, _ x: Double) -> Int {
        var lo = 0
        var hi = s.count
        while lo < hi {
            let mid = (lo + hi) >> 1
            if s[mid] < x { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    static func upperBound(_ s: [Double], _ x: Double) -> Int {
        var lo = 0
        var hi = s.count
        while lo < hi {
            let mid = (lo + hi) >> 1
            if s[mid] <= x { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }
}

/// The last `capacity` yes/no outcomes (an event was an error), with the share of yes.
public struct FlagWindow: Sendable {
    public let capacity: Int
    var ring: [Bool]
    var head = 0
    public private(set) var count = 0
    /// Yes among the outcomes held.
    public private(set) var hits = 0

    public init(capacity: Int) {
        precondition(capacity >= 1)
        self.capacity = capacity
        ring = [Bool](repeating: false, count: capacity)
    }

    public var isFull: Bool { count == capacity }

    /// Adds an outcome; the oldest leaves a full window.
    @inline(__always)
    public mutating func add(_ flag: Bool) {
        if count < capacity {
            ring[count] = flag
            count += 1
        } else {
            if ring[head] { hits -= 1 }
            ring[head] = flag
            head += 1
            if head == capacity { head = 0 }
        }
        if flag { hits += 1 }
    }

    public func save(to w: inout StateWriter) {
        w.append(count)
        w.append(head)
        var packed = [UInt8](repeating: 0, count: capacity)
        for i in 0..<capacity where ring[i] { packed[i] = 1 }
        w.append(raw: packed)
    }

    public mutating func restore(from r: inout StateReader) throws {
        count = try r.int(in: 0...capacity)
        head = try r.int(in: 0...(capacity - 1))
        if count < capacity { head = 0 }
        let packed = try r.raw(capacity)
        hits = 0
        for (i, b) in packed.enumerated() {
            ring[i] = b != 0
            if ring[i] && i < count { hits += 1 }
        }
    }

    /// hits / count (0 when empty).
    public var rate: Double { count == 0 ? 0 : Double(hits) / Double(count) }
}
