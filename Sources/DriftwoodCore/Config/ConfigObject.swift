import Yams

/// A YAML mapping being read strictly: every key a stage reads is remembered, and `finish()`
/// reports the keys nobody asked for, with the closest valid key as a hint. Every reader records
/// its problem and returns a usable value, so one pass reports every error in the file.
public final class ConfigObject {
    /// The key path of this mapping, e.g. `outputs[0].batch`.
    public let path: String
    /// The stage type this mapping belongs to, for error messages.
    public let stageType: String?
    let problems: ConfigProblems
    let node: Node
    private var entries: [(key: String, keyNode: Node, value: Node)] = []
    private var asked: [String] = []

    /// Reads `node` as a mapping; records an error and reads as empty when it is not one.
    public init(node: Node, path: String, stageType: String?, problems: ConfigProblems) {
        self.node = node
        self.path = path
        self.stageType = stageType
        self.problems = problems
        switch node {
        case .mapping(let mapping):
            for (k, v) in mapping {
                entries.append((k.string ?? "", k, v))
            }
        case .scalar(let s) where s.string.isEmpty || s.tag == Tag(.null):
            break  // `key:` with nothing after it reads as an empty mapping
        default:
            problems.add(
                node, path: path, stageType: stageType,
                "expected a mapping of keys to values, found \(ConfigObject.describe(node))")
        }
    }

    // MARK: Errors

    /// Records a problem at `node` (or at this mapping). A problem with a value (`at` a scalar)
    /// names the value given, unless the message quotes it already.
    public func error(_ message: String, at node: Node? = nil, key: String? = nil) {
        var message = message
        if let node, !message.contains(", found ") {
            switch node {
            case .scalar(let s):
                let v = s.string
                if !message.contains("'\(v)'") && !message.contains("\"\(v)\"") && !message.hasPrefix("\(v):") {
                    message += ", found \(ConfigObject.describe(node))"
                }
            default:
                // "expected a number" at a list or mapping.
                if message.hasPrefix("expected ") { message += ", found \(ConfigObject.describe(node))" }
            }
        }
        problems.add(node ?? self.node, path: key.map { childPath($0) } ?? path, stageType: stageType, message)
    }

