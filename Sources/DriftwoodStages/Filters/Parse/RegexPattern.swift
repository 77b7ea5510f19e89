/// A user's regex with named groups, compiled once.
public final class RegexPattern {
    let regex: Regex<AnyRegexOutput>
    /// The named groups, in pattern order.
    public let names: [String]

    public init(_ pattern: String) throws {
        regex = try Regex(pattern)
        names = Self.names(in: pattern, regex: regex)
    }

    /// The named groups of `pattern`; throws when it does not compile.
    public static func groupNames(_ pattern: String) throws -> [String] {
        names(in: pattern, regex: try Regex(pattern))
    }

    /// Swift's Regex does not list its group names, so find `(?<name>` / `(?P<name>` in the source
    /// and keep those the compiled regex confirms.
    static func names(in pattern: String, regex: Regex<AnyRegexOutput>) -> [String] {
        var result: [String] = []
        let chars = Array(pattern)
        var i = 0
        while i + 3 < chars.count {
            if chars[i] == "\\" {
                i += 2
                continue
            }
            if chars[i] == "(", chars[i + 1] == "?" {
                var j = i + 2
                if j < chars.count, chars[j] == "P" { j += 1 }
                if j < chars.count, chars[j] == "<", j + 1 < chars.count, chars[j + 1] != "=", chars[j + 1] != "!" {
                    if let close = chars[(j + 1)...].firstIndex(of: ">") {
                        let name = String(chars[(j + 1)..<close])
                        if regex.contains(captureNamed: name), !result.contains(name) { result.append(name) }
                    }
                }
            }
            i += 1
        }
        return result
    }

    /// Named captures of the first match in `text`, or nil when it does not match.
    public func captures(_ text: String) -> [(name: String, value: Substring)]? {
        guard let match = try? regex.firstMatch(in: text) else { return nil }
        var result: [(name: String, value: Substring)] = []
        for name in names {
            if let value = match.output[name]?.substring { result.append((name, value)) }
        }
        return result
    }
}
