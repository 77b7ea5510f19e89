/// Why a byte sequence is not one JSON text.
public struct JSONSyntaxError: Error, Equatable, CustomStringConvertible {
    /// Byte offset in the input where the problem was seen.
    public let offset: Int
    /// One sentence about what was expected.
    public let reason: String

    public var description: String { "invalid JSON at byte \(offset): \(reason)" }
}

/// A top-level object member found while compacting: byte ranges into the output buffer.
/// The key range excludes the quotes and holds the key as written (escapes kept).
public struct MemberSpan: Sendable, Equatable {
    public var keyStart: Int32
    public var keyEnd: Int32
    public var valueStart: Int32
    public var valueEnd: Int32

    @inlinable
    public init(keyStart: Int32, keyEnd: Int32, valueStart: Int32, valueEnd: Int32) {
        self.keyStart = keyStart
        self.keyEnd = keyEnd
        self.valueStart = valueStart
        self.valueEnd = valueEnd
    }
}

/// Driftwood's JSON parser: one pass that validates a JSON text and appends its compact form
/// (no insignificant white space, invalid UTF-8 replaced by U+FFFD) to an output buffer.
///
/// Strings and numbers are copied as written, so escapes and number spellings survive a round
/// trip exactly. Nothing is allocated per value: for a line that is already compact and valid the
/// output is one bulk copy of the input. Nesting is bounded by `maxDepth` with an explicit stack,
/// so a 10,000-deep `[[[[…` is an error, never a stack overflow.
public struct JSONCompactor {
    /// The deepest nesting accepted, in objects and arrays.
    public static let maxDepth = 512

    /// Validates `input` as exactly one JSON text and appends its compact form to `out`.
    /// When the text is an object and `members` is given, each top-level member's spans (offsets in
    /// `out`) are appended to it. Returns the range of `out` that holds the value.
    /// On error `out` and `members` are restored to their previous length.
    @discardableResult
    public static func compact(
        _ input: UnsafeBufferPointer<UInt8>, into out: inout [UInt8], members: UnsafeMutablePointer<[MemberSpan]>? = nil,
        escapedKeys: UnsafeMutablePointer<Bool>? = nil
    ) throws(JSONSyntaxError) -> Range<Int> {
        guard !input.isEmpty else { throw JSONSyntaxError(offset: 0, reason: "expected a value") }
        let outStart = out.count
        let memberStart = members?.pointee.count ?? 0
        var state = State(input: input)
        do {
            try state.run(out: &out, members: members)
        } catch {
            out.removeSubrange(outStart...)
            members?.pointee.removeSubrange(memberStart...)
            throw error
        }
        escapedKeys?.pointee = state.escapedKey
        if state.duplicateKeys || state.suspectKeys {
            let rewritten = out.withUnsafeBufferPointer {
                JSONDuplicateKeys.deduplicated($0.baseAddress!, outStart..<$0.count)
            }
            if let rewritten {
                out.replaceSubrange(outStart..., with: rewritten)
                if let members {
                    members.pointee.removeSubrange(memberStart...)
                    members.pointee += rewritten.withUnsafeBufferPointer {
                        JSONDuplicateKeys.memberSpans($0, offset: outStart)
                    }
                }
            }
        }
        return outStart..<out.count
    }

    /// Validates `input` as one JSON text. When it is already compact and valid UTF-8, nothing is
    /// copied and the result is `.inPlace` with member spans relative to `input` (`scratch` is left
    /// empty); otherwise the compact form is written to `scratch` (replacing its contents) and
    /// spans are relative to `scratch`.
    public static func validate(
        _ input: UnsafeBufferPointer<UInt8>, scratch: inout [UInt8], members: UnsafeMutablePointer<[MemberSpan]>
    ) throws(JSONSyntaxError) -> Placement {
        var escapedKeys = false
        return try validate(input, scratch: &scratch, members: members, escapedKeys: &escapedKeys)
    }

