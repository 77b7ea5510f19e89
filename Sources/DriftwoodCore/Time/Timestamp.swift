#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An instant in UTC with millisecond precision: the value of an event's `@timestamp`.
///
/// Pure arithmetic on days since 1970 (proleptic Gregorian calendar), so parsing and formatting
/// need neither Foundation nor a time-zone database and cost no allocation on the hot path.
public struct Timestamp: Sendable, Hashable, Comparable {
    /// Milliseconds since 1970-01-01T00:00:00Z (negative before).
    public var epochMilliseconds: Int64

    /// The instant `unixMilliseconds` after the epoch.
    public init(unixMilliseconds: Int64) {
        epochMilliseconds = unixMilliseconds
    }

    /// The instant `epochMilliseconds` after the epoch (same as `init(unixMilliseconds:)`).
    public init(epochMilliseconds: Int64) {
        self.epochMilliseconds = epochMilliseconds
    }

    /// The instant `unixSeconds` after the epoch, rounded to the millisecond (`1795514400.123`);
    /// NaN becomes the epoch and infinities clamp to the representable range.
    public init(unixSeconds: Double) {
        let ms = (unixSeconds * 1000).rounded()
        if ms.isNaN {
            epochMilliseconds = 0
        } else if ms >= 9.2e18 {
            epochMilliseconds = .max
        } else if ms <= -9.2e18 {
            epochMilliseconds = .min
        } else {
            epochMilliseconds = Int64(ms)
        }
    }

    /// The instants an event time may take: years 0001 through 9999 in UTC, what RFC 3339 can
    /// write and Elasticsearch's `date` type reads. A parsed time outside is `_timestamp_failure`.
    public static let supportedRange: ClosedRange<Int64> = -62_135_596_800_000...253_402_300_799_999

    /// True when this instant is in `supportedRange`.
    public var isSupported: Bool { Timestamp.supportedRange.contains(epochMilliseconds) }

    /// The current wall-clock time.
    public static func now() -> Timestamp {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Timestamp(unixMilliseconds: Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000)
    }

    public static func < (a: Timestamp, b: Timestamp) -> Bool { a.epochMilliseconds < b.epochMilliseconds }

