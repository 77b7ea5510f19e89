import TestSupport
import Foundation
import Testing

@testable import DriftwoodCore

/// Profiling reference lines into a baseline.
@Suite struct BaselineBuilderTests {
    static func build(_ lines: [String], features: [String]?, bins: Int = 10) -> BaselineBuilder.Result {
        var builder = BaselineBuilder(features: features?.map { FieldPath($0)! }, options: .init(bins: bins))
        for line in lines {
            var l = line
            l.withUTF8 { _ = builder.add(line: $0) }
        }
        return builder.finish()
    }

    @Test func numericFeatureMatchesNumpy() throws {
        var r = SeededRandom(seed: 11)
        let amounts = (0..<5_000).map { _ in (exp(r.normal() + 4) * 100).rounded() / 100 }
        let lines = amounts.enumerated().map { i, a in #"{"n":\#(i),"features":{"amount":\#(a),"age":\#(i % 70 + 18)}}"# }
        let result = Self.build(lines, features: ["features.amount"], bins: 10)
        let feature = try #require(result.baseline.feature("features.amount"))
        guard case .numeric(let n) = feature.distribution else {
            Issue.record("not numeric")
            return
        }
        let dir = try NumPy.directory()
        try NumPy.write(lines.joined(separator: "\n"), to: "ref.jsonl", in: dir)
        let out = try NumPy.run(
            """
            import json
            x = np.array([json.loads(l)["features"]["amount"] for l in open("ref.jsonl")])
            e = np.unique(np.quantile(x, np.arange(1, 10) / 10))
            p = np.bincount(np.searchsorted(e, x, side="left"), minlength=len(e) + 1) / len(x)
            print(" ".join(repr(float(v)) for v in e))
            print(" ".join(repr(float(v)) for v in p))
            print(repr(float(np.mean(x))), repr(float(np.std(x))), repr(float(np.min(x))), repr(float(np.max(x))))
            """, in: dir)
        let rows = out.split(separator: "\n").map { $0.split(separator: " ").map { Double($0)! } }
        #expect(n.edges == rows[0])
        #expect(n.probabilities == rows[1])
        #expect(abs(n.mean - rows[2][0]) <= 1e-9 * abs(rows[2][0]))
        #expect(abs(n.std - rows[2][1]) <= 1e-9 * abs(rows[2][1]))
        #expect(n.min == rows[2][2] && n.max == rows[2][3])
        #expect(feature.count == 5_000 && feature.missing == 0 && n.invalid == 0)
    }

    @Test func categoricalListsTheTwentyMostFrequentAndOther() throws {
        // Value k appears 30 - k times: v0 most often … v24 least.
        var lines: [String] = []
        for k in 0..<25 { for _ in 0..<(30 - k) { lines.append(#"{"country":"v\#(k)"}"#) } }
        var rng = SeededRandom(seed: 1)
        lines.shuffle(using: &rng)
        let result = Self.build(lines, features: ["country"])
        let feature = try #require(result.baseline.feature("country"))
        guard case .categorical(let c) = feature.distribution else {
            Issue.record("not categorical")
            return
        }
        let total = Double((0..<25).map { 30 - $0 }.reduce(0, +))
        #expect(c.values == (0..<20).map { "v\($0)" })
        #expect(c.probabilities == (0..<20).map { Double(30 - $0) / total })
        // The five rarest (v20 … v24): 10 + 9 + 8 + 7 + 6 = 40 of them.
        #expect(c.other == 40 / total)
        #expect(abs(c.probabilities.reduce(0, +) + c.other - 1) < 1e-12)
        #expect(c.distinct == 25)
        #expect(feature.count == Int(total))
    }

    @Test func featureThatIsSometimesAStringStaysNumeric() throws {
        var lines: [String] = []
        for i in 0..<1_000 {
            lines.append(i % 10 == 3 ? #"{"score":"n/a"}"# : #"{"score":\#(Double(i) / 7)}"#)
        }
        lines.append(#"{"other":1}"#)
        lines.append(#"{"score":null}"#)
        let result = Self.build(lines, features: ["score"], bins: 4)
        let feature = try #require(result.baseline.feature("score"))
        guard case .numeric(let n) = feature.distribution else {
            Issue.record("not numeric")
            return
        }
        #expect(feature.count == 900)
        #expect(n.invalid == 100)
        #expect(feature.missing == 2)
        let numbers = (0..<1_000).filter { $0 % 10 != 3 }.map { Double($0) / 7 }
        #expect(n.edges == Quantiles.edges(sorted: numbers, bins: 4))
        #expect(n.probabilities.allSatisfy { abs($0 - 0.25) < 0.002 })
    }

    @Test func everyFieldModeChoosesTypesAndLeavesOutIdentifiers() throws {
        var lines: [String] = []
        for i in 0..<2_000 {
            let status = [200, 200, 200, 404, 500][i % 5]
            lines.append(
                #"{"id":"req-\#(i)","status":\#(status),"ok":\#(i % 3 == 0),"m":{"latency":\#(Double(i % 97) + 0.5),"tags":["a"]},"level":"INFO","nothing":null}"#
            )
        }
        lines.append("not json")
        lines.append("[1,2]")
        var builder = BaselineBuilder(features: nil)
        for line in lines {
            var l = line
            l.withUTF8 { _ = builder.add(line: $0) }
        }
        #expect(builder.lines == 2_002 && builder.skippedLines == 2)
        let result = builder.finish()
        let names = result.baseline.features.map(\.name)
        #expect(names == ["status", "ok", "m.latency", "level"])
        #expect(result.notes.count == 1 && result.notes[0].contains("id"))
        // Few distinct numbers, each seen often: categorical, keyed by their text.
        guard case .categorical(let status) = result.baseline.feature("status")!.distribution else {
            Issue.record("status should be categorical")
            return
        }
        #expect(status.values == ["200", "404", "500"])
        #expect(status.probabilities == [0.6, 0.2, 0.2])
        guard case .categorical(let ok) = result.baseline.feature("ok")!.distribution else {
            Issue.record("ok should be categorical")
            return
        }
        #expect(Set(ok.values) == ["true", "false"])
        #expect(result.baseline.feature("m.latency")!.isNumeric)
    }

    @Test func heavyTiesMergeEdgesWithoutEmptyZeroWidthBins() throws {
        let lines = (0..<1_000).map { i in #"{"x":\#(i < 900 ? 0 : i)}"# }
        let result = Self.build(lines, features: ["x"], bins: 10)
        guard case .numeric(let n) = result.baseline.feature("x")!.distribution else {
            Issue.record("not numeric")
            return
        }
        // Nine of ten deciles are 0: one edge for them, then the 90% quantile.
        let sorted = (0..<1_000).map { Double($0 < 900 ? 0 : $0) }
        #expect(n.edges == [0, Quantiles.linear(sorted: sorted, 0.9)])
        #expect(n.probabilities == [0.9, 0, 0.1])
        #expect(zip(n.edges, n.edges.dropFirst()).allSatisfy { $0 < $1 })
    }

    @Test func escapedStringsAndWhitespaceLinesAreRead() throws {
        let lines = [#"{ "k" : "a\"b" }"#, #"{"k":"a\"b"}"#, #"{"k":"\u00e9"}"#, #"{"k":"é"}"#]
        let result = Self.build(lines, features: ["k"])
        guard case .categorical(let c) = result.baseline.feature("k")!.distribution else {
            Issue.record("not categorical")
            return
        }
        #expect(c.values == ["a\"b", "é"])
        #expect(c.probabilities == [0.5, 0.5])
    }

    @Test func namedFeatureWithoutValuesIsReported() {
        let result = Self.build([#"{"a":1}"#], features: ["a", "b.c"])
        #expect(result.featuresWithoutValues == ["b.c"])
    }
}

