/// Lexer and recursive-descent parser for `when:` conditions (grammar on `Condition`).
///
/// Tokens are read one at a time as the parser asks for them, so the first error in reading
/// order is the one reported, whether it is a lexical one (an unterminated string) or not.
struct ConditionParser {
    struct Token {
        enum Kind: Equatable {
            case word  // a field path or a keyword (and, or, not, exists, true, false, null)
            case string([UInt8])
            case number(Double, integer: Int64?)
            case op(String)
            case openParen, closeParen
            case end
        }
        var kind: Kind
        /// Byte offsets in the source.
        var start: Int
        var end: Int
    }

    let bytes: [UInt8]
    var offset = 0
    var token = Token(kind: .end, start: 0, end: 0)
    /// Nesting of parentheses and `not`, bounded so a hostile expression cannot exhaust the stack.
    var depth = 0
    static let maxDepth = 100

    init(_ source: String) {
        bytes = Array(source.utf8)
    }

    // MARK: Parser

    mutating func parse() throws(ConditionError) -> ConditionNode {
        try advance()
        let node = try parseOr()
        guard token.kind == .end else {
            let hint =
                switch token.kind {
                case .op("&&"): " (write 'and')"
                case .op("||"): " (write 'or')"
                default: ""
                }
            throw error(at: token, "expected 'and', 'or' or the end of the condition, found \(describe(token))\(hint)")
        }
        return node
    }

    // A chain `a or b or c` becomes one node holding its operands, so a long chain costs no
    // recursion when evaluated.
    mutating func parseOr() throws(ConditionError) -> ConditionNode {
        var nodes = [try parseAnd()]
        while isWord("or") {
            try advance()
            nodes.append(try parseAnd())
        }
        return nodes.count == 1 ? nodes[0] : .or(nodes)
    }

    mutating func parseAnd() throws(ConditionError) -> ConditionNode {
        var nodes = [try parseUnary()]
        while isWord("and") {
            try advance()
            nodes.append(try parseUnary())
        }
        return nodes.count == 1 ? nodes[0] : .and(nodes)
    }

    mutating func parseUnary() throws(ConditionError) -> ConditionNode {
        if isWord("not") {
            try enter()
            defer { depth -= 1 }
            try advance()
            return .not(try parseUnary())
        }
        if token.kind == .op("!") { throw error(at: token, "unexpected '!': write 'not' to negate a condition") }
        return try parsePrimary()
    }

    mutating func parsePrimary() throws(ConditionError) -> ConditionNode {
        switch token.kind {
        case .openParen:
            let open = token
            try enter()
            defer { depth -= 1 }
            try advance()
            let node = try parseOr()
            guard token.kind == .closeParen else {
                throw error(
                    at: token,
                    "expected ')' to close the '(' at column \(column(open.start)), found \(describe(token))")
            }
            try advance()
            return node
        case .word where isWord("exists") && peekByte() == UInt8(ascii: "("):
            try advance()  // exists
            try advance()  // (
            guard token.kind == .word, !isKeyword else {
                throw error(at: token, "expected a field path inside exists(…), found \(describe(token))")
            }
            let path = try fieldPath(token)
            try advance()
            guard token.kind == .closeParen else {
                throw error(at: token, "expected ')' after exists(\(path.text), found \(describe(token))")
            }
            try advance()
            return .exists(path)
        case .word where !isKeyword:
            return try parseComparison()
        case .string, .number, .word:
            throw error(
                at: token,
                "expected a field path, found \(describe(token)) (the field goes on the left: level == \"ERROR\")")
        default:
            throw error(at: token, "expected a condition, found \(describe(token))")
        }
    }

    mutating func parseComparison() throws(ConditionError) -> ConditionNode {
        let pathToken = token
        let path = try fieldPath(pathToken)
        try advance()
        guard case .op(let text) = token.kind else {
            if token.kind == .end || token.kind == .closeParen || isWord("and") || isWord("or") {
                throw error(
                    at: pathToken,
                    "'\(path.text)' alone is not a condition: "
                        + "expected a comparison like \(path.text) == \"ERROR\" or exists(\(path.text))"
                )
            }
            throw error(
                at: token,
                "expected an operator (==, !=, <, <=, >, >=, =~) after '\(path.text)', found \(describe(token))")
        }
        let opToken = token
        try advance()
        if text == "=~" {
            guard case .string(let pattern) = token.kind else {
                throw error(at: token, "expected a regex in double quotes after =~, found \(describe(token))")
            }
            let source = String(decoding: pattern, as: UTF8.self)
            let regex: ConditionRegex
            do {
                regex = try ConditionRegex(source)
            } catch let e {
                throw error(at: token, "bad regex \"\(source)\": \(e.reason)")
            }
            try advance()
            return .match(path, regex)
        }
        guard let op = ComparisonOperator(rawValue: text) else {
            let hint =
                switch text {
                case "=": " (write == to compare)"
                case "!~": " (write not x =~ \"…\")"
                case "&&": " (write 'and')"
                case "||": " (write 'or')"
                default: ""
                }
            throw error(at: opToken, "unknown operator '\(text)'\(hint): expected ==, !=, <, <=, >, >= or =~")
        }
        let literal = try parseLiteral(after: text)
        if op.isOrdering {
            switch literal {
            case .string, .number: break
            case .bool, .null:
                throw error(at: token, "'\(text)' compares numbers or strings, found \(describe(token))")
            }
        }
        try advance()
        return .compare(path, op, literal)
    }

