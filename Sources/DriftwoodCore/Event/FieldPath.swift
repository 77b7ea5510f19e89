/// A dotted field path such as `features.amount`: `{"features":{"amount":…}}`.
public struct FieldPath: Hashable, Sendable, CustomStringConvertible {
    /// The path as the user wrote it.
    public let text: String
    /// Each component's raw UTF-8 name.
    public let components: [[UInt8]]

    /// Parses a dotted path; nil when it is empty or has an empty component (`a..b`, `.a`).
    public init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard !text.isEmpty, !parts.contains(where: \.isEmpty) else { return nil }
        self.text = text
        self.components = parts.map { Array($0.utf8) }
    }

    public var description: String { text }

    public static let timestamp = FieldPath("@timestamp")!
    public static let message = FieldPath("message")!
    public static let tags = FieldPath("tags")!
}
