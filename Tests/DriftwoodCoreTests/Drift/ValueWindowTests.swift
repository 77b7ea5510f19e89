import TestSupport
import Foundation
import Testing

@testable import DriftwoodCore

/// The monitor's windows: mean, p95 and p99 of every window against numpy.
@Suite struct ValueWindowTests {
    @Test func everyWindowsMeanAndQuantilesMatchNumpy() throws {
        var r = SeededRandom(seed: 99)
        // Latencies with ties (rounded) and a slow episode.
        var values = (0..<3_000).map { _ in (abs(r.normal()) * 20 + 5).rounded() / 2 }
        for i in 1_000..<1_400 { values[i] *= 8 }
        let W = 200
        var window = ValueWindow(capacity: W, keepsSorted: true)
        var ours: [[Double]] = []
        for x in values {
            window.add(x)
            if window.isFull { ours.append([window.mean, window.quantile(0.95), window.quantile(0.99)]) }
        }
        let dir = try NumPy.directory()
        try NumPy.write(values, to: "values.txt", in: dir)
        let out = try NumPy.run(
            """
            x = np.loadtxt("values.txt")
            for i in range(\(W) - 1, len(x)):
                w = x[i - \(W) + 1:i + 1]
                print(repr(float(np.mean(w))), repr(float(np.quantile(w, 0.95))), repr(float(np.quantile(w, 0.99))))
            """, in: dir)
        let numpy = out.split(separator: "\n").map { $0.split(separator: " ").map { Double($0)! } }
        #expect(numpy.count == ours.count)
        var worstMean = 0.0
        for (a, b) in zip(ours, numpy) {
            worstMean = max(worstMean, abs(a[0] - b[0]) / max(1, abs(b[0])))
            // Quantiles: the same sorted values and formula, so equal to the bit.
            #expect(a[1] == b[1] && a[2] == b[2], "\(a) vs \(b)")
        }
        #expect(worstMean < 1e-12)
        #expect(numpy.map { $0[1] }.max()! > 4 * numpy[0][1])  // the slow episode shows
    }

    @Test func sortedCopyStaysSortedWhatever() {
        var r = SeededRandom(seed: 5)
        var w = ValueWindow(capacity: 17, keepsSorted: true)
        for _ in 0..<2_000 {
            w.add(Double(Int.random(in: 0..<9, using: &r)))
            #expect(w.sorted == w.values.sorted())
        }
    }

    @Test func flagWindowRate() {
        var w = FlagWindow(capacity: 4)
        for f in [true, false, false, false] { w.add(f) }
        #expect(w.isFull && w.rate == 0.25)
        w.add(false)  // the true leaves
        #expect(w.hits == 0)
        w.add(true)
        w.add(true)
        #expect(w.rate == 0.5)
    }
}
