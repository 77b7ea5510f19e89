import DriftwoodCore
import Foundation

/// `type: drift` — scores each event's model features against a baseline over a sliding window.
public struct DriftConfig: StageConfig {
    /// The baseline file written by `driftwood baseline` (required; relative to the working directory).
    public var baselinePath: String
    /// The baseline, read and checked when the pipeline file is.
    public var baseline: Baseline
    /// A hash of the baseline file's bytes (a changed baseline starts the windows afresh).
    public var baselineDigest: UInt64 { baseline.contentDigest }
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
    /// What scored events get: `drifting` (default: the tag `drift` and `drift.features` while
    /// a feature of the event's group is over the threshold), `scores` (the score map on every
    /// scored event) or `none`.
    public var annotate: Annotate
    /// Scored events per group between two score reports (metric events); default `window`;
    /// 0: no reports.
    public var reportEvery: Int
    /// Each watched feature's weight in `weighted`, normalised to sum 1: from the config, else
    /// the baseline's `importance`, else equal.
    public var weights: [Double]
    /// Where the weights came from: `config`, `baseline` or `equal`.
    public var weightsSource: String
    /// Optional: `MODEL_DRIFT_DETECTED` alerts (feature `_weighted`) on the weighted score.
    public var weightedThreshold: Double?
    /// Features whose window histogram each report carries (and the distribution gauges).
    public var distributions: [String]

    /// `annotate:` of a drift filter.
    public enum Annotate: String, Sendable, CaseIterable {
        case drifting, scores, none
    }

    /// At most this many values (window × max_groups × features) may be held by one drift
    /// filter: 2 bytes each, so about 200 MB.
    public static let maxHeldValues = 100_000_000

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
        annotate = Annotate(rawValue: c.choice("annotate", Annotate.allCases.map(\.rawValue), default: "drifting")) ?? .drifting
        reportEvery = c.int("report_every", default: window, min: 0)
        let held = window.multipliedReportingOverflow(by: groupBy == nil ? 1 : maxGroups)
        let total = held.partialValue.multipliedReportingOverflow(by: max(1, features.count))
        if held.overflow || total.overflow || total.partialValue > Self.maxHeldValues {
            let node = c.node("window") ?? c.node("max_groups")
            c.error(
                "window \(window) × max_groups \(groupBy == nil ? 1 : maxGroups) × \(features.count) features "
                    + "would hold more than \(Self.maxHeldValues) values (2 bytes each); lower window or max_groups",
                at: node, key: c.has("window") ? "window" : "max_groups")
        }
        // Importance: from the config, else from the baseline, else equal weights.
        var raw: [Double] = features.map { _ in 1 }
        weightsSource = "equal"
        if let imp = c.object("importance") {
            var given: [String: Double] = [:]
            for key in imp.keys {
                let node = imp.node(key)
                guard let w = imp.double(key) else { continue }
                if !features.contains(key) {
                    var message = "'\(key)' is not a watched feature"
                    if let hint = closestMatch(to: key, in: features) { message += " (did you mean '\(hint)'?)" }
                    message += "; watched: \(features.joined(separator: ", "))"
                    imp.error(message, at: node, key: key)
                } else if !(w >= 0) || !w.isFinite {
                    imp.error("weight \(w) must be a number at least 0", at: node, key: key)
                } else {
                    given[key] = w
                }
            }
            if imp.keys.isEmpty || (!given.isEmpty && given.values.allSatisfy { $0 == 0 }) {
                c.error("weights \(given.isEmpty ? "{}" : given.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")) must not all be 0", at: c.node("importance"), key: "importance")
            }
            raw = features.map { given[$0] ?? 0 }
            weightsSource = "config"
        } else if c.has("importance") {
            c.error("expected a mapping of feature to weight", at: c.node("importance"), key: "importance")
        } else if let imp = baseline.importance {
            let w = features.map { name in imp.first { $0.name == name }?.weight ?? 0 }
            if w.reduce(0, +) > 0 {
                raw = w
                weightsSource = "baseline"
            }
        }
        let sum = raw.reduce(0, +)
        weights = sum > 0 ? raw.map { $0 / sum } : raw
        weightedThreshold = c.double("weighted_threshold")
        if let t = weightedThreshold, !(t >= 0) {
            c.error("weighted_threshold \(t) must be at least 0", at: c.node("weighted_threshold"), key: "weighted_threshold")
        }
        distributions = c.stringList("distributions") ?? []
        for name in distributions where !features.contains(name) {
            var message = "'\(name)' is not a watched feature"
            if let hint = closestMatch(to: name, in: features) { message += " (did you mean '\(hint)'?)" }
            message += "; watched: \(features.joined(separator: ", "))"
            c.error(message, at: c.node("distributions"), key: "distributions")
        }
    }

    /// What a saved state of this filter depends on: every setting and the baseline's content.
    public var stateDigest: String {
        var text = "drift v1\nbaseline=\(String(baselineDigest, radix: 16))\nfeatures=\(features)\n"
        text += "metric=\(metric.rawValue) threshold=\(threshold) resolve=\(resolveBelow) window=\(window)\n"
        text += "group_by=\(groupBy?.text ?? "") max_groups=\(maxGroups) annotate=\(annotate.rawValue)\n"
        text += "report_every=\(reportEvery) weights=\(weights) weighted_threshold=\(weightedThreshold.map { "\($0)" } ?? "")\n"
        text += "distributions=\(distributions)"
        return text
    }

    /// Reads and checks a baseline file.
    static func load(_ path: String) throws -> Baseline {
        let bytes: [UInt8]
        do { bytes = try FileAccess.read(path) } catch {
            let hint = error.reason == "no such file" ? " (write one with `driftwood baseline`)" : ""
            throw BaselineError("\(error)\(hint)")
        }
        var baseline = try Baseline.decode(bytes)
        baseline.contentDigest = fnv1a64(bytes)
        return baseline
    }
}

extension DriftConfig {
    public var filesRead: [String] { baselinePath.isEmpty ? [] : [baselinePath] }
}
