import Testing

@testable import DriftwoodCore

@Suite struct PairWindowTests {
    @Test func binaryCountsSlideWithTheWindow() {
        var w = PairWindow(task: .binary, capacity: 3)
        for (t, y, s) in [(1.0, 1.0, 0.9), (0, 1, 0.6), (1, 0, 0.3), (0, 0, 0.1)] {
            w.add(Pair(truth: t, predicted: y, score: s))
        }
        // Window: (0,1,.6) (1,0,.3) (0,0,.1)
        #expect(w.tp == 0 && w.fp == 1 && w.fn == 1 && w.tn == 1)
        #expect(w.value(.accuracy) == 1.0 / 3)
        #expect(w.value(.precision) == 0 && w.value(.recall) == 0 && w.value(.f1) == 0)
        #expect(w.value(.auc) == 0.5)  // the positive's 0.3 beats 0.1 and loses to 0.6
    }

    @Test func aucCountsTiesAsHalfAndIsAbsentWithOneClass() {
        var w = PairWindow(task: .binary, capacity: 4)
        for (t, s) in [(1.0, 0.5), (0, 0.5), (1, 0.7), (0, 0.2)] { w.add(Pair(truth: t, predicted: s >= 0.5 ? 1 : 0, score: s)) }
        #expect(w.value(.auc) == 0.875)  // (1 + 0.5 + 1 + 1) / 4
        var one = PairWindow(task: .binary, capacity: 2)
        one.add(Pair(truth: 1, predicted: 1, score: 0.9))
        #expect(one.value(.auc) == nil)
    }

    @Test func macroF1AveragesTheClassesSeenInLabelsOrPredictions() {
        var w = PairWindow(task: .multiclass, capacity: 10)
        for (t, y) in [(0.0, 0.0), (0, 1), (1, 1), (2, 1)] { w.add(Pair(truth: t, predicted: y)) }
        // class 0: 2·1/(1+2) ; class 1: 2·1/(3+1) ; class 2: 0
        #expect(abs(w.value(.macroF1)! - (2.0 / 3 + 0.5 + 0) / 3) < 1e-15)
        #expect(w.value(.accuracy) == 0.5)
    }

    @Test func regressionStaysExactWhenAHugeTermLeaves() {
        var w = PairWindow(task: .regression, capacity: 3)
        w.add(Pair(truth: 0, predicted: 1))  // |e|/ε: ~4.5e15
        for k in 0..<3 { w.add(Pair(truth: 10, predicted: 10 + 0.1 * Double(k + 1))) }
        let expected = (0.01 + 0.02 + 0.03) / 3
        #expect(abs(w.value(.mape)! - expected) < 1e-15)
        #expect(abs(w.value(.mae)! - 0.2) < 1e-15)
    }

    @Test func fairnessMetricsFollowFairlearnDefinitions() {
        var a = FairnessCounts(), b = FairnessCounts()
        a.tp = 3; a.fp = 1; a.tn = 4; a.fn = 2  // SR .4, TPR .6, FPR .2
        b.tp = 1; b.fp = 0; b.tn = 5; b.fn = 0  // SR 1/6, TPR 1, FPR 0
        #expect(abs(FairnessMetric.demographicParityDifference.value([a, b])! - (0.4 - 1.0 / 6)) < 1e-15)
        #expect(abs(FairnessMetric.disparateImpact.value([a, b])! - (1.0 / 6) / 0.4) < 1e-15)
        #expect(abs(FairnessMetric.equalizedOddsDifference.value([a, b])! - 0.4) < 1e-15)
        #expect(abs(FairnessMetric.equalOpportunityDifference.value([a, b])! - 0.4) < 1e-15)
        var none = FairnessCounts()
        none.tn = 3
        #expect(FairnessMetric.disparateImpact.value([none]) == nil)
        #expect(none.tpr == 0)
    }

    @Test func classKeysMakeOneClassOfOneAndTrue() {
        for json in ["1", "1.0", "true", "\"1\"", "1e0"] { #expect(ClassKey.canonical(Array(json.utf8)) == Array("1".utf8), "\(json)") }
        #expect(ClassKey.canonical(Array("-2.0".utf8)) == Array("-2".utf8))
        #expect(ClassKey.canonical(Array("0.5".utf8)) == Array("0.5".utf8))
        #expect(ClassKey.canonical(Array("null".utf8)) == nil && ClassKey.canonical(Array("[1]".utf8)) == nil)
    }
}
