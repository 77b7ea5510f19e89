/// What `evaluate` scores: two classes, several, or a number.
public enum EvaluationTask: String, Sendable, CaseIterable {
    case binary, multiclass, regression
}

/// One matched prediction and label.
public struct Pair: Sendable, Equatable {
    /// binary: 1 or 0; multiclass: the class id; regression: the number.
    public var truth: Double
    /// The predicted class (binary 1/0, multiclass id) or number.
    public var predicted: Double
    /// binary: the score (the 0/1 prediction itself when no score was logged), for AUC.
    public var score: Double
    /// Seconds from the prediction to its label (negative when the label came first).
    public var lag: Double
    /// The fairness attribute's value id on the prediction; -1 without one.
    public var attribute: Int32

    public init(truth: Double, predicted: Double, score: Double = 0, lag: Double = 0, attribute: Int32 = -1) {
        self.truth = truth
        self.predicted = predicted
        self.score = score
        self.lag = lag
        self.attribute = attribute
    }
}

/// A group's last `capacity` matched pairs and the counts its metrics come from, updated in O(1)
/// per pair: the confusion counts (binary, and per fairness value), per-class counts
/// (multiclass), or sums of errors (regression; re-added from the ring once per `capacity`
/// pairs, so rounding never accumulates). AUC and the lag quantiles sort the window when asked
/// (O(n log n), at report time only). The ring grows as pairs arrive, so a new group costs O(1).
public struct PairWindow: Sendable {
    public let task: EvaluationTask
    public let capacity: Int
    var ring: [Pair] = []
    var head = 0
    /// binary: true/false positives/negatives.
    public private(set) var tp = 0, fp = 0, tn = 0, fn = 0
    /// multiclass: per class id, pairs predicted as it, truly of it, and both.
    var predictedCount: [Int] = []
    var trueCount: [Int] = []
    var bothCount: [Int] = []
    var correct = 0
    /// regression: Σ|e|, Σe², Σ|e|/max(|y|, ε), compensated (a huge term that enters and
    /// later leaves, e.g. the percentage error of a label of 0, does not wipe out the rest).
    var absSum = CompensatedSum(), squareSum = CompensatedSum(), percentSum = CompensatedSum()
    var sinceResum = 0
    /// binary with a fairness attribute: per value id.
    public private(set) var fairness: [FairnessCounts] = []

    public init(task: EvaluationTask, capacity: Int) {
        precondition(capacity >= 1)
        self.task = task
        self.capacity = capacity
    }

    public var count: Int { ring.count }
    public var isFull: Bool { ring.count == capacity }

    /// The pairs held, oldest first.
    public var pairs: [Pair] { ring.count < capacity ? ring : Array(ring[head...] + ring[..<head]) }

    /// Adds a pair; the oldest leaves a full window.
    public mutating func add(_ pair: Pair) {
        if ring.count < capacity {
            ring.append(pair)
        } else {
            let old = ring[head]
            ring[head] = pair
            head += 1
            if head == capacity { head = 0 }
            count(old, by: -1)
        }
        count(pair, by: 1)
        if task == .regression && ring.count == capacity {
            sinceResum += 1
            if sinceResum >= capacity { resum() }
        }
    }

    @inline(__always)
    mutating func count(_ p: Pair, by d: Int) {
        switch task {
        case .binary:
            let t = p.truth == 1
            let y = p.predicted == 1
            if t { if y { tp += d } else { fn += d } } else { if y { fp += d } else { tn += d } }
            if p.attribute >= 0 {
                let a = Int(p.attribute)
                while fairness.count <= a { fairness.append(FairnessCounts()) }
                fairness[a].count(truth: t, predicted: y, by: d)
            }
        case .multiclass:
            let t = Int(p.truth)
            let y = Int(p.predicted)
            let top = Swift.max(t, y)
            while predictedCount.count <= top {
                predictedCount.append(0)
                trueCount.append(0)
                bothCount.append(0)
            }
            predictedCount[y] += d
            trueCount[t] += d
            if t == y {
                bothCount[t] += d
                correct += d
            }
        case .regression:
            let (a, s, q) = Self.errors(p)
            let sign = Double(d)
            absSum.add(sign * a)
            squareSum.add(sign * s)
            percentSum.add(sign * q)
        }
    }

    /// |e|, e², |e|/max(|y|, ε) of a regression pair (scikit-learn's MAPE uses ε = 2.22e-16).
    @inline(__always)
    static func errors(_ p: Pair) -> (Double, Double, Double) {
        let e = p.predicted - p.truth
        let a = abs(e)
        return (a, e * e, a / Swift.max(abs(p.truth), Double.ulpOfOne))
    }

