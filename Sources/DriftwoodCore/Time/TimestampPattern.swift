/// A Java/Joda-style date pattern such as `yyyy-MM-dd'T'HH:mm:ss.SSS` or `dd/MMM/yyyy:HH:mm:ss Z`,
/// for `parse.timestamp.formats` and the `%{+…}` part of templates. Always UTC.
///
/// Tokens: `yyyy` year, `MM`/`M` month, `MMM` month abbreviation (`Nov`), `dd`/`d` day, `HH`/`H`
/// hour (0-23), `mm`/`m` minute, `ss`/`s` second, `S`…`SSSSSSSSS` fraction of a second, `Z`
/// (`+0000`), `ZZ` and `XXX` (`+00:00`), `X` (`Z` or `+00`). Other letters are errors, so a typo
/// is caught at startup; any other character, and text in single quotes (`'T'`, `''` for a
/// quote), is literal. Parsing reads 1–2 digits for two-letter fields, 1–9 for a fraction
/// whatever the number of `S`, and applies a parsed offset.
public struct TimestampPattern: Sendable, Hashable, CustomStringConvertible {
    /// One piece of a pattern.
    enum Element: Sendable, Hashable {
        case literal([UInt8])
        case year
        case month(width: Int)
        case monthName
        case day(width: Int)
        case hour(width: Int)
        case minute(width: Int)
        case second(width: Int)
        case fraction(digits: Int)
        /// `Z` → `+0000`, `ZZ`/`XXX`/`XX` → `+00:00`, `X` → `Z` when formatting UTC.
        case zone(colon: Bool, zulu: Bool)
    }

    /// The pattern as written.
    public let pattern: String
    let elements: [Element]

    public var description: String { pattern }

    /// Compiles `pattern`; throws for an unsupported letter or an unclosed quote.
    public init(_ pattern: String) throws(TimestampPatternError) {
        self.pattern = pattern
        elements = try TimestampPattern.compile(Array(pattern.utf8))
    }

    static let monthNames: [[UInt8]] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .map { Array($0.utf8) }

    static func compile(_ p: [UInt8]) throws(TimestampPatternError) -> [Element] {
        var elements: [Element] = []
        var literal: [UInt8] = []
        func flush() {
            if !literal.isEmpty { elements.append(.literal(literal)) }
            literal = []
        }
        var i = 0
        while i < p.count {
            let c = p[i]
            if c == UInt8(ascii: "'") {
                // '' is a quote; 'text' is literal text (Joda/Java rules).
                if i + 1 < p.count, p[i + 1] == c {
                    literal.append(c)
                    i += 2
                    continue
                }
                var j = i + 1
                while true {
                    guard j < p.count else {
                        throw TimestampPatternError(pattern: p, column: i + 1, message: "unclosed quote")
                    }
                    if p[j] == c {
                        if j + 1 < p.count, p[j + 1] == c {
                            literal.append(c)
                            j += 2
                            continue
                        }
                        break
                    }
                    literal.append(p[j])
                    j += 1
                }
                i = j + 1
                continue
            }
            let isLetter = (c | 0x20) >= UInt8(ascii: "a") && (c | 0x20) <= UInt8(ascii: "z")
            guard isLetter else {
                literal.append(c)
                i += 1
                continue
            }
            var n = 1
            while i + n < p.count, p[i + n] == c { n += 1 }
            let element: Element? =
                switch (c, n) {
                case (UInt8(ascii: "y"), 4): .year
                case (UInt8(ascii: "M"), 1...2): .month(width: n)
                case (UInt8(ascii: "M"), 3): .monthName
                case (UInt8(ascii: "d"), 1...2): .day(width: n)
                case (UInt8(ascii: "H"), 1...2): .hour(width: n)
                case (UInt8(ascii: "m"), 1...2): .minute(width: n)
                case (UInt8(ascii: "s"), 1...2): .second(width: n)
                case (UInt8(ascii: "S"), 1...9): .fraction(digits: n)
                case (UInt8(ascii: "Z"), 1): .zone(colon: false, zulu: false)
                case (UInt8(ascii: "Z"), 2): .zone(colon: true, zulu: false)
                case (UInt8(ascii: "X"), 1): .zone(colon: false, zulu: true)
                case (UInt8(ascii: "X"), 2...3): .zone(colon: true, zulu: true)
                default: nil
                }
            guard let element else {
                let token = String(decoding: p[i..<(i + n)], as: UTF8.self)
                throw TimestampPatternError(
                    pattern: p, column: i + 1,
                    message:
                        "unsupported token '\(token)' (use yyyy, MM, MMM, dd, HH, mm, ss, SSS, Z or XXX; "
                        + "quote literal text like 'T')"
                )
            }
            flush()
            elements.append(element)
            i += n
        }
        flush()
        return elements
    }

