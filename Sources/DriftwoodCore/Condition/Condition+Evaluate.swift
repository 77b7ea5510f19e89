extension Condition {
    /// True when `fields` satisfy the condition.
    ///
    /// Comparisons are typed: a string literal only equals a string field, a number literal a
    /// number field (by value), and so on. A missing field or a type mismatch makes `==` and the
    /// orderings false and `!=` true. `x == null` holds when `x` is missing or null. Orderings
    /// compare numbers by value and strings by their UTF-8 bytes. `=~` matches anywhere in a
    /// string field and is false for any other kind.
    public func matches(_ fields: Fields) -> Bool { root.evaluate(fields) }

    /// True when the event's fields satisfy the condition.
    public func matches(_ event: Event) -> Bool { root.evaluate(event.fields) }
}

extension ConditionNode {
    func evaluate(_ fields: Fields) -> Bool {
        switch self {
        case .or(let nodes): return nodes.contains { $0.evaluate(fields) }
        case .and(let nodes): return nodes.allSatisfy { $0.evaluate(fields) }
        case .not(let a): return !a.evaluate(fields)
        case .exists(let path): return fields.contains(path)
        case .compare(let path, let op, let literal):
            let value = fields.value(at: path)
            switch op {
            case .equal: return ConditionNode.equals(value, literal)
            case .notEqual: return !ConditionNode.equals(value, literal)
            case .less, .lessOrEqual, .greater, .greaterOrEqual:
                guard let value, let order = ConditionNode.order(value, literal) else { return false }
                switch op {
                case .less: return order < 0
                case .lessOrEqual: return order <= 0
                case .greater: return order > 0
                default: return order >= 0
                }
            }
        case .match(let path, let regex):
            guard let value = fields.value(at: path) else { return false }
            return value.withStringBytes { regex.matches($0) } ?? false
        }
    }

    static func equals(_ value: JSONValue?, _ literal: ConditionLiteral) -> Bool {
        switch literal {
        case .null:
            return value == nil || value?.kind == .null
        case .string(let bytes):
            return value?.stringEquals(bytes) ?? false
        case .bool(let b):
            return value?.bool == b
        case .number(let d, let integer):
            guard let value, value.kind == .number else { return false }
            // Two integers compare exactly: ids beyond 2^53 must not collide through Double.
            if let integer, let v = value.integer { return v == integer }
            return value.number == d
        }
    }

    /// -1, 0 or 1 comparing `value` with `literal`; nil when their types differ.
    static func order(_ value: JSONValue, _ literal: ConditionLiteral) -> Int? {
        switch literal {
        case .number(let d, let integer):
            guard value.kind == .number else { return nil }
            if let integer, let v = value.integer { return v < integer ? -1 : (v == integer ? 0 : 1) }
            guard let v = value.number else { return nil }
            return v < d ? -1 : (v == d ? 0 : 1)
        case .string(let bytes):
            return value.withStringBytes { field in bytes.withUnsafeBufferPointer { compareBytes(field, $0) } }
        case .bool, .null:
            return nil
        }
    }

    /// Lexicographic order of UTF-8 bytes, which is also Unicode code point order.
    static func compareBytes(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Int {
        for k in 0..<min(a.count, b.count) where a[k] != b[k] {
            return a[k] < b[k] ? -1 : 1
        }
        return a.count < b.count ? -1 : (a.count == b.count ? 0 : 1)
    }
}