    /// `validate(_:scratch:members:)`, also telling whether a top-level key is written with an
    /// escape (`Fields` compares keys byte for byte when none is).
    /// `stack`: memory for the open containers and their keys, reused from text to text by a
    /// caller that validates many (one allocation per text otherwise).
    public static func validate(
        _ input: UnsafeBufferPointer<UInt8>, scratch: inout [UInt8], members: UnsafeMutablePointer<[MemberSpan]>,
        escapedKeys: inout Bool, stack: UnsafeMutablePointer<[UInt64]>? = nil
    ) throws(JSONSyntaxError) -> Placement {
        scratch.removeAll(keepingCapacity: true)
        guard !input.isEmpty else { throw JSONSyntaxError(offset: 0, reason: "expected a value") }
        var state = State(input: input)
        state.lazy = true
        state.stackWords = stack
        let memberStart = members.pointee.count
        do {
            try state.run(out: &scratch, members: members)
        } catch {
            members.pointee.removeSubrange(memberStart...)
            throw error
        }
        escapedKeys = state.escapedKey
        let placement: Placement = state.changed ? .scratch : .inPlace
        if state.duplicateKeys || state.suspectKeys {
            // A key written twice: the text is rewritten into scratch (rare; see JSONDuplicateKeys).
            let rewritten =
                placement == .inPlace
                ? JSONDuplicateKeys.deduplicated(input.baseAddress!, 0..<input.count)
                : scratch.withUnsafeBufferPointer { JSONDuplicateKeys.deduplicated($0.baseAddress!, 0..<$0.count) }
            if let rewritten {
                scratch = rewritten
                members.pointee.removeSubrange(memberStart...)
                members.pointee += scratch.withUnsafeBufferPointer { JSONDuplicateKeys.memberSpans($0, offset: 0) }
                return .scratch
            }
        }
        return placement
    }

    /// Where `validate` left the compact text.
    public enum Placement: Sendable { case inPlace, scratch }

    /// Convenience for tests and cold paths.
    public static func compact(_ input: [UInt8]) throws(JSONSyntaxError) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(input.count)
        var result: Result<Void, JSONSyntaxError> = .success(())
        input.withUnsafeBufferPointer { buffer in
            do throws(JSONSyntaxError) {
                try compact(buffer, into: &out)
            } catch {
                result = .failure(error)
            }
        }
        try result.get()
        return out
    }
}