    /// A value as an error message names it: `'5 minutes'` for a scalar (long ones cut), "a
    /// mapping", "a list".
    public static func describe(_ node: Node) -> String {
        switch node {
        case .scalar(let s):
            let text = s.string.count > 100 ? s.string.prefix(100) + "…" : Substring(s.string)
            return "'\(text)'"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }

    public func childPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// Reports keys that no reader asked about. Call once, after reading every key.
    public func finish() {
        for entry in entries where !asked.contains(entry.key) {
            var message = "unknown key '\(entry.key)'"
            if let hint = closestMatch(to: entry.key, in: asked) { message += " (did you mean '\(hint)'?)" }
            problems.add(entry.keyNode, path: path, stageType: stageType, message)
        }
    }

    /// The keys present, in file order.
    public var keys: [String] { entries.map(\.key) }

    /// Keys asked about so far: after a stage config is read, every key it knows.
    public var knownKeys: [String] { asked }

    // MARK: Raw access

    /// The value node at `key`, remembering that the key is known.
    public func node(_ key: String) -> Node? {
        if !asked.contains(key) { asked.append(key) }
        guard let value = entries.first(where: { $0.key == key })?.value else { return nil }
        if case .scalar(let s) = value, s.tag == Tag(.null) || (s.style == .plain && s.string.isEmpty) { return nil }
        return value
    }

    /// True when `key` is present (and not null).
    public func has(_ key: String) -> Bool { node(key) != nil }

    // MARK: Typed readers

    /// A string scalar; numbers and booleans are read as written (`1.4.2`, `2`).
    public func string(_ key: String) -> String? {
        guard let n = node(key) else { return nil }
        guard case .scalar(let s) = n else {
            error("expected a string, found \(ConfigObject.describe(n))", at: n, key: key)
            return nil
        }
        return s.string
    }

    public func string(_ key: String, default value: String) -> String { string(key) ?? value }

    /// A string that must be present.
    public func requiredString(_ key: String) -> String? {
        if !has(key) {
            error("missing required key '\(key)'")
            return nil
        }
        return string(key)
    }

    public func bool(_ key: String, default value: Bool) -> Bool {
        guard let n = node(key) else { return value }
        guard case .scalar(let s) = n, s.style == .plain || s.style == .any, let b = n.bool else {
            error("expected true or false", at: n, key: key)
            return value
        }
        _ = s
        return b
    }

    public func int(_ key: String, default value: Int, min: Int? = nil) -> Int {
        guard let n = node(key) else { return value }
        guard case .scalar(let s) = n, s.style == .plain || s.style == .any, let i = n.int else {
            error("expected a whole number", at: n, key: key)
            return value
        }
        if let min, i < min {
            error("must be at least \(min), found \(i)", at: n, key: key)
            return value
        }
        return i
    }

    public func double(_ key: String) -> Double? {
        guard let n = node(key) else { return nil }
        guard case .scalar(let s) = n, s.style == .plain || s.style == .any, let d = n.float ?? n.int.map(Double.init) else {
            error("expected a number", at: n, key: key)
            return nil
        }
        return d
    }

    public func double(_ key: String, default value: Double) -> Double { double(key) ?? value }

    /// A duration like `250ms`, `1s`, `5m`, `1h`.
    public func duration(_ key: String, default value: Duration) -> Duration {
        guard let n = node(key) else { return value }
        guard case .scalar(let s) = n, let d = ConfigUnits.duration(s.string) else {
            error("expected a duration like 250ms, 1s, 5m or 1h", at: n, key: key)
            return value
        }
        return d
    }

    /// A size like `512KiB`, `10MiB`, `1GiB` or bare bytes.
    public func size(_ key: String, default value: Int) -> Int {
        guard let n = node(key) else { return value }
        guard case .scalar(let s) = n, let b = ConfigUnits.size(s.string) else {
            error("expected a size like 512KiB, 10MiB, 1GiB or a number of bytes", at: n, key: key)
            return value
        }
        return b
    }

    /// One of a fixed set of words.
    public func choice(_ key: String, _ choices: [String], default value: String) -> String {
        guard let n = node(key) else { return value }
        guard case .scalar(let s) = n, choices.contains(s.string) else {
            var message = "expected one of \(choices.joined(separator: ", ")), found \(ConfigObject.describe(n))"
            if case .scalar(let s) = n, let hint = closestMatch(to: s.string, in: choices) {
                message += " (did you mean '\(hint)'?)"
            }
            error(message, at: n, key: key)
            return value
        }
        return s.string
    }

    /// A list of strings; a single string is read as a list of one.
    public func stringList(_ key: String) -> [String]? {
        guard let n = node(key) else { return nil }
        switch n {
        case .scalar(let s): return [s.string]
        case .sequence(let seq):
            var result: [String] = []
            for (k, item) in seq.enumerated() {
                guard case .scalar(let s) = item else {
                    problems.add(
                        item, path: "\(childPath(key))[\(k)]", stageType: stageType,
                        "expected a string, found \(ConfigObject.describe(item))")
                    continue
                }
                result.append(s.string)
            }
            return result
        default:
            error("expected a list of strings, found \(ConfigObject.describe(n))", at: n, key: key)
            return nil
        }
    }

    /// A dotted field path.
    public func fieldPath(_ key: String) -> FieldPath? {
        guard let text = string(key) else { return nil }
        guard let path = FieldPath(text) else {
            error("'\(text)' is not a field path (expected names joined by dots, like features.amount)", at: node(key), key: key)
            return nil
        }
        return path
    }

    public func fieldPath(_ key: String, default value: FieldPath) -> FieldPath { fieldPath(key) ?? value }

    /// A nested mapping, read strictly too (call `finish()` on it).
    public func object(_ key: String) -> ConfigObject? {
        guard let n = node(key) else { return nil }
        return ConfigObject(node: n, path: childPath(key), stageType: stageType, problems: problems)
    }

    /// A sequence of nodes with their paths.
    public func list(_ key: String) -> [(path: String, node: Node)]? {
        guard let n = node(key) else { return nil }
        guard case .sequence(let seq) = n else {
            error("expected a list, found \(ConfigObject.describe(n))", at: n, key: key)
            return nil
        }
        return seq.enumerated().map { ("\(childPath(key))[\($0.offset)]", $0.element) }
    }

    /// Key/value pairs of a nested mapping, in file order, with each value's node.
    public func pairs(_ key: String) -> [(key: String, value: Node)]? {
        guard let n = node(key) else { return nil }
        guard case .mapping(let mapping) = n else {
            error("expected a mapping, found \(ConfigObject.describe(n))", at: n, key: key)
            return nil
        }
        return mapping.map { ($0.key.string ?? "", $0.value) }
    }

    /// A value checked by `parse`, which throws a message for the user.
    public func parsed<T>(_ key: String, _ parse: (String) throws -> T) -> T? {
        guard let text = string(key) else { return nil }
        do {
            return try parse(text)
        } catch {
            self.error("\(error)", at: node(key), key: key)
            return nil
        }
    }
}

extension ConfigProblems {
    /// Records a problem at a YAML node's position.
    public func add(_ node: Node, path: String, stageType: String?, _ message: String) {
        add(line: node.mark?.line ?? 1, column: node.mark?.column ?? 1, path: path, stageType: stageType, message)
    }
}