    mutating func parseLiteral(after op: String) throws(ConditionError) -> ConditionLiteral {
        switch token.kind {
        case .string(let value): return .string(value)
        case .number(let value, let integer): return .number(value, integer: integer)
        case .word where isWord("true"): return .bool(true)
        case .word where isWord("false"): return .bool(false)
        case .word where isWord("null"): return .null
        case .word:
            let text = String(decoding: bytes[token.start..<token.end], as: UTF8.self)
            throw error(
                at: token,
                "expected a value after '\(op)' (a string in double quotes, a number, true, false or null), "
                    + "found '\(text)' (did you mean \"\(text)\"?)"
            )
        default:
            throw error(
                at: token,
                "expected a value after '\(op)' (a string in double quotes, a number, true, false or null), "
                    + "found \(describe(token))"
            )
        }
    }

    // MARK: Helpers

    mutating func enter() throws(ConditionError) {
        depth += 1
        guard depth <= ConditionParser.maxDepth else {
            throw error(at: token, "nested more than \(ConditionParser.maxDepth) levels deep")
        }
    }

    func isWord(_ word: StaticString) -> Bool {
        guard token.kind == .word, token.end - token.start == word.utf8CodeUnitCount else { return false }
        return word.withUTF8Buffer { bytes[token.start..<token.end].elementsEqual($0) }
    }

    /// The current token is a reserved word. `exists` is not one: it is a field name unless a `(` follows.
    var isKeyword: Bool {
        isWord("and") || isWord("or") || isWord("not") || isWord("true") || isWord("false") || isWord("null")
    }

    func fieldPath(_ t: Token) throws(ConditionError) -> FieldPath {
        let text = String(decoding: bytes[t.start..<t.end], as: UTF8.self)
        guard let path = FieldPath(text) else {
            throw error(at: t, "bad field path '\(text)': a dot must sit between two names, as in features.amount")
        }
        return path
    }

    /// The next non-blank byte after the current token.
    func peekByte() -> UInt8? {
        var i = offset
        while i < bytes.count, ConditionParser.isBlank(bytes[i]) { i += 1 }
        return i < bytes.count ? bytes[i] : nil
    }

    /// 1-based column in characters (Unicode scalars) of byte `offset`.
    func column(_ offset: Int) -> Int {
        bytes[0..<offset].reduce(1) { $1 & 0xC0 == 0x80 ? $0 : $0 + 1 }
    }

    func error(at t: Token, _ message: String) -> ConditionError {
        ConditionError(column: column(t.start), message: message)
    }

    func describe(_ t: Token) -> String {
        switch t.kind {
        case .end: return "the end of the condition"
        default: return "'\(String(decoding: bytes[t.start..<t.end], as: UTF8.self))'"
        }
    }

    // MARK: Lexer

    static func isBlank(_ c: UInt8) -> Bool {
        c == UInt8(ascii: " ") || c == UInt8(ascii: "\t") || c == UInt8(ascii: "\n") || c == UInt8(ascii: "\r")
    }

    static func isDigit(_ c: UInt8) -> Bool { c &- UInt8(ascii: "0") < 10 }

    /// Letters, digits, `_`, `@`, `-` and any non-ASCII byte (field names in other scripts).
    static func isPathByte(_ c: UInt8) -> Bool {
        let lower = c | 0x20
        return (lower >= UInt8(ascii: "a") && lower <= UInt8(ascii: "z")) || isDigit(c) || c == UInt8(ascii: "_")
            || c == UInt8(ascii: "@") || c == UInt8(ascii: "-") || c >= 0x80
    }

