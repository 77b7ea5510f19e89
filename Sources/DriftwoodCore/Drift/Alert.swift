/// An alert raised by the `drift`, `monitor` or `evaluate` filter, and the event that carries it (docs/model-monitoring.md):
/// `@timestamp`, `event.kind: alert`, `message`, `alert.*` and `host.name`, nothing else, so it
/// never clashes with the mapping of the model's own fields in the same index.
public struct Alert: Sendable, Equatable {
    public enum State: String, Sendable {
        /// The value went over the threshold.
        case firing
        /// The value went back to the threshold or under it.
        case resolved
    }

    /// `MODEL_DRIFT_DETECTED`, `HIGH_ERROR_RATE`, `HIGH_LATENCY`, `MODEL_PERFORMANCE_DEGRADED`,
    /// `FAIRNESS_VIOLATION`.
    public var type: String
    public var state: State
    /// The field the value is about (a feature, the latency field); nil for the error rate.
    public var feature: String?
    /// `psi`, `kl`, `js`, `error_rate`, `latency_mean`, `latency_p95`, `latency_p99`.
    public var metric: String
    public var value: Double
    public var threshold: Double
    /// The window size, in events.
    public var window: Int
    /// The `group_by` value; nil without `group_by`.
    public var group: String?
    /// The sensitive attribute of a `FAIRNESS_VIOLATION` (`evaluate`); nil otherwise.
    public var attribute: String?
    /// One readable sentence.
    public var message: String

    public init(
        type: String, state: State, feature: String?, metric: String, value: Double, threshold: Double, window: Int,
        group: String?, attribute: String? = nil, message: String
    ) {
        self.type = type
        self.state = state
        self.feature = feature
        self.metric = metric
        self.value = value
        self.threshold = threshold
        self.window = window
        self.group = group
        self.attribute = attribute
        self.message = message
    }

    static let alertPath = FieldPath("alert")!

