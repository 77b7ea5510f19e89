import Testing

@testable import DriftwoodCore

@Suite struct TimestampTests {
    // Epoch values below were computed with Python's datetime (timezone-aware, UTC).

    @Test func knownEpochValue() {
        let t = Timestamp(iso8601: "2026-11-24T10:00:00.123Z")
        #expect(t?.epochMilliseconds == 1_795_514_400_123)
        #expect(Timestamp(unixMilliseconds: 1_795_514_400_123).rfc3339 == "2026-11-24T10:00:00.123Z")
    }

    @Test func rfc3339AlwaysHasMillisecondsAndZ() {
        #expect(Timestamp(unixMilliseconds: 0).rfc3339 == "1970-01-01T00:00:00.000Z")
        #expect(Timestamp(unixMilliseconds: 1_795_514_400_000).rfc3339 == "2026-11-24T10:00:00.000Z")
        var out = Array("@".utf8)
        Timestamp(unixMilliseconds: 1_795_514_400_123).appendRFC3339(to: &out)
        #expect(String(decoding: out, as: UTF8.self) == "@2026-11-24T10:00:00.123Z")
    }

    @Test func beforeTheEpochFloorsToTheRightSecond() {
        #expect(Timestamp(unixMilliseconds: -500).rfc3339 == "1969-12-31T23:59:59.500Z")
        #expect(Timestamp(iso8601: "1969-12-31T23:59:59.5Z")?.epochMilliseconds == -500)
        #expect(Timestamp(iso8601: "1900-03-01")?.epochMilliseconds == -2_203_891_200_000)
    }

    @Test func extremeYearsFormatWithoutTrapping() {
        #expect(Timestamp(iso8601: "9999-12-31T23:59:59.999Z")?.epochMilliseconds == 253_402_300_799_999)
        #expect(Timestamp(unixMilliseconds: 253_402_300_800_000).rfc3339 == "10000-01-01T00:00:00.000Z")
        #expect(Timestamp(iso8601: "0001-01-01")?.epochMilliseconds == -62_135_596_800_000)
        #expect(Timestamp(unixMilliseconds: -62_135_596_800_000).rfc3339 == "0001-01-01T00:00:00.000Z")
        #expect(Timestamp(unixMilliseconds: .min).rfc3339.hasSuffix("Z"))
    }

    @Test func onlyYearsOneThroughNineThousandNineHundredNinetyNineParse() throws {
        #expect(Timestamp(iso8601: "0000-12-31T23:59:59Z") == nil)
        #expect(Timestamp(iso8601: "0001-01-01T00:00:00+01:00") == nil)  // 0000-12-31 in UTC
        #expect(Timestamp(iso8601: "9999-12-31T23:30:00-01:00") == nil)  // 10000-01-01 in UTC
        #expect(Timestamp(iso8601: "9999-12-31T23:30:00+01:00") != nil)
        let pattern = try TimestampPattern("yyyy-MM-dd HH:mm:ss")
        #expect(pattern.parse("0000-06-01 00:00:00") == nil)
        #expect(pattern.parse("9999-06-01 00:00:00") != nil)
        #expect(Timestamp(unixMilliseconds: 253_402_300_799_999).isSupported)
        #expect(!Timestamp(unixMilliseconds: 253_402_300_800_000).isSupported)
        #expect(Timestamp(unixMilliseconds: -62_135_596_800_000).isSupported)
        #expect(!Timestamp(unixMilliseconds: -62_135_596_800_001).isSupported)
        #expect(!Timestamp(unixSeconds: 1e20).isSupported)
    }

