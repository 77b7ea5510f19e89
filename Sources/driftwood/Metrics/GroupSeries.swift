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
        "driftwood_feature_distribution",
    ]

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
        let snapshot = store.withLock { families in families.map { ($0.key, $0.value.order) }.sorted { $0.0 < $1.0 } }
        for (name, series) in snapshot {
            buffer += Array("# TYPE \(name) gauge\n".utf8)
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
        return base.makeRecorder(label: label, dimensions: dimensions, aggregate: aggregate)
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        base.makeTimer(label: label, dimensions: dimensions)
    }

    func destroyCounter(_ handler: any CounterHandler) { base.destroyCounter(handler) }
    func destroyMeter(_ handler: any MeterHandler) { base.destroyMeter(handler) }
    func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) { base.destroyFloatingPointCounter(handler) }
    func destroyRecorder(_ handler: any RecorderHandler) {
        if handler is GroupSeries.Series { return }
        base.destroyRecorder(handler)
    }
    func destroyTimer(_ handler: any TimerHandler) { base.destroyTimer(handler) }
}