    /// RFC 3339 in UTC, always with milliseconds: `2026-11-24T10:00:00.123Z`.
    public var rfc3339: String {
        var out: [UInt8] = []
        out.reserveCapacity(24)
        appendRFC3339(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends `rfc3339` to `out`: a fixed 24-byte shape is appended and its digits filled in
    /// place, with no String, no formatter and no allocation beyond `out`'s growth (it is
    /// stamped on every stdin line and every batch).
    public func appendRFC3339(to out: inout [UInt8]) {
        let c = CivilTime(self)
        if (0...9999).contains(c.year) {
            let start = out.count
            out.append(contentsOf: CivilTime.rfc3339Template)
            out.withUnsafeMutableBufferPointer { buf in
                buf[start] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: c.year / 1000)
                buf[start + 1] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: c.year / 100 % 10)
                buf[start + 2] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: c.year / 10 % 10)
                buf[start + 3] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: c.year % 10)
            }
            Timestamp.fillTime(c, at: start + 4, in: &out)
        } else {
            // Years beyond four digits are not RFC 3339; write them out plainly rather than trap.
            Digits.append(c.year, width: 4, to: &out)
            let start = out.count
            out.append(contentsOf: CivilTime.rfc3339Template[4...])
            Timestamp.fillTime(c, at: start, in: &out)
        }
    }

    /// Writes `-MM-ddTHH:mm:ss.SSSZ` over the template bytes at `offset`.
    @inline(__always)
    static func fillTime(_ c: CivilTime, at offset: Int, in out: inout [UInt8]) {
        out.withUnsafeMutableBufferPointer { buf in
            func two(_ v: Int, _ i: Int) {
                buf[offset + i] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: v / 10)
                buf[offset + i + 1] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: v % 10)
            }
            two(c.month, 1)
            two(c.day, 4)
            two(c.hour, 7)
            two(c.minute, 10)
            two(c.second, 13)
            buf[offset + 16] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: c.millisecond / 100)
            two(c.millisecond % 100, 17)
        }
    }

    /// This instant written with `pattern` (in UTC).
    public func formatted(_ pattern: TimestampPattern) -> String { pattern.format(self) }

    /// Parses ISO 8601 / RFC 3339: `2026-11-24T10:00:00Z`, a fraction of any length (`.5`,
    /// `.123456789`; kept to the millisecond), an offset (`Z`, `+02:00`, `-0530`, `+02`), a space
    /// or `t` instead of `T`, seconds left out (`10:00`), or a date alone (`2026-11-24`, midnight).
    /// A time without an offset is read as UTC. Nil for anything else, or an impossible date.
    public init?(iso8601 bytes: some Collection<UInt8>) {
        let parsed =
            bytes.withContiguousStorageIfAvailable { Timestamp.parseISO8601($0) }
            ?? Array(bytes).withUnsafeBufferPointer { Timestamp.parseISO8601($0) }
        guard let parsed else { return nil }
        self = parsed
    }

    /// Convenience for `init?(iso8601:)` on a String.
    public init?(iso8601 string: String) {
        self.init(iso8601: string.utf8)
    }

    static func parseISO8601(_ p: UnsafeBufferPointer<UInt8>) -> Timestamp? {
        var scan = DigitScanner(p)
        guard let year = scan.fixed(4), scan.skip(UInt8(ascii: "-")), let month = scan.fixed(2),
            scan.skip(UInt8(ascii: "-")), let day = scan.fixed(2)
        else { return nil }
        var c = CivilTime(year: year, month: month, day: day)
        if !scan.atEnd {
            guard let sep = scan.next(),
                sep == UInt8(ascii: "T") || sep == UInt8(ascii: "t") || sep == UInt8(ascii: " "),
                let hour = scan.fixed(2), scan.skip(UInt8(ascii: ":")), let minute = scan.fixed(2)
            else { return nil }
            c.hour = hour
            c.minute = minute
            if scan.skip(UInt8(ascii: ":")) {
                guard let second = scan.fixed(2) else { return nil }
                c.second = second
                if scan.skip(UInt8(ascii: ".")) || scan.skip(UInt8(ascii: ",")) {
                    guard let ms = scan.fraction(maxDigits: Int.max) else { return nil }
                    c.millisecond = ms
                }
            }
            if !scan.atEnd {
                guard let offset = scan.zoneOffset(), scan.atEnd else { return nil }
                c.offsetMinutes = offset
            }
        }
        return c.timestamp
    }
}

/// A broken-down UTC time; the bridge between `Timestamp` and text.
struct CivilTime {
    /// `yyyy-MM-ddTHH:mm:ss.SSSZ` with the digits still to fill in.
    static let rfc3339Template: [UInt8] = Array("0000-00-00T00:00:00.000Z".utf8)

    var year: Int
    var month: Int
    var day: Int
    var hour = 0
    var minute = 0
    var second = 0
    var millisecond = 0
    /// The offset from UTC the fields were written in (parsing only); subtracted to get UTC.
    var offsetMinutes = 0

