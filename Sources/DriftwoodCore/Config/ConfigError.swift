/// One problem in a pipeline file, located by file, line, column and key path.
/// Printed as `FILE:LINE:COL: KEY.PATH (stage type): message`.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public let file: String
    public let line: Int
    public let column: Int
    /// The key path, e.g. `outputs[0].batch.max_bytes`; empty for the file as a whole.
    public let path: String
    /// The stage type the key belongs to, when inside a stage.
    public let stageType: String?
    public let message: String

    public init(file: String, line: Int, column: Int, path: String, stageType: String?, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.path = path
        self.stageType = stageType
        self.message = message
    }

    public var description: String {
        var s = "\(file):\(line):\(column): "
        if !path.isEmpty {
            s += path
            if let stageType { s += " (\(stageType))" }
            s += ": "
        }
        return s + message
    }
}

/// Every error found in one pipeline file: reported together, not just the first.
public struct ConfigErrors: Error, Sendable, CustomStringConvertible {
    /// In file order.
    public let errors: [ConfigError]
    public init(_ errors: [ConfigError]) {
        self.errors = errors.enumerated().sorted {
            ($0.element.line, $0.element.column, $0.offset) < ($1.element.line, $1.element.column, $1.offset)
        }.map(\.element)
    }
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}

/// Collects problems while a pipeline file is read. Used on one thread during loading only.
public final class ConfigProblems {
    public let file: String
    public private(set) var errors: [ConfigError] = []

    public init(file: String) { self.file = file }

    public func add(line: Int, column: Int, path: String, stageType: String?, _ message: String) {
        errors.append(
            ConfigError(file: file, line: line, column: column, path: path, stageType: stageType, message: message))
    }
}

/// The closest of `candidates` to `word` (edit distance at most a third of its length, and 3), for
/// "did you mean" hints.
public func closestMatch(to word: String, in candidates: some Sequence<String>) -> String? {
    let w = Array(word.lowercased())
    var best: (String, Int)?
    for c in candidates {
        let d = editDistance(w, Array(c.lowercased()))
        if d <= max(1, min(3, (w.count + 2) / 3)), d < (best?.1 ?? .max) { best = (c, d) }
    }
    return best?.0
}

/// Optimal string alignment distance: insertions, deletions, substitutions, adjacent swaps.
func editDistance(_ a: [Character], _ b: [Character]) -> Int {
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var d = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
    for i in 0...a.count { d[i][0] = i }
    for j in 0...b.count { d[0][j] = j }
    for i in 1...a.count {
        for j in 1...b.count {
            let cost = a[i - 1] == b[j - 1] ? 0 : 1
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
            }
        }
    }
    return d[a.count][b.count]
}
