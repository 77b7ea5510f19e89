/// The `multiline.start` regex: does a line begin a new event?
public final class LineStartPattern: @unchecked Sendable {
    // Used by one input thread only.
    let regex: Regex<AnyRegexOutput>

    /// Throws when `pattern` does not compile.
    public init(_ pattern: String) throws {
        regex = try Regex(pattern)
    }

    /// True when the pattern matches somewhere in the line (anchor it with `^` for the start).
    public func matches(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        let text = String(decoding: line, as: UTF8.self)
        return (try? regex.firstMatch(in: text)) != nil
    }
}
