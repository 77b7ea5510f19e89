import DriftwoodCore

/// The `multiline.start` regex: does a line begin a new event? (RE2: linear in the line.)
public final class LineStartPattern: Sendable {
    let regex: RE2Regex

    /// Throws when `pattern` does not compile.
    public init(_ pattern: String) throws(RegexError) {
        regex = try RE2Regex(pattern)
    }

    /// True when the pattern matches somewhere in the line (anchor it with `^` for the start).
    public func matches(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        regex.matches(line)
    }
}
