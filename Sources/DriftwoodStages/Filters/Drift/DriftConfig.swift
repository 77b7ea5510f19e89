import DriftwoodCore
import Foundation

/// `type: drift` — scores each event's model features against a baseline over a sliding window.
public struct DriftConfig: StageConfig {
    /// The baseline file written by `driftwood baseline` (required; relative to the working directory).
    public var baselinePath: String
    /// The baseline, read and checked when the pipeline file is.
    public var baseline: Baseline
    /// The features to watch; default: every feature in the baseline.
    public var features: [String]
    /// `psi` | `kl` | `js`; default `psi`.
    public var metric: DriftMetric
    /// A feature drifts when its score exceeds this; default psi 0.2, kl 0.1, js 0.1.
    public var threshold: Double
    /// A firing alert resolves once the score is back at or under this (default: `threshold`);
    /// a little lower keeps a score hovering at the threshold from firing again and again.
    public var resolveBelow: Double
    /// Values per window (the last `window` events that carried the feature); default 1000.
    public var window: Int
    /// Optional: one window per value of this field (events without it are not scored).
    public var groupBy: FieldPath?
    /// Windows are kept for at most this many `group_by` values; events of further groups pass
    /// unscored (a warning is logged once). Default 1000.
    public var maxGroups: Int

    public init(_ c: ConfigObject) {
        baselinePath = c.requiredString("baseline") ?? ""
        baseline = Baseline(features: [], lines: 0, bins: 0)
        var loaded = false
        if !baselinePath.isEmpty {
            do {
                baseline = try Self.load(baselinePath)
                loaded = true
            } catch {
                let text = "\(error)"
                c.error(
                    text.hasPrefix("cannot read") ? text : "\(FileAccess.absolute(baselinePath)): \(text)",
                    at: c.node("baseline"), key: "baseline")
            }
        } else if c.has("baseline") {
            c.error("expected the path of a baseline file", at: c.node("baseline"), key: "baseline")
        }
        features = baseline.features.map(\.name)
        if let listed = c.stringList("features") {
            if listed.isEmpty { c.error("expected at least one feature", at: c.node("features"), key: "features") }
            if loaded {
                let known = baseline.features.map(\.name)
                for name in listed where !known.contains(name) {
                    var message = "'\(name)' is not in the baseline \(baselinePath)"
                    if let hint = closestMatch(to: name, in: known) { message += " (did you mean '\(hint)'?)" }
                    message += "; it has: \(known.joined(separator: ", "))"
                    c.error(message, at: c.node("features"), key: "features")
                }
            }
            for name in listed where FieldPath(name) == nil {
                c.error("'\(name)' is not a field path", at: c.node("features"), key: "features")
            }
            features = listed
        }
        metric = DriftMetric(rawValue: c.choice("metric", DriftMetric.allCases.map(\.rawValue), default: "psi")) ?? .psi
        threshold = c.double("threshold", default: metric.defaultThreshold)
        if threshold < 0 { c.error("must be at least 0", at: c.node("threshold"), key: "threshold") }
        resolveBelow = c.double("resolve_below", default: threshold)
        if resolveBelow > threshold {
            c.error("must not be above threshold (\(threshold))", at: c.node("resolve_below"), key: "resolve_below")
        }
        window = c.int("window", default: 1000, min: 1)
        groupBy = c.fieldPath("group_by")
        maxGroups = c.int("max_groups", default: 1000, min: 1)
    }

    /// Reads and checks a baseline file.
    static func load(_ path: String) throws -> Baseline {
        let bytes: [UInt8]
        do { bytes = try FileAccess.read(path) } catch {
            let hint = error.reason == "no such file" ? " (write one with `driftwood baseline`)" : ""
            throw BaselineError("\(error)\(hint)")
        }
        return try Baseline.decode(bytes)
    }
}
