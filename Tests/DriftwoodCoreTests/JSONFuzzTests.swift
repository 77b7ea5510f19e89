import Foundation
import Testing
import TestSupport

@testable import DriftwoodCore

private let seeds: [[UInt8]] = [
    #"{"ts":"2026-11-24T10:00:00.123Z","level":"INFO","logger":"model_server","msg":"prediction","request_id":"9f1c2a3b-1d2e-4f3a-8b9c-0a1b2c3d4e5f","model":"fraud-detector","features":{"amount":123.4,"age":37,"country":"DE","channel":"web"},"prediction":0.8312,"label":"fraud","latency_ms":12.7}"#,
    #"{"a":[1,-0,1.0,1e5,1E+5,-2.5e-3,12345678901234567890123],"b":{"c":{"d":[true,false,null,{}]}},"e":[]}"#,
    #"{"s":"q\"b\\s\/n\n\t\u0001\u00e9\uD83D\uDE00 caf"# + "\u{E9} \u{4E2D}\u{1F600}" + #"","":""}"#,
    #"[{"k":[[[]]]},"x",0,{"":{"":[]}}]"#,
    " { \"spaced\" : [ 1 , 2 , { \"x\" : null } ] ,\n\t\"y\" : \"z\" } ",
    #""just a string""#, "-12.5e+07", "true", "[]",
].map { Array($0.utf8) }

