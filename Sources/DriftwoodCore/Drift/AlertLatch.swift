/// One alert's state: firing above its threshold and, once firing, resolved only at or under
/// `resolveBelow` (hysteresis, so a value hovering at the threshold does not flap); and when its
/// gauge is due. The drift filter keeps one per feature and group, the monitor filter one per
/// group for the error rate and one for latency.
public struct AlertLatch: Sendable {
    public private(set) var firing = false
    var sinceGauge = 0

    public init() {}

    /// A latch as saved in a state file.
    public init(firing: Bool, sinceGauge: Int) {
        self.firing = firing
        self.sinceGauge = sinceGauge
    }

    public var sinceGaugeCount: Int { sinceGauge }

    public func save(to w: inout StateWriter) {
        w.append(firing)
        w.append(sinceGauge)
    }

    public static func restore(from r: inout StateReader) throws -> AlertLatch {
        AlertLatch(firing: try r.bool(), sinceGauge: try r.int(in: 0...Int(Int32.max)))
    }

    /// What one value did to the alert.
    public struct Step: Sendable {
        /// The alert fired or resolved (`firing` tells which).
        public let changed: Bool
        /// Record the value on the alert's gauge: on a change, and every `gaugeInterval` values.
        public let recordsGauge: Bool
    }

    @inline(__always)
    public mutating func update(_ value: Double, threshold: Double, resolveBelow: Double, gaugeInterval: Int) -> Step {
        let now = firing ? value > resolveBelow : value > threshold
        if now != firing {
            firing = now
            sinceGauge = 0
            return Step(changed: true, recordsGauge: true)
        }
        sinceGauge += 1
        guard sinceGauge >= gaugeInterval else { return Step(changed: false, recordsGauge: false) }
        sinceGauge = 0
        return Step(changed: false, recordsGauge: true)
    }
}