extension JSONCompactor {
    fileprivate struct State {
        let base: UnsafePointer<UInt8>
        let end: Int
        var i = 0
        /// Start of the run of input bytes not yet copied to the output.
        var runStart = 0
        /// True once the output differs from the input (white space skipped or bytes replaced).
        var changed = false
        /// Copy nothing until the output would differ from the input (`validate`).
        var lazy = false
        /// Escapes seen in strings so far, and whether a recorded (top-level) key held one.
        var escapes = 0
        var escapedKey = false
        /// Some object holds a key twice; `suspectKeys`: it may (see `ContainerStack`).
        var duplicateKeys = false
        var suspectKeys = false
        /// The caller's memory for `ContainerStack`, if it keeps one.
        var stackWords: UnsafeMutablePointer<[UInt64]>?

        init(input: UnsafeBufferPointer<UInt8>) {
            // `compact` rejects an empty buffer before this, so the base address exists.
            self.base = input.baseAddress!
            self.end = input.count
        }

        @inline(__always) func fail(_ reason: String) -> JSONSyntaxError {
            JSONSyntaxError(offset: i, reason: reason)
        }

        /// Output position of input byte `i`, as if the pending run had been copied.
        @inline(__always) func outPosition(_ out: [UInt8]) -> Int { out.count + (i - runStart) }

        @inline(__always) mutating func flush(_ out: inout [UInt8]) {
            if i > runStart {
                out.append(contentsOf: UnsafeBufferPointer(start: base + runStart, count: i - runStart))
            }
            runStart = i
        }

        @inline(__always) mutating func skipWhitespace(_ out: inout [UInt8]) {
            guard i < end else { return }
            let b = base[i]
            guard b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 else { return }
            flush(&out)
            changed = true
            i += 1
            while i < end {
                let c = base[i]
                if c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { i += 1 } else { break }
            }
            runStart = i
        }

        mutating func run(out: inout [UInt8], members: UnsafeMutablePointer<[MemberSpan]>?) throws(JSONSyntaxError) {
            // Open containers and their keys. Depth is bounded; keys are at most the input's size.
            var stack = ContainerStack(reusing: stackWords)
            defer { stack.giveBack(to: stackWords) }
            var pendingKey: (Int32, Int32) = (0, 0)
            var valueStart = 0
            skipWhitespace(&out)
            // A top-level member is recorded when a value completes at depth 1 inside an object.
            valueLoop: while true {
                // Parse one value.
                guard i < end else { throw fail("expected a value") }
                let depth1Object = members != nil && stack.atTopLevelObject
                if depth1Object { valueStart = outPosition(out) }
                switch base[i] {
                case UInt8(ascii: "{"):
                    i += 1
                    guard stack.depth < JSONCompactor.maxDepth else { throw fail("nesting deeper than \(JSONCompactor.maxDepth)") }
                    skipWhitespace(&out)
                    if i < end && base[i] == UInt8(ascii: "}") {
                        i += 1
                    } else {
                        stack.push(object: true)
                        try readKey(&out, record: stack.depth == 1 && members != nil, key: &pendingKey, stack: &stack)
                        continue valueLoop
                    }
                case UInt8(ascii: "["):
                    i += 1
                    guard stack.depth < JSONCompactor.maxDepth else { throw fail("nesting deeper than \(JSONCompactor.maxDepth)") }
                    skipWhitespace(&out)
                    if i < end && base[i] == UInt8(ascii: "]") {
                        i += 1
                    } else {
                        stack.push(object: false)
                        continue valueLoop
                    }
                case UInt8(ascii: "\""):
                    i += 1
                    try scanString(&out)
                case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                    try scanNumber()
                case UInt8(ascii: "t"):
                    try scanLiteral(0x74_72_75_65, length: 4)  // true
                case UInt8(ascii: "f"):
                    try scanLiteral(0x66_61_6C_73_65, length: 5)  // false
                case UInt8(ascii: "n"):
                    try scanLiteral(0x6E_75_6C_6C, length: 4)  // null
                default:
                    throw fail("expected a value")
                }
                if depth1Object {
                    members!.pointee.append(
                        MemberSpan(
                            keyStart: pendingKey.0, keyEnd: pendingKey.1,
                            valueStart: Int32(truncatingIfNeeded: valueStart),
                            valueEnd: Int32(truncatingIfNeeded: outPosition(out))))
                }
                // After a value: a separator, a closing bracket, or the end.
                while true {
                    skipWhitespace(&out)
                    guard !stack.isEmpty else {
                        guard i == end else { throw fail("unexpected data after the JSON value") }
                        if changed || !lazy { flush(&out) }
                        duplicateKeys = stack.duplicate
                        suspectKeys = stack.suspect
                        return
                    }
                    let isObject = stack.inObject
                    guard i < end else { throw fail(isObject ? "expected ',' or '}'" : "expected ',' or ']'") }
                    let b = base[i]
                    if b == UInt8(ascii: ",") {
                        i += 1
                        skipWhitespace(&out)
                        if isObject {
                            try readKey(&out, record: stack.depth == 1 && members != nil, key: &pendingKey, stack: &stack)
                        }
                        continue valueLoop
                    }
                    if isObject ? b == UInt8(ascii: "}") : b == UInt8(ascii: "]") {
                        i += 1
                        stack.pop()
                        if members != nil && stack.atTopLevelObject {
                            members!.pointee.append(
                                MemberSpan(
                                    keyStart: pendingKey.0, keyEnd: pendingKey.1,
                                    valueStart: Int32(truncatingIfNeeded: valueStart),
                                    valueEnd: Int32(truncatingIfNeeded: outPosition(out))))
                        }
                        continue
                    }
                    throw fail(isObject ? "expected ',' or '}'" : "expected ',' or ']'")
                }
            }
        }

        /// Reads `"key"` and `:` (white space around allowed); leaves `i` at the value.
        @inline(__always)
        mutating func readKey(
            _ out: inout [UInt8], record: Bool, key: inout (Int32, Int32), stack: inout ContainerStack
        ) throws(JSONSyntaxError) {
            guard i < end, base[i] == UInt8(ascii: "\"") else { throw fail("expected a string key") }
            i += 1
            let keyStart = outPosition(out)
            let inputStart = i
            let escapesBefore = escapes
            try scanString(&out)
            stack.addKey(base, start: inputStart, length: i - 1 - inputStart, escaped: escapes != escapesBefore)
            if record {
                key = (Int32(truncatingIfNeeded: keyStart), Int32(truncatingIfNeeded: outPosition(out) - 1))
                if escapes != escapesBefore { escapedKey = true }
            }
            skipWhitespace(&out)
            guard i < end, base[i] == UInt8(ascii: ":") else { throw fail("expected ':' after a key") }
            i += 1
            skipWhitespace(&out)
        }

        /// Scans a string body after its opening quote, through the closing quote.
        @inline(__always)
        mutating func scanString(_ out: inout [UInt8]) throws(JSONSyntaxError) {
            while true {
                // Fast path: eight bytes at a time while none is a quote, backslash, control or non-ASCII byte.
                while i + 8 <= end {
                    let w = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
                    let special = JSONCompactor.specialBytes(w)
                    if special != 0 {
                        // Jump straight to the first special byte (little-endian: lowest bits first).
                        i += special.trailingZeroBitCount >> 3
                        break
                    }
                    i += 8
                }
                guard i < end else { throw fail("unterminated string") }
                let b = base[i]
                if b == UInt8(ascii: "\"") {
                    i += 1
                    return
                } else if b == UInt8(ascii: "\\") {
                    i += 1
                    escapes &+= 1
                    guard i < end else { throw fail("unterminated escape") }
                    switch base[i] {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
                        UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                        i += 1
                    case UInt8(ascii: "u"):
                        guard i + 5 <= end else { throw fail("short \\u escape") }
                        for k in 1...4 where JSONCompactor.hexValue(base[i + k]) == nil {
                            throw fail("bad \\u escape")
                        }
                        i += 5
                    default:
                        throw fail("bad escape")
                    }
                } else if b < 0x20 {
                    throw fail("control character in string")
                } else if b < 0x80 {
                    i += 1
                } else {
                    let n = JSONCompactor.validUTF8Length(base, i, end)
                    if n > 0 {
                        i += n
                    } else {
                        // Replace the maximal invalid subpart with U+FFFD.
                        let bad = max(1, JSONCompactor.invalidPrefixLength(base, i, end))
                        flush(&out)
                        changed = true
                        out.append(contentsOf: [0xEF, 0xBF, 0xBD])
                        i += bad
                        runStart = i
                    }
                }
            }
        }

        @inline(__always)
        mutating func scanDigits() -> Int {
            let start = i
            while i < end, base[i] &- UInt8(ascii: "0") < 10 { i += 1 }
            return i - start
        }

        @inline(__always)
        mutating func scanNumber() throws(JSONSyntaxError) {
            if base[i] == UInt8(ascii: "-") { i += 1 }
            guard i < end else { throw fail("expected a digit") }
            if base[i] == UInt8(ascii: "0") {
                i += 1
            } else if scanDigits() == 0 {
                throw fail("expected a digit")
            }
            if i < end && base[i] == UInt8(ascii: ".") {
                i += 1
                guard scanDigits() > 0 else { throw fail("expected a digit after '.'") }
            }
            if i < end && (base[i] | 0x20) == UInt8(ascii: "e") {
                i += 1
                if i < end && (base[i] == UInt8(ascii: "+") || base[i] == UInt8(ascii: "-")) { i += 1 }
                guard scanDigits() > 0 else { throw fail("expected a digit in the exponent") }
            }
        }

        @inline(__always)
        mutating func scanLiteral(_ word: UInt64, length: Int) throws(JSONSyntaxError) {
            guard i + length <= end else { throw fail("expected a value") }
            var v: UInt64 = 0
            for k in 0..<length { v = v << 8 | UInt64(base[i + k]) }
            guard v == word else { throw fail("expected a value") }
            i += length
        }
    }