    /// The alert as an event that follows its trigger.
    /// - Parameters:
    ///   - timestamp: the trigger's `@timestamp` (JSON), so a replayed log's alerts carry the log's time.
    ///   - origin: the trigger's origin; the alert's `derived` part is a stable hash of what the
    ///     alert is about, so a re-run makes the same fingerprint id and never a second document.
    ///   - stage: the id of the filter that raised it.
    public func event(timestamp: JSONValue?, origin: Origin, stage: String, hostName: String) -> Event {
        var fields = DerivedEvent.start(
            timestamp: timestamp, event: Array(#"{"kind":"alert"}"#.utf8), message: message, capacity: 512)
        var json: [UInt8] = []
        json += Array(#"{"type":"#.utf8)
        JSONWriter.appendString(type, to: &json)
        json += Array(#","state":"#.utf8)
        JSONWriter.appendString(state.rawValue, to: &json)
        if let feature {
            json += Array(#","feature":"#.utf8)
            JSONWriter.appendString(feature, to: &json)
        }
        json += Array(#","metric":"#.utf8)
        JSONWriter.appendString(metric, to: &json)
        json += Array(#","value":"#.utf8)
        ScoreText.append(value, to: &json)
        json += Array(#","threshold":"#.utf8)
        JSONWriter.appendNumber(threshold, to: &json)
        json += Array(#","window":"#.utf8)
        JSONWriter.appendInteger(Int64(window), to: &json)
        if let group {
            json += Array(#","group":"#.utf8)
            JSONWriter.appendString(group, to: &json)
        }
        if let attribute {
            json += Array(#","attribute":"#.utf8)
            JSONWriter.appendString(attribute, to: &json)
        }
        json.append(UInt8(ascii: "}"))
        fields.set(Self.alertPath, json: json)
        let identity = [stage, type, state.rawValue, feature ?? "", metric, group ?? ""] + (attribute.map { [$0] } ?? [])
        return DerivedEvent.finish(fields, hostName: hostName, origin: origin, identity: identity)
    }
}

/// Writing scores: fixed to 10 decimals (trailing zeros trimmed), far finer than any threshold
/// and than the 1e-9 agreement with numpy, and without the allocation of a Double's description.
public enum ScoreText {
    /// The most bytes `write` produces.
    public static let maxLength = 24

    /// Appends `d` rounded to `decimals` (at most 15) places; `null` when not finite.
    @inline(__always)
    public static func append(_ d: Double, decimals: Int = 10, to out: inout [UInt8]) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: maxLength) { buf in
            let n = write(d, decimals: decimals, to: buf.baseAddress!)
            out.append(contentsOf: UnsafeBufferPointer(start: buf.baseAddress!, count: n))
        }
    }

    /// Writes `d` rounded to `decimals` (at most 15) places at `out` (room for `maxLength`
    /// bytes); returns the number of bytes written. `null` when not finite.
    @inline(__always)
    public static func write(_ d: Double, decimals: Int = 10, to out: UnsafeMutablePointer<UInt8>) -> Int {
        let places = Swift.min(Swift.max(decimals, 0), 15)
        var factor = 1e10  // the default, without the loop
        var unit: UInt64 = 10_000_000_000
        if places != 10 {
            factor = 1
            unit = 1
            for _ in 0..<places {
                factor *= 10
                unit &*= 10
            }
        }
        let magnitude = abs(d) * factor
        guard d.isFinite, magnitude < 4.0e15 else {
            var text: [UInt8] = []
            if d.isFinite { JSONWriter.appendNumber(d, to: &text) } else { text = Array("null".utf8) }
            let n = Swift.min(text.count, maxLength)
            for i in 0..<n { out[i] = text[i] }
            return n
        }
        // Below 2^52, adding a half and truncating rounds exactly (half away from zero).
        let v = UInt64(magnitude + 0.5)
        let negative = d < 0 && v != 0
        var whole = v / unit
        var fraction = v % unit
        let pairs = Self.pairs.utf8Start
        // Right to left into a small buffer: the fraction's `places` digits two at a time, the
        // point, the whole part; then trailing zeros of the fraction (and a bare point) are dropped.
        var scratch: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        return withUnsafeMutableBytes(of: &scratch) { raw -> Int in
            let b = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
            let end = raw.count
            var i = end
            var left = places
            while left >= 2 {
                let pair = Int(fraction % 100)
                fraction /= 100
                i -= 2
                b[i] = pairs[2 * pair]
                b[i + 1] = pairs[2 * pair + 1]
                left -= 2
            }
            if left == 1 {
                i -= 1
                b[i] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: fraction)
            }
            var last = end
            if places > 0 {
                while last > i && b[last - 1] == UInt8(ascii: "0") { last -= 1 }
                i -= 1
                b[i] = UInt8(ascii: ".")
                if last == i + 1 { last = i }  // no fraction left: no point either
            }
            repeat {
                i -= 1
                b[i] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: whole % 10)
                whole /= 10
            } while whole > 0
            if negative {
                i -= 1
                b[i] = UInt8(ascii: "-")
            }
            let n = last - i
            out.update(from: b + i, count: n)
            return n
        }
    }

    /// "00", "01", … "99" back to back.
    static let pairs: StaticString =
        "00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899"

    /// `d` as text with `decimals` places at most, for messages.
    public static func text(_ d: Double, decimals: Int = 4) -> String {
        var out: [UInt8] = []
        append(d, decimals: decimals, to: &out)
        return String(decoding: out, as: UTF8.self)
    }
}

extension JSONValue {
    /// Calls `body` with the bytes that name this value as a group or category: a string's
    /// decoded content, anything else's JSON text. Builds no String for plain strings.
    @inline(__always)
    public func withKeyBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        if let r = withStringBytes(body) { return r }
        return storage.withUnsafeBufferPointer { body(UnsafeBufferPointer(rebasing: $0[range])) }
    }
}

extension Alert {
    /// Appends the trigger, then right after it an alert event for each of `alerts` (which is
    /// emptied, capacity kept): the order docs/model-monitoring.md describes for, shared by `drift` and `monitor`.
    public static func emit(
        _ alerts: inout [Alert], after trigger: consuming Event, into out: inout [Event], stage: String,
        hostName: String
    ) {
        if alerts.isEmpty {
            out.append(trigger)
            return
        }
        let timestamp = trigger.fields.value(at: .timestamp)
        let origin = trigger.origin
        out.append(trigger)
        for alert in alerts {
            out.append(alert.event(timestamp: timestamp, origin: origin, stage: stage, hostName: hostName))
            AlertLog.shared.record(alert, stage: stage)
        }
        alerts.removeAll(keepingCapacity: true)
    }
}