    mutating func resum() {
        sinceResum = 0
        absSum = CompensatedSum()
        squareSum = CompensatedSum()
        percentSum = CompensatedSum()
        for p in ring {
            let (a, s, q) = Self.errors(p)
            absSum.add(a)
            squareSum.add(s)
            percentSum.add(q)
        }
    }

    // MARK: Metrics

    /// The value of `metric` over the window; nil when it is not defined (AUC with one class
    /// held, anything of an empty window). AUC sorts the window.
    public func value(_ metric: EvaluationMetric) -> Double? {
        let n = Double(ring.count)
        guard n > 0 else { return nil }
        switch metric {
        case .accuracy:
            return task == .binary ? Double(tp + tn) / n : Double(correct) / n
        case .precision: return Self.ratio(tp, tp + fp)
        case .recall: return Self.ratio(tp, tp + fn)
        case .f1: return Self.ratio(2 * tp, 2 * tp + fp + fn)
        case .auc: return auc()
        case .macroF1:
            // scikit-learn averages over the classes in either the labels or the predictions.
            var sum = 0.0
            var classes = 0
            for c in predictedCount.indices where predictedCount[c] + trueCount[c] > 0 {
                sum += Double(2 * bothCount[c]) / Double(predictedCount[c] + trueCount[c])
                classes += 1
            }
            return classes == 0 ? nil : sum / Double(classes)
        case .mae: return absSum.value / n
        case .rmse: return (Swift.max(0, squareSum.value) / n).squareRoot()
        case .mape: return percentSum.value / n
        }
    }

    /// a / b, 0 when b is 0 (scikit-learn's `zero_division=0`).
    @inline(__always)
    static func ratio(_ a: Int, _ b: Int) -> Double { b == 0 ? 0 : Double(a) / Double(b) }

    /// The area under the ROC curve of the scores: the Mann–Whitney statistic with ties counted
    /// ½ (what `roc_auc_score` gives); nil while the window holds one class. O(n log n).
    public func auc() -> Double? {
        let positives = tp + fn
        let negatives = fp + tn
        guard positives > 0, negatives > 0 else { return nil }
        var scored = ring.map { ($0.score, $0.truth == 1) }
        scored.sort { $0.0 < $1.0 }
        // Σ over positives of the rank of their score (ties share their mean rank).
        var rankSum = 0.0
        var i = 0
        while i < scored.count {
            var j = i
            var pos = 0
            while j < scored.count && scored[j].0 == scored[i].0 {
                if scored[j].1 { pos += 1 }
                j += 1
            }
            let meanRank = Double(i + 1 + j) / 2  // ranks i+1 … j
            rankSum += meanRank * Double(pos)
            i = j
        }
        let p = Double(positives)
        return (rankSum - p * (p + 1) / 2) / (p * Double(negatives))
    }

    /// numpy's linear quantiles of the pairs' lags, in seconds.
    public func lagQuantiles(_ qs: [Double]) -> [Double] {
        guard !ring.isEmpty else { return qs.map { _ in 0 } }
        let sorted = ring.map(\.lag).sorted()
        return qs.map { Quantiles.linear(sorted: sorted, $0) }
    }
}

/// The metrics `evaluate` computes.
public enum EvaluationMetric: String, Sendable, CaseIterable {
    case accuracy, precision, recall, f1, auc
    case macroF1 = "macro_f1"
    case mae, rmse, mape

    /// The metrics of a task, in report order; the first ones listed are its defaults.
    public static func metrics(of task: EvaluationTask) -> [EvaluationMetric] {
        switch task {
        case .binary: [.accuracy, .precision, .recall, .f1, .auc]
        case .multiclass: [.accuracy, .macroF1]
        case .regression: [.mae, .rmse, .mape]
        }
    }

    /// Errors: worse when higher, so an alert fires above the threshold (the others below).
    public var isError: Bool { self == .mae || self == .rmse || self == .mape }
}

/// A running sum with Neumaier's compensation: the low bits a large term would round away are
/// kept, so adding and later removing a term leaves the rest as exact as summing it afresh.
struct CompensatedSum: Sendable {
    var sum = 0.0
    var compensation = 0.0

    @inline(__always)
    mutating func add(_ x: Double) {
        let t = sum + x
        if abs(sum) >= abs(x) { compensation += (sum - t) + x } else { compensation += (x - t) + sum }
        sum = t
    }

    var value: Double { sum + compensation }
}
