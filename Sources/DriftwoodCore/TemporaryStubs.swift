// TEMPORARY: replaced by Condition/ and Template/ (in progress). Delete when they land.
public struct ConditionError: Error, CustomStringConvertible {
    public let column: Int
    public let message: String
    public var description: String { message }
}
public struct Condition: Sendable {
    public let source: String
    public init(_ source: String) throws(ConditionError) { self.source = source }
    public func matches(_ fields: Fields) -> Bool { true }
}
public struct TemplateError: Error, CustomStringConvertible {
    public let column: Int
    public let message: String
    public var description: String { message }
}
public struct Template: Sendable {
    public let source: String
    public init(_ source: String) throws(TemplateError) { self.source = source }
    public var isConstant: Bool { true }
    public func render(_ fields: Fields) -> String { source }
    public func render(_ fields: Fields, into out: inout [UInt8]) { out += Array(source.utf8) }
}
public struct Timestamp: Sendable {
    public var epochMilliseconds: Int64
    public static func now() -> Timestamp { Timestamp(epochMilliseconds: 0) }
    public var rfc3339: String { "1970-01-01T00:00:00.000Z" }
    public func appendRFC3339(to out: inout [UInt8]) { out += Array(rfc3339.utf8) }
    public init(epochMilliseconds: Int64) { self.epochMilliseconds = epochMilliseconds }
    public init?(iso8601 bytes: some Collection<UInt8>) { return nil }
    public init(unixSeconds: Double) { epochMilliseconds = Int64(unixSeconds * 1000) }
    public init(unixMilliseconds: Int64) { epochMilliseconds = unixMilliseconds }
}
public struct TimestampPattern: Sendable {
    public init(_ pattern: String) throws {}
    public func parse(_ s: some Collection<UInt8>) -> Timestamp? { nil }
    public func format(_ t: Timestamp) -> String { "" }
}
