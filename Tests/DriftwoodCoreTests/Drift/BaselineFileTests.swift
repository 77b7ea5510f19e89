import Testing

@testable import DriftwoodCore

/// The baseline file format: what `driftwood baseline` writes reads back exactly, and every
/// broken file is refused with one sentence saying why.
@Suite struct BaselineFileTests {
    static let sample = Baseline(
        features: [
            FeatureBaseline(
                name: "features.amount",
                distribution: .numeric(
                    .init(
                        edges: [12.530000000000001, 20.44, 1e-7, 3e21].sorted(), probabilities: [0.1, 0.2, 0.3, 0.25, 0.15],
                        invalid: 2, mean: 101.25, std: 3.5, min: -1, max: 1e22)),
                count: 1000, missing: 3),
            FeatureBaseline(
                name: "country",
                distribution: .categorical(
                    .init(values: ["DE", "a \"quoted\" é", "true", "200"], probabilities: [0.4, 0.3, 0.1, 0.1], other: 0.1, distinct: 9)),
                count: 990, missing: 13),
        ], lines: 1003, bins: 5)

    @Test func writesThenReadsBackExactly() throws {
        let bytes = Self.sample.encoded(generator: "driftwood test")
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.hasPrefix("{\n  \"version\": 1,\n  \"created_by\": \"driftwood test\""))
        let back = try Baseline.decode(bytes)
        #expect(back.lines == 1003 && back.bins == 5)
        #expect(back.features.map(\.name) == ["features.amount", "country"])
        guard case .numeric(let n) = back.features[0].distribution, case .numeric(let m) = Self.sample.features[0].distribution
        else {
            Issue.record("numeric expected")
            return
        }
        #expect(n.edges == m.edges && n.probabilities == m.probabilities)
        #expect(n.mean == 101.25 && n.std == 3.5 && n.min == -1 && n.max == 1e22 && n.invalid == 2)
        #expect(back.features[0].count == 1000 && back.features[0].missing == 3)
        guard case .categorical(let c) = back.features[1].distribution else {
            Issue.record("categorical expected")
            return
        }
        #expect(c.values == ["DE", "a \"quoted\" é", "true", "200"])
        #expect(c.probabilities == [0.4, 0.3, 0.1, 0.1] && c.other == 0.1 && c.distinct == 9)
        #expect(back.features[1].expected == [0.4, 0.3, 0.1, 0.1, 0.1])
    }

    @Test(arguments: [
        ("", "the file is empty"),
        ("  \n\t\n", "the file is empty"),
        ("{\"version\": 1, \"features\": {", "not valid JSON"),
        ("[1, 2]", "expected a JSON object"),
        ("{\"features\": {}}", "no \"version\""),
        ("{\"version\": 2, \"features\": {}}", "version 2 is not supported"),
        ("{\"version\": 1}", "no \"features\" object"),
        ("{\"version\": 1, \"features\": {}}", "\"features\" is empty"),
        ("{\"version\": 1, \"features\": {\"x\": 3}}", "feature 'x': expected an object"),
        ("{\"version\": 1, \"features\": {\"x\": {\"type\": \"fuzzy\"}}}", "type 'fuzzy' is not numeric or categorical"),
        (
            "{\"version\": 1, \"features\": {\"x\": {\"type\": \"numeric\", \"edges\": [2, 1], \"probabilities\": [0.5, 0.25, 0.25]}}}",
            "edges must be strictly increasing"
        ),
        (
            "{\"version\": 1, \"features\": {\"x\": {\"type\": \"numeric\", \"edges\": [1], \"probabilities\": [1]}}}",
            "1 edges make 2 bins, but there are 1 probabilities"
        ),
        (
            "{\"version\": 1, \"features\": {\"x\": {\"type\": \"numeric\", \"edges\": [1], \"probabilities\": [0.5, 0.2]}}}",
            "probabilities add up to 0.7"
        ),
        (
            "{\"version\": 1, \"features\": {\"x\": {\"type\": \"categorical\", \"probabilities\": {\"__other__\": 1}}}}",
            "no values"
        ),
    ])
    func brokenFilesAreRefusedWithAReason(text: String, reason: String) {
        do {
            _ = try Baseline.decode(Array(text.utf8))
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.message.contains(reason), "\(error.message)")
        }
    }
}

/// Putting event values into bins.
@Suite struct FeatureBinnerTests {
    static func value(_ json: String) -> JSONValue { JSONValue(json: json)! }

