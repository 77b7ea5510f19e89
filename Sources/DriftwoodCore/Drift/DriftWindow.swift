/// The binned counts of the last `capacity` values of one feature, scored against the
/// baseline's proportions as events arrive.
///
/// A ring buffer holds each value's bin; adding a value to a full window takes the oldest one
/// out. Counts change by one in two bins, so only those two bins' metric terms change (looked up
/// in a `DriftTerms` table shared by every window of the feature, or two logarithms), and the
/// score is the sum of the cached terms: O(1) work per event in the number of values, and the
/// score is always the plain sum of fresh terms (no drift of a running total). Nothing is
/// allocated after `init`, and the state sits in memory of its own, so an update is plain loads
/// and stores (no copy-on-write checks). A class: one filter updates it in place, from one
/// thread at a time.
public final class DriftWindow: @unchecked Sendable {
    /// Values the window holds once full.
    public let capacity: Int
    public let metric: DriftMetric
    /// The baseline's proportion per bin.
    let expected: [Double]
    /// Number of bins.
    public let binCount: Int
    let ring: UnsafeMutablePointer<UInt16>
    var head = 0
    /// Values held (equals `capacity` once full).
    public private(set) var count = 0
    let counts: UnsafeMutablePointer<Int32>
    /// Each bin's metric term, valid once the window is full.
    let terms: UnsafeMutablePointer<Double>
    /// Every bin's term for every count (`DriftTerms.values`, shared, kept alive by `tableOwner`);
    /// nil when the terms are computed on the fly.
    let table: UnsafePointer<Double>?
    let tableOwner: DriftTerms?

    /// - Parameters:
    ///   - expected: the baseline's proportion per bin (at most 65,536 bins).
    ///   - capacity: values in a full window (at least 1).
    ///   - table: the feature's terms by count (`DriftTerms(expected:capacity:metric:)`), shared
    ///     by its windows; computed on the fly without one.
    public init(expected: [Double], capacity: Int, metric: DriftMetric, table: DriftTerms? = nil) {
        precondition(capacity >= 1 && !expected.isEmpty && expected.count <= 65_536)
        precondition(table.map { $0.bins == expected.count && $0.capacity == capacity } ?? true)
        self.capacity = capacity
        self.metric = metric
        self.expected = expected
        binCount = expected.count
        tableOwner = table
        self.table = table.map { UnsafePointer($0.values.baseAddress!) }
        ring = .allocate(capacity: capacity)
        ring.initialize(repeating: 0, count: capacity)
        counts = .allocate(capacity: expected.count)
        counts.initialize(repeating: 0, count: expected.count)
        terms = .allocate(capacity: expected.count)
        terms.initialize(repeating: 0, count: expected.count)
    }

    deinit {
        ring.deallocate()
        counts.deallocate()
        terms.deallocate()
    }

    /// True once `capacity` values have been added.
    public var isFull: Bool { count == capacity }

    /// Adds a value that fell in `bin` (0 ..< binCount); the oldest value leaves a full window.
    /// Returns the score once the window is full (nil while it fills).
    @inline(__always)
    @discardableResult
    public func add(bin: Int) -> Double? {
        if count < capacity {
            ring[count] = UInt16(truncatingIfNeeded: bin)
            counts[bin] += 1
            count += 1
            guard count == capacity else { return nil }
            for i in 0..<binCount { terms[i] = term(i, count: Int(counts[i])) }
            return score
        }
        let h = head
        let old = Int(ring[h])
        ring[h] = UInt16(truncatingIfNeeded: bin)
        head = h + 1 == capacity ? 0 : h + 1
        if old != bin {
            counts[old] -= 1
            counts[bin] += 1
            terms[old] = term(old, count: Int(counts[old]))
            terms[bin] = term(bin, count: Int(counts[bin]))
        }
        return score
    }

    @inline(__always)
    func term(_ i: Int, count c: Int) -> Double {
        if let table { return table[i &* (capacity &+ 1) &+ c] }
        return metric.term(actual: Double(c) / Double(capacity), expected: expected[i])
    }

    /// The metric over the window; meaningful once `isFull`.
    @inline(__always)
    public var score: Double {
        var sum = 0.0
        for i in 0..<binCount { sum += terms[i] }
        return metric.score(termSum: sum)
    }

    /// The window's count per bin.
    public var binCounts: [Int] { (0..<binCount).map { Int(counts[$0]) } }
}

/// Every bin's metric term for every count 0…capacity of a full window, computed once per
/// feature and shared by its windows (every `group_by` value): a window update is then two
/// table lookups instead of two logarithms. The values are the ones `DriftMetric.term` gives.
public final class DriftTerms: @unchecked Sendable {  // immutable after init
    public let bins: Int
    public let capacity: Int
    /// Bin b's term at count c is `values[b * (capacity + 1) + c]`.
    let values: UnsafeMutableBufferPointer<Double>

    /// Tables larger than this many terms (8 bytes each) are not built: the logarithms are cheaper
    /// than the memory.
    public static let maxTerms = 1 << 17

    /// nil when the table would exceed `maxTerms`.
    public init?(expected: [Double], capacity: Int, metric: DriftMetric) {
        guard expected.count * (capacity + 1) <= Self.maxTerms else { return nil }
        bins = expected.count
        self.capacity = capacity
        let values = UnsafeMutableBufferPointer<Double>.allocate(capacity: expected.count * (capacity + 1))
        for b in 0..<expected.count {
            for c in 0...capacity {
                (values.baseAddress! + b * (capacity + 1) + c).initialize(
                    to: metric.term(actual: Double(c) / Double(capacity), expected: expected[b]))
            }
        }
        self.values = values
    }

    deinit { values.deallocate() }

}

extension DriftWindow {
    /// The window's values (their bins, in ring order) and position, for a state file.
    public func save(to w: inout StateWriter) {
        w.append(count)
        w.append(head)
        w.append(uint16s: UnsafeBufferPointer(start: ring, count: capacity))
    }

    /// Replaces the window with a saved one of the same capacity and bins; counts and terms are
    /// recomputed from the values, so the scores are the ones the saved window gave.
    public func restore(from r: inout StateReader) throws {
        let n = try r.int(in: 0...capacity)
        let h = try r.int(in: 0...(capacity - 1))
        try r.uint16s(into: UnsafeMutableBufferPointer(start: ring, count: capacity))
        for i in 0..<binCount { counts[i] = 0 }
        for i in 0..<n {
            let b = Int(ring[i])
            guard b < binCount else { throw StateError("bin \(b) out of range (\(binCount) bins)") }
            counts[b] += 1
        }
        count = n
        head = n < capacity ? 0 : h
        if n == capacity { for i in 0..<binCount { terms[i] = term(i, count: Int(counts[i])) } }
    }

    /// The share of the window's values in each bin (the window's histogram).
    public var proportions: [Double] {
        (0..<binCount).map { count == 0 ? 0 : Double(counts[$0]) / Double(count) }
    }
}
