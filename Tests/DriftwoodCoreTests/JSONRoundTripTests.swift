import Foundation
import Testing
import TestSupport

@testable import DriftwoodCore

/// Writes one model-server log line (the shape of bench/gen_model_logs.py, plus adversarial
/// extras) twice: compact, and with random white space between tokens.
private struct LineWriter {
    var rng: SeededRandom
    var compact: [UInt8] = []
    var spaced: [UInt8] = []
    /// The decoded strings written under "note", in order, so lookups can be checked.
    var note = ""

    mutating func raw(_ s: String) {
        compact += s.utf8
        spaced += s.utf8
    }

    mutating func ws() {
        for _ in 0..<rng.below(3) { spaced.append(rng.pick([0x20, 0x20, 0x0A, 0x09, 0x0D])) }
    }

    /// Writes a JSON string with randomly chosen (valid) spellings; returns the decoded text.
    @discardableResult
    mutating func string(maxLength: Int = 24) -> String {
        var decoded = ""
        var text = "\""
        for _ in 0..<rng.below(maxLength + 1) {
            switch rng.below(12) {
            case 0:
                decoded += "\""
                text += "\\\""
            case 1:
                decoded += "\\"
                text += "\\\\"
            case 2:
                decoded += "/"
                text += rng.chance(50) ? "\\/" : "/"
            case 3:
                let c = UInt8(rng.below(0x20))
                decoded.unicodeScalars.append(Unicode.Scalar(c))
                let short: [UInt8: String] = [0x0A: "\\n", 0x09: "\\t", 0x0D: "\\r", 0x08: "\\b", 0x0C: "\\f"]
                if let s = short[c], rng.chance(50) {
                    text += s
                } else {
                    text += String(format: rng.chance(50) ? "\\u%04x" : "\\u%04X", UInt32(c))
                }
            case 4:
                let scalar = rng.pick(["\u{E9}", "\u{4E2D}", "\u{1F600}", "\u{2028}", "\u{7F}", "\u{FFFD}", "\u{10FFFF}"] as [Unicode.Scalar])
                decoded.unicodeScalars.append(scalar)
                if rng.chance(50) {
                    text.unicodeScalars.append(scalar)
                } else {
                    for unit in String(scalar).utf16 { text += String(format: rng.chance(50) ? "\\u%04x" : "\\u%04X", UInt32(unit)) }
                }
            default:
                let c = rng.pick(Array("abcdefghijklmnopqrstuvwxyz ABCXYZ0123456789-_.:{}[],'"))
                decoded.append(c)
                text.append(c)
            }
        }
        raw(text + "\"")
        return decoded
    }

    mutating func number() {
        switch rng.below(8) {
        case 0: raw(String(rng.below(1_000_000) - 500_000))
        case 1: raw(rng.pick(["0", "-0", "1.0", "1e5", "1E+5", "-2.5e-3", "0.000001", "1E400", "-1e-400", "0e0"]))
        case 2: raw("\(rng.below(100_000)).\(rng.below(100))")
        case 3: raw(String(rng.next()) + String(rng.next()))  // beyond 64 bits
        case 4: raw("\(rng.below(10)).\(rng.below(10_000))e\(rng.pick(["", "+", "-"]))\(rng.below(30))")
        default: raw(String(format: "%.\(rng.below(5))f", Double(rng.below(1_000_000)) / 97))
        }
    }

    mutating func value(depth: Int) {
        switch rng.below(depth > 2 ? 5 : 7) {
        case 0: string()
        case 1, 2: number()
        case 3: raw(rng.pick(["true", "false", "null"]))
        case 4: string(maxLength: 4)
        case 5:
            raw("[")
            for k in 0..<rng.below(4) {
                if k > 0 { ws(); raw(",") }
                ws(); value(depth: depth + 1); ws()
            }
            raw("]")
        default:
            raw("{")
            for k in 0..<rng.below(4) {
                if k > 0 { raw(",") }
                ws(); raw("\"k\(k)\""); ws(); raw(":"); ws(); value(depth: depth + 1); ws()
            }
            raw("}")
        }
    }

    mutating func member(_ key: String, _ body: (inout LineWriter) -> Void) {
        if compact.count > 1 { raw(",") }
        ws(); raw("\"\(key)\""); ws(); raw(":"); ws()
        body(&self)
        ws()
    }

    static let keys = ["ts", "level", "logger", "msg", "request_id", "model", "features", "prediction", "label",
        "latency_ms", "note", "extra"]

    mutating func line(_ n: Int) {
        raw("{")
        member("ts") { $0.raw(String(format: "\"2026-11-24T10:%02d:%02d.%03dZ\"", n / 60_000 % 60, n / 1000 % 60, n % 1000)) }
        member("level") { $0.raw($0.rng.chance(2) ? "\"ERROR\"" : "\"INFO\"") }
        member("logger") { $0.raw("\"model_server\"") }
        member("msg") { $0.raw("\"prediction\"") }
        member("request_id") { $0.raw(String(format: "\"%08x-%04x\"", UInt32(truncatingIfNeeded: $0.rng.next()), n & 0xFFFF)) }
        member("model") { $0.raw("\"" + $0.rng.pick(["fraud-detector", "churn-predictor", "spam-filter"]) + "\"") }
        member("features") { w in
            w.raw("{\"amount\":"); w.number()
            w.raw(",\"age\":\(18 + w.rng.below(72)),\"country\":"); w.string(maxLength: 3)
            w.raw(",\"channel\":\"web\"}")
        }
        member("prediction") { $0.raw(String(format: "%.4f", Double($0.rng.below(10_000)) / 10_000)) }
        member("label") { $0.raw("\"fraud\"") }
        member("latency_ms") { $0.number() }
        member("note") { $0.note = $0.string(maxLength: 40) }
        member("extra") { $0.value(depth: 0) }
        raw("}")
    }
}

