import Metrics
import Synchronization

/// The values behind every counter and gauge the stages create, readable in-process: a
/// `MetricsFactory` that hands each stage the backend's handler (Prometheus in `driftwood run`)
/// wrapped so that each increment or record also lands in one atomic cell here. The status page
/// (`/api/v1/status`) reads the cells; nothing is counted twice by the stages, and the hot path
/// pays one relaxed atomic operation per batch or window record beside the backend's.
///
/// Timers and aggregating recorders (histograms) are passed through untouched.
public final class MetricValues: MetricsFactory, Sendable {
    /// One series: the family name, its labels in creation order, its value.
    public struct Sample: Sendable {
        public var label: String
        public var dimensions: [(String, String)]
        public var value: Double

        /// The value of label `name`, if the series has it.
        public func dimension(_ name: String) -> String? {
            dimensions.first { $0.0 == name }?.1
        }
    }

    /// A counter's total or a gauge's latest value. Counters keep an integer count, gauges the
    /// bits of a Double.
    final class Cell: Sendable {
        let label: String
        let dimensions: [(String, String)]
        let isGauge: Bool
        let bits = Atomic<UInt64>(0)

        init(label: String, dimensions: [(String, String)], isGauge: Bool) {
            self.label = label
            self.dimensions = dimensions
            self.isGauge = isGauge
            if isGauge { bits.store(Double.nan.bitPattern, ordering: .relaxed) }
        }

        var value: Double {
            let raw = bits.load(ordering: .relaxed)
            return isGauge ? Double(bitPattern: raw) : Double(raw)
        }
    }

    struct Key: Hashable {
        let label: String
        let dimensions: [String]
    }

    let backend: any MetricsFactory
    private let cells = Mutex<[Key: Cell]>([:])

    public init(wrapping backend: any MetricsFactory) {
        self.backend = backend
    }

    func cell(_ label: String, _ dimensions: [(String, String)], gauge: Bool) -> Cell {
        let key = Key(label: label, dimensions: dimensions.flatMap { [$0.0, $0.1] })
        return cells.withLock { cells in
            if let cell = cells[key] { return cell }
            let cell = Cell(label: label, dimensions: dimensions, isGauge: gauge)
            cells[key] = cell
            return cell
        }
    }

    /// Every counter and gauge created so far. Gauges never recorded have no sample.
    public func samples() -> [Sample] {
        let all = cells.withLock { Array($0.values) }
        var out: [Sample] = []
        out.reserveCapacity(all.count)
        for cell in all {
            let v = cell.value
            if cell.isGauge && v.isNaN { continue }
            out.append(Sample(label: cell.label, dimensions: cell.dimensions, value: v))
        }
        return out
    }

    // MARK: MetricsFactory

    public func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        TeeCounter(inner: backend.makeCounter(label: label, dimensions: dimensions), cell: cell(label, dimensions, gauge: false))
    }

    public func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        backend.makeFloatingPointCounter(label: label, dimensions: dimensions)
    }

    public func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        TeeMeter(inner: backend.makeMeter(label: label, dimensions: dimensions), cell: cell(label, dimensions, gauge: true))
    }

    public func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        let inner = backend.makeRecorder(label: label, dimensions: dimensions, aggregate: aggregate)
        guard !aggregate else { return inner }
        return TeeRecorder(inner: inner, cell: cell(label, dimensions, gauge: true))
    }

    public func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        backend.makeTimer(label: label, dimensions: dimensions)
    }

    public func destroyCounter(_ handler: any CounterHandler) {
        backend.destroyCounter((handler as? TeeCounter)?.inner ?? handler)
    }

    public func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {
        backend.destroyFloatingPointCounter(handler)
    }

    public func destroyMeter(_ handler: any MeterHandler) {
        backend.destroyMeter((handler as? TeeMeter)?.inner ?? handler)
    }

    public func destroyRecorder(_ handler: any RecorderHandler) {
        backend.destroyRecorder((handler as? TeeRecorder)?.inner ?? handler)
    }

    public func destroyTimer(_ handler: any TimerHandler) {
        backend.destroyTimer(handler)
    }
}

final class TeeCounter: CounterHandler, Sendable {
    let inner: any CounterHandler
    let cell: MetricValues.Cell
    init(inner: any CounterHandler, cell: MetricValues.Cell) {
        self.inner = inner
        self.cell = cell
    }
    func increment(by amount: Int64) {
        inner.increment(by: amount)
        cell.bits.wrappingAdd(UInt64(truncatingIfNeeded: amount), ordering: .relaxed)
    }
    func reset() {
        inner.reset()
        cell.bits.store(0, ordering: .relaxed)
    }
}

final class TeeRecorder: RecorderHandler, Sendable {
    let inner: any RecorderHandler
    let cell: MetricValues.Cell
    init(inner: any RecorderHandler, cell: MetricValues.Cell) {
        self.inner = inner
        self.cell = cell
    }
    func record(_ value: Int64) {
        inner.record(value)
        cell.bits.store(Double(value).bitPattern, ordering: .relaxed)
    }
    func record(_ value: Double) {
        inner.record(value)
        cell.bits.store(value.bitPattern, ordering: .relaxed)
    }
}

final class TeeMeter: MeterHandler, Sendable {
    let inner: any MeterHandler
    let cell: MetricValues.Cell
    init(inner: any MeterHandler, cell: MetricValues.Cell) {
        self.inner = inner
        self.cell = cell
    }
    func set(_ value: Int64) {
        inner.set(value)
        cell.bits.store(Double(value).bitPattern, ordering: .relaxed)
    }
    func set(_ value: Double) {
        inner.set(value)
        cell.bits.store(value.bitPattern, ordering: .relaxed)
    }
    func increment(by amount: Double) {
        inner.increment(by: amount)
        update { $0 + amount }
    }
    func decrement(by amount: Double) {
        inner.decrement(by: amount)
        update { $0 - amount }
    }
    private func update(_ f: (Double) -> Double) {
        var old = cell.bits.load(ordering: .relaxed)
        while true {
            let current = Double(bitPattern: old)
            let new = f(current.isNaN ? 0 : current).bitPattern
            let (exchanged, original) = cell.bits.compareExchange(expected: old, desired: new, ordering: .relaxed)
            if exchanged { return }
            old = original
        }
    }
}