    @Test(arguments: [
        ("2026-11-24T12:00:00+02:00", Int64(1_795_514_400_000)),
        ("2026-11-24T04:30:00-0530", 1_795_514_400_000),
        ("2026-11-24T04:30:00-05:30", 1_795_514_400_000),
        ("2026-11-24T12:00:00+02", 1_795_514_400_000),
        ("2026-11-24 10:00:00Z", 1_795_514_400_000),
        ("2026-11-24t10:00:00z", 1_795_514_400_000),
        ("2026-11-24T10:00:00", 1_795_514_400_000),
        ("2026-11-24T10:00Z", 1_795_514_400_000),
        ("2026-11-24T10:00:00.1Z", 1_795_514_400_100),
        ("2026-11-24T10:00:00.12Z", 1_795_514_400_120),
        ("2026-11-24T10:00:00.123456789Z", 1_795_514_400_123),
        ("2026-11-24T10:00:00,999+00:00", 1_795_514_400_999),
        ("2026-11-24", 1_795_478_400_000),
    ])
    func parsesISO8601Variants(text: String, millis: Int64) {
        #expect(Timestamp(iso8601: text)?.epochMilliseconds == millis)
    }

    @Test(arguments: [
        "", "2026", "2026-11", "2026-13-01", "2026-11-31", "2026-02-29T00:00:00Z", "2026-11-24T24:00:00Z",
        "2026-11-24T10:60:00Z", "2026-11-24T10:00:00.Z", "2026-11-24T10:00:00+2", "2026-11-24T10:00:00+021",
        "2026-11-24T10:00:00Zjunk", "2026-11-24X10:00:00Z", "26-11-24", "2026-11-24T10:00:00+25:00", "hello",
    ])
    func rejectsMalformedOrImpossible(text: String) {
        #expect(Timestamp(iso8601: text) == nil)
    }

    @Test func leapYears() {
        #expect(Timestamp(iso8601: "2024-02-29T23:59:59.999Z")?.epochMilliseconds == 1_709_251_199_999)
        #expect(Timestamp(iso8601: "2000-02-29") != nil)  // divisible by 400
        #expect(Timestamp(iso8601: "1900-02-29") == nil)  // divisible by 100 only
        #expect(Timestamp(iso8601: "2100-02-29") == nil)
        #expect(Timestamp(iso8601: "2100-02-28")?.epochMilliseconds == 4_107_456_000_000)
        #expect(Timestamp(iso8601: "2000-03-01")?.epochMilliseconds == 951_868_800_000)
        // The day after Feb 29 is Mar 1, formatted back.
        #expect(Timestamp(unixMilliseconds: 1_709_251_199_999 + 1).rfc3339 == "2024-03-01T00:00:00.000Z")
    }

    @Test func roundTripsEveryDayForCenturies() {
        // Civil <-> days must agree on every day, not just the samples above.
        var t = Timestamp(iso8601: "1899-12-25T13:14:15.678Z")!
        let end = Timestamp(iso8601: "2101-01-05")!
        var checked = 0
        while t < end {
            #expect(Timestamp(iso8601: t.rfc3339) == t)
            t.epochMilliseconds += 86_400_000
            checked += 1
        }
        #expect(checked > 73_000)
    }

    @Test func unixSecondsRoundsToTheMillisecond() {
        #expect(Timestamp(unixSeconds: 1_795_514_400.123).epochMilliseconds == 1_795_514_400_123)
        #expect(Timestamp(unixSeconds: -1.5).epochMilliseconds == -1500)
        #expect(Timestamp(unixSeconds: .nan).epochMilliseconds == 0)
        #expect(Timestamp(unixSeconds: .infinity).epochMilliseconds == .max)
    }

    @Test func nowIsRecentAndOrdered() {
        let a = Timestamp.now()
        let b = Timestamp.now()
        #expect(a.epochMilliseconds > Timestamp(iso8601: "2024-01-01")!.epochMilliseconds)
        #expect(a <= b)
    }