@Suite("JSON round trips")
struct JSONRoundTripTests {
    static let lineCount = 20_000

    @Test func generatedLinesRoundTrip() throws {
        var writer = LineWriter(rng: SeededRandom(seed: 42))
        var escapedNotes = 0
        var foundationChecked = 0
        var failures = 0
        // `#expect` costs too much to run 200,000 times in a debug build; record only failures.
        func check(_ ok: Bool, _ what: @autoclosure () -> String = "", sourceLocation: SourceLocation = #_sourceLocation) {
            guard !ok else { return }
            failures += 1
            if failures <= 20 { Issue.record(Comment(rawValue: what()), sourceLocation: sourceLocation) }
        }
        for n in 0..<Self.lineCount {
            writer.compact.removeAll(keepingCapacity: true)
            writer.spaced.removeAll(keepingCapacity: true)
            writer.line(n)
            let line = writer.compact
            let text = String(decoding: line, as: UTF8.self)

            // The compactor keeps compact text byte for byte, and removes only the white space.
            check(try JSONCompactor.compact(line) == line, "line \(n): \(text)")
            check(try JSONCompactor.compact(writer.spaced) == line, "line \(n) spaced")
            var scratch: [UInt8] = []
            var spans: [MemberSpan] = []
            let placement = try line.withUnsafeBufferPointer { (buf) throws(JSONSyntaxError) in
                try JSONCompactor.validate(buf, scratch: &scratch, members: &spans)
            }
            check(placement == .inPlace && spans.count == LineWriter.keys.count)

            // Fields keeps the members and their text.
            let fields = try Fields(json: text)
            check(fields.json == text, "line \(n)")
            check(fields.keys == LineWriter.keys)
            check(fields.value(at: FieldPath("note")!)?.string.map { Array($0.utf8) } == Array(writer.note.utf8))
            check(fields.value(at: FieldPath("features.channel")!)?.string == "web")
            check(fields.value(at: FieldPath("features.age")!)?.integer.map { (18..<90).contains($0) } == true)

            // The writer's escaping of the decoded note reads back as the same string.
            var written: [UInt8] = []
            JSONWriter.appendString(writer.note, to: &written)
            check(try JSONCompactor.compact(written) == written)
            check(!written.dropFirst().dropLast().contains { $0 < 0x20 })
            let decoded = written.withUnsafeBufferPointer { JSONText.decodeString($0.baseAddress!, 1..<($0.count - 1)) }
            check(Array(decoded.utf8) == Array(writer.note.utf8), "line \(n)")
            if written.count != writer.note.utf8.count + 2 { escapedNotes += 1 }

            // An independent reader agrees on the decoded note (every 50th line, to keep this quick).
            // Foundation refuses numbers a Double cannot hold (1E400), which JSON allows; those lines are skipped.
            if n % 50 == 0, !text.contains("E400") {
                let object = try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any]
                check((object?["note"] as? String).map { Array($0.utf8) } == Array(writer.note.utf8), "line \(n)")
                foundationChecked += 1
            }
        }
        #expect(failures == 0)
        // The generator really produced escapes, and the oracle really ran.
        #expect(escapedNotes > Self.lineCount / 2)
        #expect(foundationChecked > Self.lineCount / 60)
    }

    @Test func writerEscapesEveryControlCharacterAndRepairsBytes() throws {
        var all = ""
        for c in 0..<0x80 { all.unicodeScalars.append(Unicode.Scalar(UInt8(c))) }
        all += "\u{E9}\u{1F600}\u{2028}"
        var written: [UInt8] = []
        JSONWriter.appendString(all, to: &written)
        let expectedStart = Array(#""\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\b\t\n\u000b\f\r\u000e"#.utf8)
        #expect(Array(written.prefix(expectedStart.count)) == expectedStart)
        let expectedEnd = Array("~\u{7F}\u{E9}\u{1F600}\u{2028}\"".utf8)
        #expect(Array(written.suffix(expectedEnd.count)) == expectedEnd)
        #expect(try JSONCompactor.compact(written) == written)
        let decoded = written.withUnsafeBufferPointer { JSONText.decodeString($0.baseAddress!, 1..<($0.count - 1)) }
        #expect(Array(decoded.utf8) == Array(all.utf8))

        var repaired: [UInt8] = []
        let bytes: [UInt8] = [0x61, 0xFF, 0x22, 0xED, 0xA0, 0x80, 0x0A]
        bytes.withUnsafeBufferPointer { JSONWriter.appendString(utf8: $0, to: &repaired) }
        #expect(repaired == Array("\"a\u{FFFD}\\\"\u{FFFD}\u{FFFD}\u{FFFD}\\n\"".utf8))
    }

    @Test(arguments: [
        (#"\ud83d\ude00"#, "\u{1F600}"), (#"\uD800"#, "\u{FFFD}"), (#"\udc00x"#, "\u{FFFD}x"),
        (#"\ud800\u0041"#, "\u{FFFD}A"), (#"\ude00\ud83d"#, "\u{FFFD}\u{FFFD}"), (#"\u00e9\/\""#, "\u{E9}/\""),
    ])
    func decodeStringHandlesSurrogates(_ escaped: String, _ expected: String) {
        let bytes = Array(escaped.utf8)
        let decoded = bytes.withUnsafeBufferPointer { JSONText.decodeString($0.baseAddress!, 0..<$0.count) }
        #expect(decoded == expected)
    }
}
