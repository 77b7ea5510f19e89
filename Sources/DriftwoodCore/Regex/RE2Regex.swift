import CRE2

/// A regular expression compiled by RE2: matching takes time linear in the length of the text,
/// whatever the pattern, so a hostile or careless pattern cannot stall the pipeline.
///
/// Used for every regex a pipeline file holds (`parse` patterns, `when: x =~ "…"`,
/// `multiline.start`). The syntax is RE2's (Perl-like, UTF-8, leftmost-first); named groups are
/// written `(?<name>…)` or `(?P<name>…)`. What needs backtracking (backreferences, lookaround,
/// atomic groups, possessive quantifiers) is refused when the pattern is compiled.
///
/// A compiled RE2 is immutable and safe to match from several threads at once.
public final class RE2Regex: @unchecked Sendable {
    /// The pattern as the user wrote it.
    public let pattern: String
    /// The number of capturing groups, named or not.
    public let groupCount: Int
    /// The names of groups 1…groupCount, in pattern order (nil for an unnamed group).
    public let groupNames: [String?]
    private let handle: OpaquePointer

    /// Compiles `pattern`; the error says why RE2 cannot run it.
    public init(_ pattern: String) throws(RegexError) {
        self.pattern = pattern
        var translated = RE2Syntax.translate(pattern)
        var message = [CChar](repeating: 0, count: 512)
        var code: Int32 = 0
        let capacity = message.count
        let compiled = translated.withUTF8 { text in
            text.withMemoryRebound(to: CChar.self) { CRE2_new($0.baseAddress, $0.count, &message, capacity, &code) }
        }
        guard let compiled else {
            let reason = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw RegexError(pattern: pattern, reason: RE2Syntax.explain(pattern, engineMessage: reason))
        }
        handle = compiled
        groupCount = Int(CRE2_groupCount(compiled))
        groupNames = (0..<groupCount).map { k in CRE2_groupName(compiled, Int32(k + 1)).map { String(cString: $0) } }
    }

    deinit { CRE2_delete(handle) }

    /// True when the regex matches somewhere in `text` (anchor it with `^` for the start).
    public func matches(_ text: UnsafeBufferPointer<UInt8>) -> Bool {
        RE2Regex.withNonNull(text) { CRE2_search(handle, $0, text.count) != 0 }
    }

    /// True when the regex matches somewhere in `text`.
    public func matches(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { matches($0) }
    }

    /// The byte ranges of groups 1…groupCount in the first match in `text` (nil for a group that
    /// took no part), or nil when the regex does not match.
    public func groups(in text: UnsafeBufferPointer<UInt8>) -> [Range<Int>?]? {
        let count = groupCount + 1
        return withUnsafeTemporaryAllocation(of: Int64.self, capacity: 2 * count) { buf -> [Range<Int>?]? in
            let starts = buf.baseAddress!
            let ends = starts + count
            let found = RE2Regex.withNonNull(text) { CRE2_match(handle, $0, text.count, starts, ends, Int32(count)) }
            guard found != 0 else { return nil }
            return (1..<count).map { k in starts[k] < 0 ? nil : Int(starts[k])..<Int(ends[k]) }
        }
    }

    /// RE2 reports a group as unset by a null pointer, so an empty text must still have an address.
    private static func withNonNull<R>(_ text: UnsafeBufferPointer<UInt8>, _ body: (UnsafePointer<CChar>) -> R) -> R {
        if let base = text.baseAddress {
            return base.withMemoryRebound(to: CChar.self, capacity: max(1, text.count)) { body($0) }
        }
        var empty: CChar = 0
        return withUnsafePointer(to: &empty) { body($0) }
    }
}

/// A pattern RE2 cannot compile, with the reason in the user's words.
public struct RegexError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The pattern as written.
    public let pattern: String
    /// Why it is refused, e.g. "backreferences (\1) are not supported".
    public let reason: String

    public init(pattern: String, reason: String) {
        self.pattern = pattern
        self.reason = reason
    }

    public var description: String { reason }
}