    @Test func patternWithQuotedLiterals() throws {
        let p = try TimestampPattern("yyyy-MM-dd'T'HH:mm:ss.SSS")
        #expect(p.parse("2026-11-24T10:00:00.123")?.epochMilliseconds == 1_795_514_400_123)
        #expect(p.format(Timestamp(unixMilliseconds: 1_795_514_400_123)) == "2026-11-24T10:00:00.123")
        let q = try TimestampPattern("'day' dd 'of' MM, ''yyyy'' 'o''clock'")
        #expect(q.format(Timestamp(unixMilliseconds: 1_795_514_400_123)) == "day 24 of 11, '2026' o'clock")
        #expect(q.parse("day 24 of 11, '2026' o'clock")?.rfc3339 == "2026-11-24T00:00:00.000Z")
    }

    @Test func patternParsing() throws {
        let p = try TimestampPattern("yyyy-MM-dd HH:mm:ss.SSS")
        #expect(p.parse("2026-11-24 10:00:00.123")?.epochMilliseconds == 1_795_514_400_123)
        // A fraction may have 1 to 9 digits whatever the number of S.
        #expect(p.parse("2026-11-24 10:00:00.1")?.epochMilliseconds == 1_795_514_400_100)
        #expect(p.parse("2026-11-24 10:00:00.123456789")?.epochMilliseconds == 1_795_514_400_123)
        #expect(p.parse("2026-11-24 10:00:00.1234567890") == nil)
        #expect(p.parse("2026-11-24 10:00:00") == nil)  // missing fraction
        #expect(p.parse("2026-11-24 10:00:00.123 extra") == nil)
        #expect(p.parse("2026-02-30 10:00:00.000") == nil)
        // Single-digit month and day are read (Joda reads 1-2 digits for MM and dd).
        #expect(try TimestampPattern("yyyy-MM-dd").parse("2026-1-5")?.rfc3339 == "2026-01-05T00:00:00.000Z")
        // Adjacent fixed-width fields.
        #expect(try TimestampPattern("yyyyMMddHHmmss").parse("20261124100000")?.epochMilliseconds == 1_795_514_400_000)
    }

    @Test func patternWithZonesAndMonthNames() throws {
        let apache = try TimestampPattern("dd/MMM/yyyy:HH:mm:ss Z")
        #expect(apache.parse("24/Nov/2026:12:00:00 +0200")?.epochMilliseconds == 1_795_514_400_000)
        #expect(apache.parse("24/nov/2026:10:00:00 -0000")?.epochMilliseconds == 1_795_514_400_000)
        #expect(apache.parse("24/Nox/2026:10:00:00 +0000") == nil)
        #expect(apache.format(Timestamp(unixMilliseconds: 1_795_514_400_000)) == "24/Nov/2026:10:00:00 +0000")
        let iso = try TimestampPattern("yyyy-MM-dd'T'HH:mm:ssXXX")
        #expect(iso.parse("2026-11-24T04:30:00-05:30")?.epochMilliseconds == 1_795_514_400_000)
        #expect(iso.format(Timestamp(unixMilliseconds: 1_795_514_400_000)) == "2026-11-24T10:00:00Z")
    }

    @Test func patternFormatsFractionsAndUnpaddedFields() throws {
        let t = Timestamp(iso8601: "2026-03-04T05:06:07.089Z")!
        #expect(try TimestampPattern("yyyy.MM.dd").format(t) == "2026.03.04")
        #expect(try TimestampPattern("M/d H:m:s").format(t) == "3/4 5:6:7")
        #expect(try TimestampPattern("S|SS|SSS|SSSSSS").format(t) == "0|08|089|089000")
        #expect(t.formatted(try TimestampPattern("HH'h'mm")) == "05h06")
    }

    @Test func patternErrorsNameTheColumn() {
        let hours = #expect(throws: TimestampPatternError.self) { try TimestampPattern("yyyy-MM-dd hh:mm") }
        #expect(hours?.column == 12)
        #expect(hours?.message.contains("'hh'") == true)
        let quote = #expect(throws: TimestampPatternError.self) { try TimestampPattern("yyyy'T") }
        #expect(quote?.column == 5)
        #expect(quote?.message.contains("quote") == true)
        #expect(throws: TimestampPatternError.self) { try TimestampPattern("yy-MM-dd") }
    }
}
