import TestSupport
import Foundation
import Testing

@testable import DriftwoodCore

/// Baseline edges and binning against numpy on the same data.
@Suite struct QuantilesTests {
    /// Samples with different shapes: smooth, skewed, heavy ties, tiny.
    static func samples() -> [(name: String, values: [Double])] {
        var r = SeededRandom(seed: 42)
        let normal = (0..<10_000).map { _ in r.normal() * 3 + 10 }
        let lognormal = (0..<5_000).map { _ in exp(r.normal() * 1.2 + 4) }
        let ties = (0..<3_000).map { _ in Double([0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 2, 3].randomElement(using: &r)!) }
        let rounded = (0..<2_000).map { _ in (r.normal() * 50).rounded() / 4 }
        return [
            ("normal", normal), ("lognormal", lognormal), ("ties", ties), ("rounded", rounded),
            ("one", [7.25]), ("two", [1, 2]), ("seven", [5, -1, 3.5, 3.5, 9, 0.1, 2]),
        ]
    }

    @Test func edgesEqualNumpyQuantilesForEveryShapeAndBinCount() throws {
        let dir = try NumPy.directory()
        var expectedOrder: [(String, Int, [Double])] = []
        var script = "out = []\n"
        for (name, values) in Self.samples() {
            try NumPy.write(values, to: "\(name).txt", in: dir)
            for bins in [2, 4, 7, 10, 20] {
                let edges = Quantiles.edges(sorted: values.sorted(), bins: bins)
                expectedOrder.append((name, bins, edges))
                script += """
                    x = np.loadtxt("\(name).txt", ndmin=1)
                    e = np.unique(np.quantile(x, np.arange(1, \(bins)) / \(bins)))
                    out.append(" ".join(repr(float(v)) for v in e))

                    """
            }
        }
        script += "print('\\n'.join(out))\n"
        let lines = try NumPy.run(script, in: dir).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count >= expectedOrder.count)
        for (k, (name, bins, edges)) in expectedOrder.enumerated() {
            let numpy = lines[k].split(separator: " ").map { Double($0)! }
            // Bit for bit: the same interpolation formula on the same sorted values.
            #expect(edges == numpy, "\(name), \(bins) bins")
            #expect(zip(edges, edges.dropFirst()).allSatisfy { $0 < $1 }, "edges strictly increase: \(name)")
        }
        // Heavy ties merge edges: fewer bins, none of zero width.
        let ties = Self.samples().first { $0.name == "ties" }!.values.sorted()
        #expect(Quantiles.edges(sorted: ties, bins: 10) == [0, 1, 2])
    }

    @Test func binningEqualsNumpySearchsortedLeft() throws {
        let dir = try NumPy.directory()
        let edges = [-1.5, 0, 0.25, 3, 10]
        var r = SeededRandom(seed: 7)
        var values = (0..<2_000).map { _ in r.normal() * 4 }
        values += edges + edges.map { $0.nextUp } + edges.map { $0.nextDown } + [-.infinity, .infinity, -1e300, 1e300]
        try NumPy.write(edges, to: "edges.txt", in: dir)
        try NumPy.write(values, to: "values.txt", in: dir)
        let out = try NumPy.run(
            """
            e = np.loadtxt("edges.txt"); x = np.loadtxt("values.txt")
            print("\\n".join(str(int(i)) for i in np.searchsorted(e, x, side="left")))
            """, in: dir)
        let numpy = out.split(separator: "\n").map { Int($0)! }
        #expect(numpy == values.map { Quantiles.bin(of: $0, edges: edges) })
        // (-inf, e1] is bin 0: an edge belongs to the bin it closes.
        #expect(Quantiles.bin(of: 0, edges: edges) == 1)
        #expect(Quantiles.bin(of: 0.1, edges: edges) == 2)
        #expect(Quantiles.bin(of: 11, edges: edges) == 5)
    }

    @Test func linearQuantileEdgeCases() {
        #expect(Quantiles.linear(sorted: [1, 2, 3, 4], 0) == 1)
        #expect(Quantiles.linear(sorted: [1, 2, 3, 4], 1) == 4)
        #expect(Quantiles.linear(sorted: [1, 2, 3, 4], 0.5) == 2.5)
        #expect(Quantiles.linear(sorted: [10], 0.95) == 10)
        // numpy: np.quantile([0, 10], 0.95) == 9.5
        #expect(Quantiles.linear(sorted: [0, 10], 0.95) == 9.5)
    }
}
