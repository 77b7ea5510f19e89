/// Sample quantiles as numpy computes them by default (`numpy.quantile(x, q)`, method `linear`,
/// Hyndman & Fan type 7): the value at virtual index `(n − 1)·q` of the sorted sample, linearly
/// interpolated between its two neighbours with numpy's own formula, so results agree to the bit.
public enum Quantiles {
    /// The `q` quantile (0…1) of `sorted` (ascending, not empty, no NaN).
    @inline(__always)
    public static func linear(sorted: UnsafeBufferPointer<Double>, _ q: Double) -> Double {
        let n = sorted.count
        precondition(n > 0, "the quantile of an empty sample")
        let h = Double(n - 1) * q
        if h >= Double(n - 1) { return sorted[n - 1] }
        if h <= 0 { return sorted[0] }
        let lo = Int(h.rounded(.down))
        let gamma = h - Double(lo)
        let a = sorted[lo]
        let b = sorted[lo + 1]
        // numpy's _lerp: a + (b − a)·t, or b − (b − a)·(1 − t) when t ≥ 0.5.
        let diff = b - a
        return gamma >= 0.5 ? b - diff * (1 - gamma) : a + diff * gamma
    }

    public static func linear(sorted: [Double], _ q: Double) -> Double {
        sorted.withUnsafeBufferPointer { linear(sorted: $0, q) }
    }

    /// The inner bin edges of `bins` equal-frequency bins: the quantiles at 1/bins … (bins−1)/bins,
    /// with duplicates merged so no bin has zero width (heavy ties give fewer bins).
    /// Same as `numpy.unique(numpy.quantile(x, numpy.arange(1, bins) / bins))`.
    public static func edges(sorted: UnsafeBufferPointer<Double>, bins: Int) -> [Double] {
        precondition(bins >= 1)
        var edges: [Double] = []
        edges.reserveCapacity(bins - 1)
        for k in 1..<Swift.max(bins, 1) {
            let e = linear(sorted: sorted, Double(k) / Double(bins))
            edges.append(e)
        }
        // Interpolation keeps the quantiles ordered, but sort anyway: merging needs it.
        edges.sort()
        var merged: [Double] = []
        merged.reserveCapacity(edges.count)
        for e in edges where merged.last != e { merged.append(e) }
        return merged
    }

    public static func edges(sorted: [Double], bins: Int) -> [Double] {
        sorted.withUnsafeBufferPointer { edges(sorted: $0, bins: bins) }
    }

    /// The bin of `x` among bins (-inf, e1], (e1, e2], …, (e_last, +inf): the number of edges
    /// strictly below `x` (`numpy.searchsorted(edges, x, side="left")`). Binary search.
    @inline(__always)
    public static func bin(of x: Double, edges: UnsafeBufferPointer<Double>) -> Int {
        var lo = 0
        var hi = edges.count
        while lo < hi {
            let mid = (lo + hi) >> 1
            if edges[mid] < x { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    public static func bin(of x: Double, edges: [Double]) -> Int {
        edges.withUnsafeBufferPointer { bin(of: x, edges: $0) }
    }
}