    @Test func numericValues() {
        let binner = FeatureBinner(
            FeatureBaseline(name: "x", distribution: .numeric(.init(edges: [0, 10], probabilities: [0.2, 0.5, 0.3]))))
        #expect(binner.binCount == 3)
        #expect(binner.place(Self.value("-3")) == .bin(0))
        #expect(binner.place(Self.value("0")) == .bin(0))
        #expect(binner.place(Self.value("0.5")) == .bin(1))
        #expect(binner.place(Self.value("10.0")) == .bin(1))
        #expect(binner.place(Self.value("1e3")) == .bin(2))
        #expect(binner.place(Self.value("\"7\"")) == .invalid)
        #expect(binner.place(Self.value("true")) == .invalid)
        #expect(binner.place(Self.value("[1]")) == .invalid)
        #expect(binner.place(Self.value("null")) == .missing)
        #expect(binner.place(nil) == .missing)
    }

    @Test func categoricalValuesAndOther() {
        let binner = FeatureBinner(
            FeatureBaseline(
                name: "c",
                distribution: .categorical(
                    .init(values: ["DE", "a\"b", "true", "200", "é"], probabilities: [0.2, 0.2, 0.2, 0.2, 0.1], other: 0.1))))
        #expect(binner.binCount == 6)
        #expect(binner.place(Self.value("\"DE\"")) == .bin(0))
        #expect(binner.place(JSONValue(string: "DE")) == .bin(0))  // raw text member
        #expect(binner.place(Self.value(#""a\"b""#)) == .bin(1))
        #expect(binner.place(Self.value("true")) == .bin(2))
        #expect(binner.place(Self.value("200")) == .bin(3))
        #expect(binner.place(Self.value("200.0")) == .bin(3))
        #expect(binner.place(Self.value("\"200\"")) == .bin(3))
        #expect(binner.place(Self.value(#""\u00e9""#)) == .bin(4))
        #expect(binner.place(Self.value("\"FR\"")) == .bin(5))
        #expect(binner.place(Self.value("false")) == .bin(5))
        #expect(binner.place(Self.value("3.5")) == .bin(5))
        #expect(binner.place(Self.value("null")) == .missing)
    }

    @Test func numbersParseExactly() {
        for text in ["0", "-0.5", "123.456", "0.1", "1e-7", "2.5E+3", "12345678901234567890", "0.30000000000000004", "-17"] {
            #expect(Self.value(text).fastNumber == Double(text), "\(text)")
        }
        #expect(Self.value("\"1\"").fastNumber == nil)
    }
}

/// Alerts as events.
@Suite struct AlertTests {
    @Test func alertEventHoldsOnlyItsOwnFields() throws {
        let alert = Alert(
            type: "MODEL_DRIFT_DETECTED", state: .firing, feature: "features.amount", metric: "psi", value: 0.3125,
            threshold: 0.2, window: 1000, group: "fraud-detector", message: "psi drift 0.3125 on features.amount exceeds 0.2")
        let trigger = Origin(source: 7, position: 42, contentHash: 9)
        let event = alert.event(
            timestamp: JSONValue(json: "\"2026-11-24T10:00:00.000Z\""), origin: trigger, stage: "drift_1", hostName: "h1")
        #expect(
            event.fields.json
                == #"{"@timestamp":"2026-11-24T10:00:00.000Z","event":{"kind":"alert"},"message":"psi drift 0.3125 on features.amount exceeds 0.2","alert":{"type":"MODEL_DRIFT_DETECTED","state":"firing","feature":"features.amount","metric":"psi","value":0.3125,"threshold":0.2,"window":1000,"group":"fraud-detector"},"host":{"name":"h1"}}"#
        )
        #expect(event.origin.source == 7 && event.origin.position == 42 && event.origin.contentHash == 9)
        #expect(event.origin.derived != 0)
        var resolved = alert
        resolved.state = .resolved
        let other = resolved.event(timestamp: nil, origin: trigger, stage: "drift_1", hostName: "h1")
        #expect(other.origin.derived != event.origin.derived)
        #expect(other.origin.fingerprint != event.origin.fingerprint)
        // The same alert from the same trigger: the same id (a replay makes no duplicate).
        let again = alert.event(timestamp: nil, origin: trigger, stage: "drift_1", hostName: "h1")
        #expect(again.origin.fingerprint == event.origin.fingerprint)
        #expect(other.fields.keys == ["@timestamp", "event", "message", "alert", "host"])
    }

    @Test func scoresAreWrittenToTenDecimals() {
        func text(_ d: Double, _ decimals: Int = 10) -> String { ScoreText.text(d, decimals: decimals) }
        #expect(text(0.31) == "0.31")
        #expect(text(0) == "0")
        #expect(text(-0.0000000000001) == "0")
        #expect(text(1.5e-7) == "0.00000015")
        #expect(text(0.123456789012345) == "0.123456789")
        #expect(text(0.123456789012345, 12) == "0.123456789012")
        #expect(text(12.00000000001) == "12")
        #expect(text(12.000000001) == "12.000000001")
        #expect(text(-2.25) == "-2.25")
        #expect(text(0.20744, 4) == "0.2074")
        #expect(text(.nan) == "null")
        #expect(text(1e20) == "1e+20")  // beyond 2^53: the shortest form
    }
}
