import TestSupport
import Foundation
import Testing

@testable import DriftwoodCore

/// PSI, KL and JS of a sliding window, event by event, against numpy/scipy recomputing every
/// window from scratch on the same bins.
@Suite struct DriftWindowTests {
    /// The numpy side: every full window's score, from the bins of all values.
    static let reference = """
        def score(metric, counts, W, e):
            a = np.maximum(counts / W, 1e-4)
            e = np.maximum(e, 1e-4)
            if metric == "psi":
                return float(np.sum((a - e) * np.log(a / e)))
            if metric == "kl":
                return float(np.sum(scipy.special.rel_entr(a, e)))
            m = (a + e) / 2
            return float(np.sqrt(0.5 * np.sum(scipy.special.rel_entr(a, m)) + 0.5 * np.sum(scipy.special.rel_entr(e, m))))
        def windows(metric, bins, W, e):
            out = []
            counts = np.zeros(len(e))
            for i, b in enumerate(bins):
                counts[b] += 1
                if i >= W:
                    counts[bins[i - W]] -= 1
                if i >= W - 1:
                    # recomputed from scratch, not from the running counts
                    fresh = np.bincount(bins[i - W + 1:i + 1], minlength=len(e)).astype(float)
                    assert (fresh == counts).all()
                    out.append(score(metric, fresh, W, e))
            return out

        """

    @Test(arguments: DriftMetric.allCases)
    func everyWindowMatchesNumpy(metric: DriftMetric) throws {
        var r = SeededRandom(seed: 2024)
        let reference = (0..<4_000).map { _ in r.normal() }
        let edges = Quantiles.edges(sorted: reference.sorted(), bins: 10)
        var expected = [Double](repeating: 0, count: edges.count + 1)
        for x in reference { expected[Quantiles.bin(of: x, edges: edges)] += 1 / Double(reference.count) }
        // In distribution, then drifting away (some bins empty: clipping matters), then back.
        var stream = (0..<1_500).map { _ in r.normal() }
        stream += (0..<1_500).map { i in r.normal() * 0.5 + Double(i) / 300 }
        stream += (0..<1_000).map { _ in r.normal() }
        let bins = stream.map { Quantiles.bin(of: $0, edges: edges) }
        let W = 250
        var window = DriftWindow(expected: expected, capacity: W, metric: metric)
        var scores: [Double] = []
        for b in bins {
            window.add(bin: b)
            if window.isFull { scores.append(window.score) }
        }
        let dir = try NumPy.directory()
        try NumPy.write(bins.map(Double.init), to: "bins.txt", in: dir)
        try NumPy.write(expected, to: "expected.txt", in: dir)
        let out = try NumPy.run(
            Self.reference + """
                bins = np.loadtxt("bins.txt").astype(int); e = np.loadtxt("expected.txt")
                print("\\n".join(repr(s) for s in windows("\(metric.rawValue)", bins, \(W), e)))
                """, in: dir)
        let numpy = NumPy.doubles(out)
        #expect(numpy.count == stream.count - W + 1)
        #expect(scores.count == numpy.count)
        let worst = zip(scores, numpy).map { abs($0 - $1) }.max() ?? .infinity
        #expect(worst <= 1e-9, "largest difference from numpy: \(worst)")
        // The stream really drifted: the check is not vacuous.
        #expect(numpy.max()! > 4 * metric.defaultThreshold)
        #expect(numpy.first! < metric.defaultThreshold)
    }

    @Test func scoreOfWholeDistributionsMatchesScipy() throws {
        let a = [0.5, 0.3, 0.2, 0, 0]
        let e = [0.2, 0.2, 0.2, 0.2, 0.2]
        let dir = try NumPy.directory()
        let out = try NumPy.run(
            """
            a = np.maximum(np.array(\(a)), 1e-4); e = np.maximum(np.array(\(e)), 1e-4); m = (a + e) / 2
            print(repr(float(np.sum((a - e) * np.log(a / e)))))
            print(repr(float(np.sum(scipy.special.rel_entr(a, e)))))
            print(repr(float(np.sqrt(0.5 * np.sum(scipy.special.rel_entr(a, m)) + 0.5 * np.sum(scipy.special.rel_entr(e, m))))))
            """, in: dir)
        let numpy = NumPy.doubles(out)
        #expect(numpy.count == 3)
        for (k, metric) in [DriftMetric.psi, .kl, .js].enumerated() {
            #expect(abs(metric.score(actual: a, expected: e) - numpy[k]) <= 1e-12, "\(metric)")
        }
        // Identical distributions score 0 with every metric.
        for metric in DriftMetric.allCases { #expect(metric.score(actual: e, expected: e) == 0) }
    }

    @Test func windowCountsSlide() {
        var w = DriftWindow(expected: [0.5, 0.5], capacity: 3, metric: .psi)
        for b in [0, 0, 1] { w.add(bin: b) }
        #expect(w.isFull && w.binCounts == [2, 1])
        w.add(bin: 1)  // the first 0 leaves
        #expect(w.binCounts == [1, 2])
        w.add(bin: 1)
        w.add(bin: 1)
        #expect(w.binCounts == [0, 3])
        // a = [1e-4, 1], e = [0.5, 0.5]
        let psi = (1e-4 - 0.5) * log(1e-4 / 0.5) + (1 - 0.5) * log(1 / 0.5)
        #expect(abs(w.score - psi) < 1e-15)
    }
}
