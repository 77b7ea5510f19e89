import Yams

/// The composed YAML of a pipeline file made ready for reading: `${VAR}` substituted in every
/// scalar value (keys are left as written), and YAML aliases kept within a budget.
///
/// Yams shares an anchored node between its aliases, so a 700-byte file of nested aliases (an
/// "alias bomb") composes cheaply but stands for billions of values; reading it would take minutes
/// and gigabytes. The walk counts every value it visits, aliases expanded, and stops with a
/// config error at the alias once the file stands for more than `maxValues`.
public struct ConfigTree {
    /// More values than any real pipeline file holds (the shipped ones hold a few hundred).
    public static let maxValues = 100_000

    let text: [Substring]
    let environment: [String: String]
    let problems: ConfigProblems
    var visited = 0
    /// Where the outermost alias on the current path is used (line, column), if any.
    var alias: (line: Int, column: Int)?
    var exceeded = false

    /// `root` substituted and checked; nil (with the problem recorded) when the aliases expand
    /// past the budget.
    public static func prepare(
        _ root: Node, text: String, environment: [String: String], problems: ConfigProblems
    ) -> Node? {
        var tree = ConfigTree(
            text: text.split(separator: "\n", omittingEmptySubsequences: false), environment: environment,
            problems: problems)
        let result = tree.walk(root)
        return tree.exceeded ? nil : result
    }

    /// The furthest place in the file read so far (line, column), in document order.
    var cursor = (line: 1, column: 1)

    mutating func advance(to mark: Mark?) {
        if let mark, (mark.line, mark.column) > cursor { cursor = (mark.line, mark.column) }
    }

    mutating func walk(_ node: Node) -> Node {
        if exceeded { return node }
        visited += 1
        // A node that starts before what was read already is an alias's copy of its anchor.
        let outermost = alias == nil
        if outermost, let mark = node.mark, (mark.line, mark.column) < cursor {
            let use = find("*", from: cursor) ?? cursor
            alias = use
            cursor = (use.line, use.column + 1)
        } else if outermost {
            advance(to: node.mark)
        }
        defer { if outermost { alias = nil } }
        if visited > ConfigTree.maxValues {
            exceeded = true
            let at = alias ?? cursor
            problems.add(
                line: at.line, column: at.column, path: "", stageType: nil,
                "YAML aliases make this file stand for more than \(ConfigTree.maxValues) values "
                    + "(an alias bomb?): write the values out, or use fewer nested aliases")
            return node
        }
        switch node {
        case .scalar(var s):
            guard s.string.utf8.contains(UInt8(ascii: "$")) else { return node }
            let (substituted, undefined) = EnvironmentSubstitution.apply(s.string, environment: environment)
            // Inside an alias's copy, its anchor has reported its undefined variables already.
            for u in undefined where alias == nil {
                let at = locate(u, in: s)
                problems.add(
                    line: at.line, column: at.column, path: "", stageType: nil,
                    "environment variable '\(u.name)' is not set (give a default with ${\(u.name):-value})")
            }
            if substituted != s.string {
                let tag = s.tag
                s.string = substituted
                // A plain scalar resolves by its new text (`${PORT}` → 9200 is a number); an
                // explicit tag (`!!str`) stays.
                if !tag.rawValue.isEmpty { s.tag = tag }
            }
            return .scalar(s)
        case .mapping(var m):
            for k in m.indices {
                let (key, value) = m[k]
                // A key is read as written; only its value is substituted.
                visited += 1
                if alias == nil { advance(to: key.mark) }
                m[k] = (key, walk(value))
                if exceeded { break }
            }
            return .mapping(m)
        case .sequence(var seq):
            for k in seq.indices {
                seq[k] = walk(seq[k])
                if exceeded { break }
            }
            return .sequence(seq)
        case .alias:
            return node
        }
    }

    /// Where an undefined variable's `${` is in the file: found in the text from the scalar's
    /// start (exact for every scalar style), or the scalar's start when it cannot be.
    func locate(_ u: EnvironmentSubstitution.Undefined, in s: Node.Scalar) -> (line: Int, column: Int) {
        guard let mark = s.mark else { return (1, 1) }
        return find("${\(u.name)", from: (mark.line, mark.column)) ?? (mark.line, mark.column)
    }

    /// The first occurrence of `needle` at or after `mark` (1-based line and column, in Unicode
    /// scalars as libyaml counts them).
    func find(_ needle: String, from mark: (line: Int, column: Int)) -> (line: Int, column: Int)? {
        let target = Array(needle.unicodeScalars)
        var line = mark.line
        var startColumn = mark.column
        while line >= 1 && line <= text.count {
            let chars = Array(text[line - 1].unicodeScalars)
            var c = max(0, startColumn - 1)
            while c + target.count <= chars.count {
                if chars[c] == target[0], Array(chars[c..<(c + target.count)]) == target { return (line, c + 1) }
                c += 1
            }
            line += 1
            startColumn = 1
            if line > mark.line + 1000 { break }
        }
        return nil
    }
}
