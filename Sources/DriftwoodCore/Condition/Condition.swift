/// A stage's `when:` condition, e.g. `level == "ERROR" or (exists(error) and not latency_ms < 100)`.
///
/// Compiled once when the pipeline is loaded (string literals to bytes, regexes to programs), then
/// evaluated against every event without building Strings on the common paths.
///
/// Grammar (precedence `not` > `and` > `or`):
///
///     condition  = or
///     or         = and { "or" and }
///     and        = unary { "and" unary }
///     unary      = "not" unary | primary
///     primary    = "(" condition ")" | "exists" "(" path ")" | path op literal | path "=~" string
///     op         = "==" | "!=" | "<" | "<=" | ">" | ">="
///     literal    = string | number | "true" | "false" | "null"
///
/// Strings are in double quotes with `\"`, `\\`, `\n` and `\t` escapes; any other backslash is
/// kept as written, so a regex like `"^\d+"` needs no doubling.
public struct Condition: Sendable, CustomStringConvertible {
    /// The expression as written.
    public let source: String
    let root: ConditionNode

    /// Compiles `source`; the error names the 1-based column and what was expected there.
    public init(_ source: String) throws(ConditionError) {
        self.source = source
        var parser = ConditionParser(source)
        root = try parser.parse()
    }

    public var description: String { source }
}

/// A `when:` expression that does not compile.
public struct ConditionError: Error, CustomStringConvertible, Sendable, Equatable {
    /// 1-based column (in characters) within the expression.
    public let column: Int
    /// What is wrong, naming what was expected.
    public let message: String

    public init(column: Int, message: String) {
        self.column = column
        self.message = message
    }

    public var description: String { "column \(column): \(message)" }
}

/// The compiled form of a condition.
indirect enum ConditionNode: Sendable {
    /// True when any operand is (two or more, evaluated left to right, stopping at the first).
    case or([ConditionNode])
    /// True when every operand is (two or more, stopping at the first false).
    case and([ConditionNode])
    case not(ConditionNode)
    case exists(FieldPath)
    case compare(FieldPath, ComparisonOperator, ConditionLiteral)
    case match(FieldPath, ConditionRegex)
}

/// `==`, `!=`, `<`, `<=`, `>`, `>=`.
enum ComparisonOperator: String, Sendable, CaseIterable {
    case equal = "=="
    case notEqual = "!="
    case less = "<"
    case lessOrEqual = "<="
    case greater = ">"
    case greaterOrEqual = ">="

    var isOrdering: Bool { self != .equal && self != .notEqual }
}

/// A literal on the right of a comparison, in the form evaluation wants.
enum ConditionLiteral: Sendable, Equatable {
    /// The decoded UTF-8 bytes, compared with the field's bytes in place.
    case string([UInt8])
    /// The value, plus the exact integer when the literal is one (large ids compare exactly).
    case number(Double, integer: Int64?)
    case bool(Bool)
    case null
}

/// A compiled `=~` regex (RE2: linear-time matching, see `RE2Regex`).
final class ConditionRegex: Sendable {
    let regex: RE2Regex

    var pattern: String { regex.pattern }

    init(_ pattern: String) throws(RegexError) {
        regex = try RE2Regex(pattern)
    }

    /// True when the regex matches anywhere in `text` (UTF-8).
    func matches(_ text: UnsafeBufferPointer<UInt8>) -> Bool { regex.matches(text) }
}