    init(year: Int, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    init(_ t: Timestamp) {
        // Floor division so that instants before 1970 land in the right day and second.
        let ms = t.epochMilliseconds
        var days = ms / 86_400_000
        var rest = ms % 86_400_000
        if rest < 0 {
            rest += 86_400_000
            days -= 1
        }
        (year, month, day) = CivilTime.civil(fromDays: days)
        let r = Int(rest)
        hour = r / 3_600_000
        minute = r / 60_000 % 60
        second = r / 1000 % 60
        millisecond = r % 1000
    }

    /// The instant, or nil when a field is out of range (Feb 30, hour 24, minute 60 …) or the
    /// instant is outside years 0001–9999 in UTC (`Timestamp.supportedRange`). A leap second
    /// (`:60`) is accepted and lands on the next minute's first second.
    var timestamp: Timestamp? {
        guard (1...12).contains(month), day >= 1, day <= CivilTime.daysIn(month: month, year: year),
            (0...23).contains(hour), (0...59).contains(minute), (0...60).contains(second),
            (0...999).contains(millisecond)
        else { return nil }
        // Keep the day arithmetic far from overflow, whatever year the text held.
        guard (-1_000_000...1_000_000).contains(year) else { return nil }
        let days = CivilTime.days(fromCivil: year, month, day)
        let seconds = days * 86_400 + Int64(hour * 3600 + minute * 60 + second - offsetMinutes * 60)
        let t = Timestamp(unixMilliseconds: seconds * 1000 + Int64(millisecond))
        return t.isSupported ? t : nil
    }

    static func isLeap(_ y: Int) -> Bool { y % 4 == 0 && (y % 100 != 0 || y % 400 == 0) }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
    static func days(fromCivil year: Int, _ month: Int, _ day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let m = Int64(month)
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The date `days` after 1970-01-01 (Hinnant's `civil_from_days`).
    static func civil(fromDays days: Int64) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (Int(yoe + era * 400 + (m <= 2 ? 1 : 0)), Int(m), Int(d))
    }
}

/// Zero-padded decimal digits straight into a byte buffer.
enum Digits {
    @inline(__always)
    static func append(_ value: Int, width: Int, to out: inout [UInt8]) {
        var v = value
        if v < 0 {
            out.append(UInt8(ascii: "-"))
            v = -v
        }
        // Most significant digit first by division: no temporary buffer, no String.
        var divisor = 1
        var digits = 1
        while digits < width || divisor <= v / 10 {
            divisor *= 10
            digits += 1
        }
        while divisor > 0 {
            out.append(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: v / divisor % 10))
            divisor /= 10
        }
    }
}

/// A cursor over bytes for the fixed-width numeric fields of dates.
struct DigitScanner {
    let p: UnsafeBufferPointer<UInt8>
    var i = 0

    init(_ p: UnsafeBufferPointer<UInt8>) { self.p = p }

    var atEnd: Bool { i >= p.count }

    mutating func next() -> UInt8? {
        guard i < p.count else { return nil }
        defer { i += 1 }
        return p[i]
    }

    mutating func skip(_ byte: UInt8) -> Bool {
        guard i < p.count, p[i] == byte else { return false }
        i += 1
        return true
    }

    /// Exactly `count` digits.
    mutating func fixed(_ count: Int) -> Int? { digits(min: count, max: count) }

    /// Between `min` and `max` digits, as many as there are; on failure nothing is consumed.
    mutating func digits(min: Int, max: Int) -> Int? {
        let start = i
        var v = 0
        var n = 0
        while n < max, i < p.count, p[i] &- UInt8(ascii: "0") < 10 {
            v = v * 10 + Int(p[i] &- UInt8(ascii: "0"))
            i += 1
            n += 1
        }
        guard n >= min else {
            i = start
            return nil
        }
        return v
    }

    /// A decimal fraction of 1 to `maxDigits` digits, in milliseconds (truncated, not rounded,
    /// so `.9999` stays in the same second).
    mutating func fraction(maxDigits: Int) -> Int? {
        var ms = 0
        var n = 0
        while n < maxDigits, i < p.count, p[i] &- UInt8(ascii: "0") < 10 {
            if n < 3 { ms = ms * 10 + Int(p[i] &- UInt8(ascii: "0")) }
            i += 1
            n += 1
        }
        guard n > 0 else { return nil }
        while n < 3 {
            ms *= 10
            n += 1
        }
        return ms
    }

    /// `Z`, `+HH:MM`, `+HHMM` or `+HH` (and `-`): minutes east of UTC.
    mutating func zoneOffset() -> Int? {
        guard let sign = next() else { return nil }
        if sign == UInt8(ascii: "Z") || sign == UInt8(ascii: "z") { return 0 }
        guard sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-"), let hours = fixed(2), hours <= 23 else {
            return nil
        }
        var minutes = 0
        if skip(UInt8(ascii: ":")) {
            guard let m = fixed(2) else { return nil }
            minutes = m
        } else if !atEnd, let m = fixed(2) {
            minutes = m
        }
        guard minutes <= 59 else { return nil }
        let offset = hours * 60 + minutes
        return sign == UInt8(ascii: "-") ? -offset : offset
    }
}
