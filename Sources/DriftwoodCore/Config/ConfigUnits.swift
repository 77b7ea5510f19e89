/// Durations and sizes as users write them in pipeline files.
public enum ConfigUnits {
    /// `250ms`, `1s`, `1.5s`, `5m`, `1h`; nil for anything else (a bare number has no unit).
    public static func duration(_ text: String) -> Duration? {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        for (suffix, seconds) in units where text.hasSuffix(suffix) {
            let number = text.dropLast(suffix.count)
            // "5ms" must not be read as "5m" + "s": only accept a plain number before the unit.
            guard !number.isEmpty, number.allSatisfy({ $0.isNumber || $0 == "." }), let v = Double(number),
                v.isFinite, v >= 0
            else { continue }
            return .milliseconds(Int64((v * seconds * 1000).rounded()))
        }
        return nil
    }

    /// `512KiB`, `10MiB`, `1GiB`, `100MB`, `2048` (bytes); nil for anything else.
    public static func size(_ text: String) -> Int? {
        let units: [(String, Double)] = [
            ("KiB", 1024), ("MiB", 1_048_576), ("GiB", 1_073_741_824),
            ("KB", 1000), ("MB", 1_000_000), ("GB", 1_000_000_000), ("B", 1), ("", 1),
        ]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            let number = text.dropLast(suffix.count).trimmingSpaces
            guard !number.isEmpty, number.allSatisfy({ $0.isNumber || $0 == "." }), let v = Double(number),
                v.isFinite, v >= 0, v * factor < 1e15
            else { continue }
            return Int(v * factor)
        }
        return nil
    }

    /// Formats a duration the way a user would write it (for messages and the README).
    public static func describe(_ d: Duration) -> String {
        let ms = d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000
        if ms % 3_600_000 == 0 && ms > 0 { return "\(ms / 3_600_000)h" }
        if ms % 60_000 == 0 && ms > 0 { return "\(ms / 60_000)m" }
        if ms % 1000 == 0 { return "\(ms / 1000)s" }
        return "\(ms)ms"
    }
}

extension Duration {
    /// Seconds as a floating-point number.
    public var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}

extension Substring {
    var trimmingSpaces: Substring {
        var s = self
        while s.last == " " { s = s.dropLast() }
        while s.first == " " { s = s.dropFirst() }
        return s
    }
}