    // MARK: Formatting

    /// `t` written with this pattern, in UTC.
    public func format(_ t: Timestamp) -> String {
        var out: [UInt8] = []
        format(t, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends `t` written with this pattern, in UTC, to `out`.
    public func format(_ t: Timestamp, into out: inout [UInt8]) {
        let c = CivilTime(t)
        for element in elements {
            switch element {
            case .literal(let bytes): out.append(contentsOf: bytes)
            case .year: Digits.append(c.year, width: 4, to: &out)
            case .month(let width): Digits.append(c.month, width: width, to: &out)
            case .monthName: out.append(contentsOf: TimestampPattern.monthNames[c.month - 1])
            case .day(let width): Digits.append(c.day, width: width, to: &out)
            case .hour(let width): Digits.append(c.hour, width: width, to: &out)
            case .minute(let width): Digits.append(c.minute, width: width, to: &out)
            case .second(let width): Digits.append(c.second, width: width, to: &out)
            case .fraction(let digits):
                // Milliseconds are all a Timestamp holds: S is tenths, SS hundredths, more pads zeros.
                switch digits {
                case 1: Digits.append(c.millisecond / 100, width: 1, to: &out)
                case 2: Digits.append(c.millisecond / 10, width: 2, to: &out)
                default:
                    Digits.append(c.millisecond, width: 3, to: &out)
                    out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: digits - 3))
                }
            case .zone(let colon, let zulu):
                if zulu {
                    out.append(UInt8(ascii: "Z"))
                } else {
                    out.append(contentsOf: colon ? Array("+00:00".utf8) : Array("+0000".utf8))
                }
            }
        }
    }

    // MARK: Parsing

    /// The instant `s` denotes, or nil when it does not match the pattern in full or names an
    /// impossible date. Fields the pattern lacks default to 1970-01-01T00:00:00.000Z.
    public func parse(_ s: some Collection<UInt8>) -> Timestamp? {
        s.withContiguousStorageIfAvailable { parse(buffer: $0) }
            ?? Array(s).withUnsafeBufferPointer { parse(buffer: $0) }
    }

    /// Convenience for `parse(_:)` on a String.
    public func parse(_ s: String) -> Timestamp? { parse(s.utf8) }

    func parse(buffer: UnsafeBufferPointer<UInt8>) -> Timestamp? {
        var scan = DigitScanner(buffer)
        var c = CivilTime(year: 1970, month: 1, day: 1)
        for element in elements {
            switch element {
            case .literal(let bytes):
                for b in bytes {
                    guard scan.skip(b) else { return nil }
                }
            case .year:
                guard let v = scan.fixed(4) else { return nil }
                c.year = v
            case .month:
                guard let v = scan.digits(min: 1, max: 2) else { return nil }
                c.month = v
            case .monthName:
                guard let v = scan.monthName() else { return nil }
                c.month = v
            case .day:
                guard let v = scan.digits(min: 1, max: 2) else { return nil }
                c.day = v
            case .hour:
                guard let v = scan.digits(min: 1, max: 2) else { return nil }
                c.hour = v
            case .minute:
                guard let v = scan.digits(min: 1, max: 2) else { return nil }
                c.minute = v
            case .second:
                guard let v = scan.digits(min: 1, max: 2) else { return nil }
                c.second = v
            case .fraction:
                guard let v = scan.fraction(maxDigits: 9) else { return nil }
                c.millisecond = v
            case .zone:
                guard let v = scan.zoneOffset() else { return nil }
                c.offsetMinutes = v
            }
        }
        guard scan.atEnd else { return nil }
        return c.timestamp
    }
}

/// A date pattern that cannot be compiled.
public struct TimestampPatternError: Error, CustomStringConvertible, Sendable {
    /// The pattern as written.
    public let pattern: String
    /// 1-based column of the problem within the pattern.
    public let column: Int
    /// What is wrong.
    public let message: String

    init(pattern: [UInt8], column: Int, message: String) {
        self.pattern = String(decoding: pattern, as: UTF8.self)
        self.column = column
        self.message = message
    }

    public var description: String { "date pattern '\(pattern)', column \(column): \(message)" }
}

extension DigitScanner {
    /// An English month abbreviation, any case (`Nov`, `NOV`): 1…12.
    mutating func monthName() -> Int? {
        guard i + 3 <= p.count else { return nil }
        for (k, name) in TimestampPattern.monthNames.enumerated()
        where (p[i] | 0x20) == (name[0] | 0x20) && (p[i + 1] | 0x20) == name[1] && (p[i + 2] | 0x20) == name[2] {
            i += 3
            return k + 1
        }
        return nil
    }
}
