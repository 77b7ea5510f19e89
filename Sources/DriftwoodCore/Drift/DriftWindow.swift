/// The binned counts of the last `capacity` values of one feature, scored against the
/// baseline's proportions as events arrive.
///
/// A ring buffer holds each value's bin; adding a value to a full window takes the oldest one
/// out. Counts change by one in two bins, so only those two bins' metric terms change (looked up
/// in a `DriftTerms` table shared by every window of the feature, or two logarithms), and the
/// score is the sum of the cached terms: O(1) work per event in the number of values, and the
/// score is always the plain sum of fresh terms (no drift of a running total). Nothing is
/// allocated after `init`.
public struct DriftWindow: Sendable {
    /// Values the window holds once full.
    public let capacity: Int
    public let metric: DriftMetric
    /// The baseline's proportion per bin.
    let expected: [Double]
    var ring: [UInt16]
    var head = 0
    /// Values held (equals `capacity` once full).
    public private(set) var count = 0
    var counts: [Int32]
    /// Each bin's metric term, valid once the window is full.
    var terms: [Double]
    /// Every bin's term for every count (`DriftTerms.values`, shared, not copied); empty when
    /// the terms are computed on the fly.
    let table: [Double]

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
        self.table = table?.values ?? []
        ring = [UInt16](repeating: 0, count: capacity)
        counts = [Int32](repeating: 0, count: expected.count)
        terms = [Double](repeating: 0, count: expected.count)
    }

    /// Number of bins.
    public var binCount: Int { expected.count }

    /// True once `capacity` values have been added.
    public var isFull: Bool { count == capacity }

    /// Adds a value that fell in `bin` (0 ..< binCount); the oldest value leaves a full window.
    /// Returns the score once the window is full (nil while it fills).
    @inline(__always)
    @discardableResult
    public mutating func add(bin: Int) -> Double? {
        if count < capacity {
            ring[count] = UInt16(truncatingIfNeeded: bin)
            counts[bin] += 1
            count += 1
            guard count == capacity else { return nil }
            for i in terms.indices { terms[i] = term(i, count: Int(counts[i])) }
            return score
        }
        let h = head
        let old = ring.withUnsafeMutableBufferPointer { r -> Int in
            let old = Int(r[h])
            r[h] = UInt16(truncatingIfNeeded: bin)
            return old
        }
        head = h + 1 == capacity ? 0 : h + 1
        if old != bin {
            let (oldCount, binCount) = counts.withUnsafeMutableBufferPointer { c -> (Int, Int) in
                c[old] -= 1
                c[bin] += 1
                return (Int(c[old]), Int(c[bin]))
            }
            let oldTerm = term(old, count: oldCount)
            let binTerm = term(bin, count: binCount)
            terms.withUnsafeMutableBufferPointer { t in
                t[old] = oldTerm
                t[bin] = binTerm
            }
        }
        return score
    }

    @inline(__always)
    func term(_ i: Int, count c: Int) -> Double {
        if !table.isEmpty { return table.withUnsafeBufferPointer { $0[i * (capacity + 1) + c] } }
        return metric.term(actual: Double(c) / Double(capacity), expected: expected[i])
    }

    /// The metric over the window; meaningful once `isFull`.
    @inline(__always)
    public var score: Double {
        var sum = 0.0
        terms.withUnsafeBufferPointer { t in
            for i in t.indices { sum += t[i] }
        }
        return metric.score(termSum: sum)
    }

    /// The window's count per bin.
    public var binCounts: [Int] { counts.map(Int.init) }
}

/// Every bin's metric term for every count 0…capacity of a full window, computed once per
/// feature and shared by its windows (every `group_by` value): a window update is then two
/// table lookups instead of two logarithms. The values are the ones `DriftMetric.term` gives.
public final class DriftTerms: Sendable {
    public let bins: Int
    public let capacity: Int
    let values: [Double]

    /// Tables larger than this many terms (8 bytes each) are not built: the logarithms are cheaper
    /// than the memory.
    public static let maxTerms = 1 << 17

    /// nil when the table would exceed `maxTerms`.
    public init?(expected: [Double], capacity: Int, metric: DriftMetric) {
        guard expected.count * (capacity + 1) <= Self.maxTerms else { return nil }
        bins = expected.count
        self.capacity = capacity
        var values = [Double](repeating: 0, count: expected.count * (capacity + 1))
        for b in 0..<expected.count {
            for c in 0...capacity {
                values[b * (capacity + 1) + c] = metric.term(
                    actual: Double(c) / Double(capacity), expected: expected[b])
            }
        }
        self.values = values
    }

}