    static func isOperatorByte(_ c: UInt8) -> Bool {
        switch c {
        case UInt8(ascii: "="), UInt8(ascii: "!"), UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "~"),
            UInt8(ascii: "&"), UInt8(ascii: "|"):
            return true
        default: return false
        }
    }

    /// Reads the next token into `token`.
    mutating func advance() throws(ConditionError) {
        while offset < bytes.count, ConditionParser.isBlank(bytes[offset]) { offset += 1 }
        let start = offset
        guard offset < bytes.count else {
            token = Token(kind: .end, start: start, end: start)
            return
        }
        let c = bytes[offset]
        let kind: Token.Kind
        if c == UInt8(ascii: "(") || c == UInt8(ascii: ")") {
            offset += 1
            kind = c == UInt8(ascii: "(") ? .openParen : .closeParen
        } else if c == UInt8(ascii: "\"") {
            kind = .string(try lexString())
        } else if ConditionParser.isDigit(c)
            || (c == UInt8(ascii: "-") && offset + 1 < bytes.count && ConditionParser.isDigit(bytes[offset + 1]))
        {
            kind = try lexNumber()
        } else if ConditionParser.isPathByte(c) {
            while offset < bytes.count, ConditionParser.isPathByte(bytes[offset]) || bytes[offset] == UInt8(ascii: ".")
            {
                offset += 1
            }
            kind = .word
        } else if ConditionParser.isOperatorByte(c) {
            while offset < bytes.count, ConditionParser.isOperatorByte(bytes[offset]) { offset += 1 }
            kind = .op(String(decoding: bytes[start..<offset], as: UTF8.self))
        } else {
            let scalar = String(decoding: bytes[start..<min(start + 4, bytes.count)], as: UTF8.self).unicodeScalars
                .first
            throw ConditionError(
                column: column(start),
                message:
                    "unexpected character '\(scalar.map { String($0) } ?? "?")': "
                    + "expected a field path, a value, an operator, 'and', 'or', 'not' or a parenthesis"
            )
        }
        token = Token(kind: kind, start: start, end: offset)
    }

    /// A double-quoted string; `offset` is on the opening quote.
    mutating func lexString() throws(ConditionError) -> [UInt8] {
        let start = offset
        offset += 1
        var value: [UInt8] = []
        while offset < bytes.count {
            let c = bytes[offset]
            offset += 1
            if c == UInt8(ascii: "\"") { return value }
            guard c == UInt8(ascii: "\\"), offset < bytes.count else {
                value.append(c)
                continue
            }
            let next = bytes[offset]
            offset += 1
            switch next {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): value.append(next)
            case UInt8(ascii: "n"): value.append(UInt8(ascii: "\n"))
            case UInt8(ascii: "t"): value.append(UInt8(ascii: "\t"))
            default:
                // Kept as written, so regex escapes such as \d and \. survive.
                value.append(c)
                value.append(next)
            }
        }
        throw ConditionError(column: column(start), message: "unterminated string: expected a closing '\"'")
    }

    /// `-?digits[.digits][(e|E)[+-]digits]`; `offset` is on its first byte.
    mutating func lexNumber() throws(ConditionError) -> Token.Kind {
        let start = offset
        if bytes[offset] == UInt8(ascii: "-") { offset += 1 }
        func digits(_ offset: inout Int, _ bytes: [UInt8]) -> Int {
            let from = offset
            while offset < bytes.count, ConditionParser.isDigit(bytes[offset]) { offset += 1 }
            return offset - from
        }
        _ = digits(&offset, bytes)
        var isInteger = true
        if offset < bytes.count, bytes[offset] == UInt8(ascii: ".") {
            offset += 1
            isInteger = false
            guard digits(&offset, bytes) > 0 else {
                throw ConditionError(column: column(offset), message: "expected a digit after the decimal point")
            }
        }
        if offset < bytes.count, bytes[offset] | 0x20 == UInt8(ascii: "e") {
            offset += 1
            isInteger = false
            if offset < bytes.count, bytes[offset] == UInt8(ascii: "+") || bytes[offset] == UInt8(ascii: "-") {
                offset += 1
            }
            guard digits(&offset, bytes) > 0 else {
                throw ConditionError(column: column(offset), message: "expected the digits of an exponent")
            }
        }
        let text = String(decoding: bytes[start..<offset], as: UTF8.self)
        if offset < bytes.count, ConditionParser.isPathByte(bytes[offset]) {
            throw ConditionError(
                column: column(start),
                message: "bad number '\(text)…': put text in double quotes; a field path starts with a letter, _ or @"
            )
        }
        guard let value = Double(text) else {
            throw ConditionError(column: column(start), message: "bad number '\(text)'")
        }
        return .number(value, integer: isInteger ? Int64(text) : nil)
    }
}
