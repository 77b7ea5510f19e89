import DriftwoodCore

/// A user's regex with named groups, compiled once (RE2: matching is linear in the line).
public final class RegexPattern: Sendable {
    let regex: RE2Regex
    /// The named groups, in pattern order.
    public let names: [String]
    /// For each named group, its group number (1-based) minus one, parallel to `names`.
    let indexes: [Int]

    public init(_ pattern: String) throws(RegexError) {
        regex = try RE2Regex(pattern)
        var names: [String] = []
        var indexes: [Int] = []
        for (k, name) in regex.groupNames.enumerated() {
            if let name {
                names.append(name)
                indexes.append(k)
            }
        }
        self.names = names
        self.indexes = indexes
    }

    /// The named groups of `pattern`; throws when it does not compile.
    public static func groupNames(_ pattern: String) throws(RegexError) -> [String] {
        try RegexPattern(pattern).names
    }

    /// Named captures of the first match in `text` as byte ranges of `text` (a group that took no
    /// part is left out), or nil when it does not match.
    public func captures(_ text: UnsafeBufferPointer<UInt8>) -> [(name: String, range: Range<Int>)]? {
        guard let groups = regex.groups(in: text) else { return nil }
        var result: [(name: String, range: Range<Int>)] = []
        result.reserveCapacity(names.count)
        for (name, k) in zip(names, indexes) {
            if let range = groups[k] { result.append((name, range)) }
        }
        return result
    }

    /// Named captures of the first match in `text`, or nil when it does not match.
    public func captures(_ text: String) -> [(name: String, value: Substring)]? {
        var text = text
        return text.withUTF8 { bytes in
            captures(bytes).map { found in
                found.map { ($0.name, Substring(String(decoding: UnsafeBufferPointer(rebasing: bytes[$0.range]), as: UTF8.self))) }
            }
        }
    }
}
