import DriftwoodStages
import Metrics
import Foundation
import Synchronization

/// The per-`group_by` gauge families (`driftwood_drift_score`, `driftwood_model_error_rate`,
/// `driftwood_model_latency`, `driftwood_feature_distribution`), kept outside the Prometheus
/// registry: the registry copies a family's whole label map to add one series, so a filter
/// adding its n-th group paid O(n) (20,000 new groups took 10–20 s). Here a new series is one
/// dictionary insert and one append; `/metrics` renders them after the registry.
final class GroupSeries: Sendable {
    /// The one `driftwood run` exports.
    static let shared = GroupSeries()

    static let families: Set<String> = [
        "driftwood_drift_score", "driftwood_model_error_rate", "driftwood_model_latency",
        "driftwood_feature_distribution", "driftwood_model_threshold", "driftwood_model_performance",
        "driftwood_model_fairness",
    ]

    /// Per-group histograms (`evaluate`'s label lag), with their buckets.
    static let histogramFamilies: [String: [Double]] = [ModelMetrics.labelLagName: ModelMetrics.labelLagBuckets]

    /// One series of a per-group histogram: a count per bucket, the sum and the count.
    final class Histogram: RecorderHandler, Sendable {
        struct Counts {
            var buckets: [UInt64]
            var sum = 0.0
            var total: UInt64 = 0
        }

        let labels: [(String, String)]
        let bounds: [Double]
        let counts: Mutex<Counts>

        init(labels: [(String, String)], bounds: [Double]) {
            self.labels = labels
            self.bounds = bounds
            counts = Mutex(Counts(buckets: bounds.map { _ in 0 }))
        }

        func record(_ value: Int64) { record(Double(value)) }
        func record(_ value: Double) {
            let b = bounds.firstIndex { value <= $0 }
            counts.withLock { c in
                if let b { c.buckets[b] += 1 }
                c.sum += value
                c.total += 1
            }
        }
    }

    private let histograms = Mutex<[String: (index: [String: Histogram], order: [Histogram])]>([:])

    func histogram(label: String, dimensions: [(String, String)]) -> Histogram {
        var key = ""
        for (k, v) in dimensions { key += k + "\u{1F}" + v + "\u{1E}" }
        return histograms.withLock { families in
            if let h = families[label]?.index[key] { return h }
            let h = Histogram(labels: dimensions, bounds: Self.histogramFamilies[label] ?? [])
            families[label, default: ([:], [])].index[key] = h
            families[label, default: ([:], [])].order.append(h)
            return h
        }
    }

    static func labelText(_ dimensions: [(String, String)]) -> String {
        dimensions.map { k, v in
            k + "=\"" + v.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
                .replacingOccurrences(of: "\n", with: "\\n") + "\""
        }.joined(separator: ",")
    }

    final class Series: RecorderHandler, Sendable {
        /// `{a="x",b="y"} `, rendered once.
        let labels: [UInt8]
        let bits = Atomic<UInt64>(0)

        init(labels: [UInt8]) { self.labels = labels }

        func record(_ value: Int64) { record(Double(value)) }
        func record(_ value: Double) { bits.store(value.bitPattern, ordering: .relaxed) }
    }

    struct Family {
        var index: [String: Series] = [:]
        var order: [Series] = []
    }

    private let store = Mutex<[String: Family]>([:])

    func series(label: String, dimensions: [(String, String)]) -> Series {
        var key = ""
        for (k, v) in dimensions { key += k + "\u{1F}" + v + "\u{1E}" }
        return store.withLock { families in
            if let s = families[label]?.index[key] { return s }
            var text: [UInt8] = Array(label.utf8)
            if !dimensions.isEmpty {
                text.append(UInt8(ascii: "{"))
                for (i, (k, v)) in dimensions.enumerated() {
                    if i > 0 { text.append(UInt8(ascii: ",")) }
                    text += Array(k.utf8) + Array("=\"".utf8)
                    for b in v.utf8 {
                        switch b {
                        case UInt8(ascii: "\\"): text += Array("\\\\".utf8)
                        case UInt8(ascii: "\""): text += Array("\\\"".utf8)
                        case UInt8(ascii: "\n"): text += Array("\\n".utf8)
                        default: text.append(b)
                        }
                    }
                    text.append(UInt8(ascii: "\""))
                }
                text.append(UInt8(ascii: "}"))
            }
            text.append(UInt8(ascii: " "))
            let s = Series(labels: text)
            families[label, default: Family()].index[key] = s
            families[label, default: Family()].order.append(s)
            return s
        }
    }

    /// The families in the text exposition format.
    func emit(into buffer: inout [UInt8]) {
        let hs = histograms.withLock { families in families.map { ($0.key, $0.value.order) }.sorted { $0.0 < $1.0 } }
        for (name, series) in hs {
            buffer += Array("# HELP \(name) \(PrometheusExport.helpText(name))\n# TYPE \(name) histogram\n".utf8)
            for h in series {
                let labels = Self.labelText(h.labels)
                let sep = labels.isEmpty ? "" : ","
                let c = h.counts.withLock { $0 }
                var cumulative: UInt64 = 0
                for (b, bound) in h.bounds.enumerated() {
                    cumulative += c.buckets[b]
                    buffer += Array("\(name)_bucket{\(labels)\(sep)le=\"\(bound)\"} \(cumulative)\n".utf8)
                }
                buffer += Array("\(name)_bucket{\(labels)\(sep)le=\"+Inf\"} \(c.total)\n".utf8)
                buffer += Array("\(name)_sum{\(labels)} \(c.sum)\n".utf8)
                buffer += Array("\(name)_count{\(labels)} \(c.total)\n".utf8)
            }
        }
        let snapshot = store.withLock { families in families.map { ($0.key, $0.value.order) }.sorted { $0.0 < $1.0 } }
        for (name, series) in snapshot {
            buffer += Array("# HELP \(name) \(PrometheusExport.helpText(name))\n# TYPE \(name) gauge\n".utf8)
            for s in series {
                buffer += s.labels
                buffer += Array("\(Double(bitPattern: s.bits.load(ordering: .relaxed)))\n".utf8)
            }
        }
    }
}

/// The process's metrics factory: the group families go to `GroupSeries`, the rest to the
/// Prometheus factory.
struct GroupSeriesFactory: MetricsFactory {
    let base: any MetricsFactory
    let groups: GroupSeries

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        base.makeCounter(label: label, dimensions: dimensions)
    }

    func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        base.makeFloatingPointCounter(label: label, dimensions: dimensions)
    }

    func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        base.makeMeter(label: label, dimensions: dimensions)
    }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        if !aggregate && GroupSeries.families.contains(label) { return groups.series(label: label, dimensions: dimensions) }
        if aggregate && GroupSeries.histogramFamilies[label] != nil { return groups.histogram(label: label, dimensions: dimensions) }
        return base.makeRecorder(label: label, dimensions: dimensions, aggregate: aggregate)
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        base.makeTimer(label: label, dimensions: dimensions)
    }

    func destroyCounter(_ handler: any CounterHandler) { base.destroyCounter(handler) }
    func destroyMeter(_ handler: any MeterHandler) { base.destroyMeter(handler) }
    func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) { base.destroyFloatingPointCounter(handler) }
    func destroyRecorder(_ handler: any RecorderHandler) {
        if handler is GroupSeries.Series || handler is GroupSeries.Histogram { return }
        base.destroyRecorder(handler)
    }
    func destroyTimer(_ handler: any TimerHandler) { base.destroyTimer(handler) }
}
