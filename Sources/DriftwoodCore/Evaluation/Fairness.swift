/// One value of the sensitive attribute in a window: its pairs' confusion counts.
public struct FairnessCounts: Sendable, Equatable {
    public var tp = 0, fp = 0, tn = 0, fn = 0

    public init() {}

    @inline(__always)
    mutating func count(truth: Bool, predicted: Bool, by d: Int) {
        if truth { if predicted { tp += d } else { fn += d } } else { if predicted { fp += d } else { tn += d } }
    }

    /// Pairs of this value.
    public var n: Int { tp + fp + tn + fn }
    /// P(ŷ = 1).
    public var selectionRate: Double { n == 0 ? 0 : Double(tp + fp) / Double(n) }
    /// TP / (TP + FN); 0 without positives (Fairlearn's, via scikit-learn's normalised confusion matrix).
    public var tpr: Double { tp + fn == 0 ? 0 : Double(tp) / Double(tp + fn) }
    /// FP / (FP + TN); 0 without negatives.
    public var fpr: Double { fp + tn == 0 ? 0 : Double(fp) / Double(fp + tn) }
}

/// The fairness metrics `evaluate` computes over the attribute's values.
public enum FairnessMetric: String, Sendable, CaseIterable {
    case demographicParityDifference = "demographic_parity_difference"
    case disparateImpact = "disparate_impact"
    case equalizedOddsDifference = "equalized_odds_difference"
    case equalOpportunityDifference = "equal_opportunity_difference"

    /// Disparate impact is bad when low (alerts below its threshold), the differences when high.
    public var alertsBelow: Bool { self == .disparateImpact }

    /// The metric over the values kept (Fairlearn's `between_groups`): nil without any value, and
    /// disparate impact while no value is ever selected (0/0).
    public func value(_ values: [FairnessCounts]) -> Double? {
        guard !values.isEmpty else { return nil }
        func range(_ f: (FairnessCounts) -> Double) -> Double {
            var lo = Double.infinity
            var hi = -Double.infinity
            for v in values {
                let x = f(v)
                lo = Swift.min(lo, x)
                hi = Swift.max(hi, x)
            }
            return hi - lo
        }
        switch self {
        case .demographicParityDifference: return range(\.selectionRate)
        case .disparateImpact:
            let rates = values.map(\.selectionRate)
            let hi = rates.max()!
            return hi == 0 ? nil : rates.min()! / hi
        case .equalizedOddsDifference: return Swift.max(range(\.tpr), range(\.fpr))
        case .equalOpportunityDifference: return range(\.tpr)
        }
    }
}