/// Bytes worth inserting: structure, quotes, escapes, white space, and bytes that are never UTF-8.
private let interesting: [UInt8] = Array(#"{}[]:,"\/ubnrt0123456789-+.eE "#.utf8) + [0x00, 0x0A, 0x1F, 0x7F, 0x80, 0xBF, 0xC0, 0xC3, 0xE2, 0xED, 0xF0, 0xF4, 0xFF]
private let insertions: [[UInt8]] = [[0x5C], [0x22], [0xFF], [0x00], [0x5B], [0x7B, 0x7D], [0x5C, 0x75], [0x5C, 0x22], [0x2C]]
private let letters = Array("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8)
private let stringPieces: [[UInt8]] = [
    Array(#"\u00e9"#.utf8), Array(#"\""#.utf8), [0x80], [0xC3], [0xED, 0xA0], [0xF4, 0x90], [0xFF], Array("\u{1F600}".utf8),
    [0x5C, 0x5C], Array(#"\ud800"#.utf8), [], [], [], [],
]
private let maxNesting = 1_200
private let openArrays = [UInt8](repeating: UInt8(ascii: "["), count: maxNesting)
private let closeArrays = [UInt8](repeating: UInt8(ascii: "]"), count: maxNesting)
private let openObjects = Array(String(repeating: #"{"a":"#, count: maxNesting).utf8)
private let closeObjects = [UInt8](repeating: UInt8(ascii: "}"), count: maxNesting)

private func generate(_ rng: inout SeededRandom) -> [UInt8] {
    switch rng.below(40) {
    case 0..<4:  // random bytes, mostly from the interesting set
        return (0..<rng.below(48)).map { _ in rng.below(3) == 0 ? UInt8(truncatingIfNeeded: rng.next()) : rng.pick(interesting) }
    case 4:  // deep nesting, closed or not
        let depth = rng.pick([rng.below(20), 510 + rng.below(5), rng.below(maxNesting)])
        let closed = rng.below(4) == 0 ? rng.below(depth + 1) : depth
        if rng.below(2) == 0 { return openArrays[..<depth] + [0x31] + closeArrays[..<closed] }
        return openObjects[..<(5 * depth)] + [0x31] + closeObjects[..<closed]
    case 5:  // huge numbers
        var n: [UInt8] = rng.below(2) == 0 ? [0x2D, 0x31] : [0x39]
        let digits = Array(String(rng.next()).utf8)
        for _ in 0..<rng.below(60) { n += digits }
        if rng.below(2) == 0 { n += Array("e\(rng.pick(["", "+", "-"]))\(rng.below(1_000_000))".utf8) }
        return rng.below(2) == 0 ? [0x5B] + n + [0x5D] : n
    case 6:  // long strings with escapes and ill-formed bytes at random places
        var s: [UInt8] = [0x22]
        for _ in 0..<(1 + rng.below(200)) {
            s += letters[..<rng.below(40)]
            s += rng.pick(stringPieces)
        }
        return s + [0x22]
    default:  // a seed with a few mutations
        var b = rng.pick(seeds)
        for _ in 0..<(1 + rng.below(4)) {
            let at = rng.below(b.count + 1)
            switch rng.below(7) {
            case 0 where at < b.count: b[at] ^= 1 << UInt8(rng.below(8))
            case 1 where at < b.count: b[at] = rng.pick(interesting)
            case 2: b.insert(rng.pick(interesting), at: at)
            case 3: b.removeSubrange(at..<min(b.count, at + 1 + rng.below(8)))
            case 4 where rng.below(2) == 0: b.removeSubrange(at...)
            case 5: b.insert(contentsOf: b[at..<min(b.count, at + rng.below(16))], at: rng.below(b.count + 1))
            default: b.insert(contentsOf: rng.pick(insertions), at: at)
            }
        }
        return b
    }
}

/// Foundation refuses some JSON texts that JSONTestSuite leaves to the implementation (we keep them
/// as written): numbers out of Double's range, and surrogate escapes that do not pair up (its
/// message then varies: "surrogate", "end of file", "invalid UTF-8"). Nothing else.
private func foundationMayRefuse(_ error: Error, _ input: [UInt8]) -> Bool {
    let reason = String(describing: (error as NSError).userInfo[NSDebugDescriptionErrorKey] ?? "")
    if reason.contains("not representable") { return true }
    // A `\uD800`…`\uDFFF` escape anywhere.
    return input.indices.dropLast(3).contains { i in
        input[i] == 0x5C && input[i + 1] == UInt8(ascii: "u") && input[i + 2] | 0x20 == UInt8(ascii: "d")
            && (input[i + 3] == UInt8(ascii: "8") || input[i + 3] == UInt8(ascii: "9")
                || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(input[i + 3] | 0x20))
    }
}

/// Foundation accepts a little more than JSON: a trailing comma in an object or array, and a leading BOM.
private func foundationIsLenient(_ input: [UInt8]) -> Bool {
    let tokens = input.filter { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }
    let trailingComma = zip(tokens, tokens.dropFirst()).contains { $0 == 0x2C && ($1 == 0x5D || $1 == 0x7D) }
    return trailingComma || tokens.starts(with: [0xEF, 0xBB, 0xBF])
}

@Suite("JSON fuzz")
struct JSONFuzzTests {
    /// 200,000 by default; DRIFTWOOD_FUZZ_ITERATIONS runs more (or fewer).
    static let iterations = ProcessInfo.processInfo.environment["DRIFTWOOD_FUZZ_ITERATIONS"].flatMap { Int($0) } ?? 200_000

    @Test func randomAndMutatedInputsNeverBreakTheCompactor() throws {
        var rng = SeededRandom(seed: 0xD1F7_0000_2026_1124)
        var accepted = 0, rejected = 0, repaired = 0, agreed = 0, refusalsChecked = 0, failures = 0
        var scratch: [UInt8] = []
        var spans: [MemberSpan] = []
        // One container stack for every input, as the parse filter keeps one: what a deep, a
        // broken or a duplicate-keyed text leaves in it must not change the next one's result
        // (checked below against `compact`, which starts from a fresh stack).
        var stackWords: [UInt64] = []
        // `#expect` is too slow to call millions of times in a debug build: record failures only.
        func fail(_ what: String, _ input: [UInt8]) {
            failures += 1
            if failures <= 10 { Issue.record("\(what): \(String(decoding: input.prefix(300), as: UTF8.self).debugDescription)") }
        }
        func foundation(_ bytes: [UInt8]) -> Result<Any, Error> {
            Result { try JSONSerialization.jsonObject(with: Data(bytes), options: .fragmentsAllowed) }
        }

        for _ in 0..<Self.iterations {
            let input = generate(&rng)
            spans.removeAll(keepingCapacity: true)
            let placement = input.withUnsafeBufferPointer { buf in
                var escaped = false
                return try? JSONCompactor.validate(buf, scratch: &scratch, members: &spans, escapedKeys: &escaped, stack: &stackWords)
            }
            guard let placement else {
                // Rejected. (Each throw costs Swift Testing a backtrace, so the slower cross-checks of a
                // rejection run on every eighth one.)
                rejected += 1
                if !spans.isEmpty { fail("spans left after an error", input) }
                guard rejected % 8 == 0 else { continue }
                do {
                    _ = try JSONCompactor.compact(input)
                    fail("compact accepted what validate refused", input)
                } catch {
                    if !(0...input.count).contains(error.offset) { fail("offset \(error.offset) outside the input", input) }
                }
                // What a strict reader accepts, we accept (bar Foundation's own leniencies).
                if !input.contains(0), String(validating: input, as: UTF8.self) != nil {
                    refusalsChecked += 1
                    if case .success = foundation(input), !foundationIsLenient(input) { fail("refused what Foundation accepts", input) }
                }
                continue
            }
            guard let output = try? JSONCompactor.compact(input) else {
                fail("compact refused what validate accepted", input)
                continue
            }
            accepted += 1
            // In place: the input is the compact text and nothing was copied; else scratch holds it.
            if (placement == .inPlace) != (output == input) { fail("wrong placement \(placement)", input) }
            if placement == .inPlace ? !scratch.isEmpty : scratch != output { fail("validate and compact disagree", input) }
            if (try? JSONCompactor.compact(output)) != output { fail("not idempotent", input) }
            guard String(validating: output, as: UTF8.self) != nil else {
                fail("output is not UTF-8", input)
                continue
            }
            if output.first == UInt8(ascii: "{") {
                // Every span names a "key": and ends where a ',' or the closing '}' follows.
                for s in spans {
                    let (k0, k1, v0, v1) = (Int(s.keyStart), Int(s.keyEnd), Int(s.valueStart), Int(s.valueEnd))
                    if !(k0 > 0 && output[k0 - 1] == 0x22 && output[k1] == 0x22 && output[k1 + 1] == 0x3A && v0 == k1 + 2
                        && v1 > v0 && (output[v1] == 0x2C || v1 == output.count - 1))
                    {
                        fail("bad span \(s)", input)
                    }
                }
            } else if !spans.isEmpty {
                fail("spans for a non-object", input)
            }

            guard String(validating: input, as: UTF8.self) != nil else {
                repaired += 1
                continue
            }
            // Foundation reads the same value from the input and from our output (every other
            // accepted input: Foundation and the comparison are half of this test's time).
            guard accepted % 2 == 0 else { continue }
            switch foundation(input) {
            case .failure(let error):
                if !foundationMayRefuse(error, input) { fail("Foundation refused: \(error)", input) }
            case .success(let original):
                guard case .success(let reparsed) = foundation(output), jsonFoundationValuesEqual(original, reparsed) else {
                    fail("value changed", input)
                    continue
                }
                agreed += 1
            }
        }
        #expect(failures == 0)
        // Every outcome is reached often enough for the checks above to mean something.
        #expect(accepted > Self.iterations / 10)
        #expect(rejected > Self.iterations / 2)
        #expect(repaired > Self.iterations / 50)
        #expect(agreed > Self.iterations / 40)
        #expect(refusalsChecked > Self.iterations / 50)
    }

    @Test func foundationLeniencyIsRecognised() {
        #expect(foundationIsLenient(Array("[1, ]".utf8)) && foundationIsLenient(Array(#"{"a":1 ,}"#.utf8)))
        #expect(foundationIsLenient([0xEF, 0xBB, 0xBF, 0x5B, 0x5D]))
        #expect(!foundationIsLenient(Array(#"[1,2] {"a":[]}"#.utf8)))
    }
}