    /// A mask with the high bit set in (at least) the first byte of `w` that is `"`, `\`, below
    /// 0x20 or at least 0x80; zero when there is none. Bytes after the first special one may be
    /// flagged falsely (borrows), so only the lowest set bit is exact.
    @inline(__always)
    static func specialBytes(_ w: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let high: UInt64 = 0x8080_8080_8080_8080
        let quote = w ^ (ones &* 0x22)
        let backslash = w ^ (ones &* 0x5C)
        let hasQuote = (quote &- ones) & ~quote & high
        let hasBackslash = (backslash &- ones) & ~backslash & high
        let hasControl = (w &- ones &* 0x20) & ~w & high
        return hasQuote | hasBackslash | hasControl | (w & high)
    }

    /// True when any byte of `w` is `"`, `\`, below 0x20 or at least 0x80.
    @inline(__always)
    static func hasSpecialByte(_ w: UInt64) -> Bool { specialBytes(w) != 0 }

    @inline(__always)
    static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return b - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return b - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return b - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// Length of the well-formed UTF-8 sequence starting at `i` (a byte ≥ 0x80), or 0 if it is not one.
    @inline(__always)
    static func validUTF8Length(_ p: UnsafePointer<UInt8>, _ i: Int, _ end: Int) -> Int {
        let b0 = p[i]
        @inline(__always) func cont(_ k: Int) -> Bool { i + k < end && p[i + k] & 0xC0 == 0x80 }
        switch b0 {
        case 0xC2...0xDF:
            return cont(1) ? 2 : 0
        case 0xE0:
            return cont(1) && p[i + 1] >= 0xA0 && cont(2) ? 3 : 0
        case 0xE1...0xEC, 0xEE...0xEF:
            return cont(1) && cont(2) ? 3 : 0
        case 0xED:
            return cont(1) && p[i + 1] < 0xA0 && cont(2) ? 3 : 0
        case 0xF0:
            return cont(1) && p[i + 1] >= 0x90 && cont(2) && cont(3) ? 4 : 0
        case 0xF1...0xF3:
            return cont(1) && cont(2) && cont(3) ? 4 : 0
        case 0xF4:
            return cont(1) && p[i + 1] < 0x90 && cont(2) && cont(3) ? 4 : 0
        default:
            return 0
        }
    }

    /// How many bytes of an ill-formed sequence at `i` make one maximal subpart (replaced by one U+FFFD).
    static func invalidPrefixLength(_ p: UnsafePointer<UInt8>, _ i: Int, _ end: Int) -> Int {
        let b0 = p[i]
        let need: Int
        var lo: UInt8 = 0x80
        var hi: UInt8 = 0xBF
        switch b0 {
        case 0xC2...0xDF: need = 1
        case 0xE0: need = 2; lo = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: need = 2
        case 0xED: need = 2; hi = 0x9F
        case 0xF0: need = 3; lo = 0x90
        case 0xF1...0xF3: need = 3
        case 0xF4: need = 3; hi = 0x8F
        default: return 1
        }
        var k = 1
        while k <= need, i + k < end {
            let c = p[i + k]
            if k == 1 ? !(c >= lo && c <= hi) : (c & 0xC0 != 0x80) { break }
            k += 1
        }
        return k
    }
}
