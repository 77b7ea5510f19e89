#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How far a window's distribution is from the baseline's (docs/model-monitoring.md).
///
/// With reference proportions `e_i` and window proportions `a_i`, each clipped below at
/// `epsilon` (1e-4), natural log:
/// - PSI = Σ (a_i − e_i)·ln(a_i/e_i)
/// - KL  = Σ a_i·ln(a_i/e_i)
/// - JS  = √(½·KL(a‖m) + ½·KL(e‖m)), m = (a + e)/2 (the Jensen–Shannon distance)
///
/// Every metric is a sum of one term per bin, so a window that moves one event from one bin to
/// another recomputes two terms, not all of them (`DriftWindow`).
public enum DriftMetric: String, Sendable, CaseIterable {
    case psi, kl, js

    /// Proportions are clipped below at this value, so an empty bin never divides by zero.
    public static let epsilon = 1e-4

    /// The threshold used when a `drift` filter gives none: psi 0.2, kl 0.1, js 0.1.
    public var defaultThreshold: Double {
        switch self {
        case .psi: 0.2
        case .kl, .js: 0.1
        }
    }

    /// The term of one bin, from the unclipped proportions `actual` (window) and `expected`.
    @inline(__always)
    public func term(actual: Double, expected: Double) -> Double {
        let a = Swift.max(actual, Self.epsilon)
        let e = Swift.max(expected, Self.epsilon)
        switch self {
        case .psi:
            return (a - e) * log(a / e)
        case .kl:
            return a * log(a / e)
        case .js:
            let m = (a + e) / 2
            return 0.5 * (a * log(a / m)) + 0.5 * (e * log(e / m))
        }
    }

    /// The score from the sum of every bin's term.
    @inline(__always)
    public func score(termSum: Double) -> Double {
        switch self {
        case .psi, .kl: termSum
        // A sum that is zero in exact arithmetic may come out a hair below it.
        case .js: Swift.max(0, termSum).squareRoot()
        }
    }

    /// The score of whole distributions (reference implementation; `DriftWindow` is the fast one).
    public func score(actual: [Double], expected: [Double]) -> Double {
        precondition(actual.count == expected.count, "one proportion per bin on both sides")
        var sum = 0.0
        for i in actual.indices { sum += term(actual: actual[i], expected: expected[i]) }
        return score(termSum: sum)
    }
}
