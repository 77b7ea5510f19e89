/// `${VAR}` and `${VAR:-default}` in a pipeline file, substituted in the text before YAML parsing.
/// `$${` stands for a literal `${`. A default may itself hold references:
/// `${MODEL_REGISTRY:-${DRIFTWOOD_HOME:-.}/samples/models.yml}`.
public enum EnvironmentSubstitution {
    /// An undefined variable, located in the original text (1-based line and column).
    public struct Undefined: Sendable, Equatable {
        public let name: String
        public let line: Int
        public let column: Int
    }

    /// Substitutes every reference; returns the new text and the undefined variables (left as written).
    public static func apply(_ text: String, environment: [String: String]) -> (text: String, undefined: [Undefined]) {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        var undefined: [Undefined] = []
        let chars = Array(text.unicodeScalars)
        var i = 0
        var line = 1
        var column = 1
        while i < chars.count {
            let c = chars[i]
            if c == "$", i + 2 < chars.count, chars[i + 1] == "$", chars[i + 2] == "{" {
                out += "${"
                i += 3
                column += 3
                continue
            }
            if c == "$", i + 1 < chars.count, chars[i + 1] == "{", let close = matchingClose(chars, from: i + 2) {
                let body = String(String.UnicodeScalarView(chars[(i + 2)..<close]))
                let name: String
                let fallback: String?
                if let r = body.range(of: ":-") {
                    name = String(body[..<r.lowerBound])
                    fallback = String(body[r.upperBound...])
                } else {
                    name = body
                    fallback = nil
                }
                if isName(name) {
                    if let v = environment[name], !(v.isEmpty && fallback != nil) {
                        out += v
                    } else if let fallback {
                        let inner = apply(fallback, environment: environment)
                        out += inner.text
                        undefined += inner.undefined.map {
                            Undefined(name: $0.name, line: line + $0.line - 1, column: $0.line == 1 ? column + $0.column + name.count + 3 : $0.column)
                        }
                    } else {
                        undefined.append(Undefined(name: name, line: line, column: column))
                        out += "${\(body)}"
                    }
                    column += close - i + 1
                    i = close + 1
                    continue
                }
            }
            out.unicodeScalars.append(c)
            if c == "\n" {
                line += 1
                column = 1
            } else {
                column += 1
            }
            i += 1
        }
        return (out, undefined)
    }

    /// The `}` that closes the reference whose body starts at `start`, past nested `${…}`.
    static func matchingClose(_ chars: [Unicode.Scalar], from start: Int) -> Int? {
        var depth = 0
        var i = start
        while i < chars.count {
            if chars[i] == "$", i + 1 < chars.count, chars[i + 1] == "{" {
                depth += 1
                i += 2
                continue
            }
            if chars[i] == "}" {
                if depth == 0 { return i }
                depth -= 1
            }
            i += 1
        }
        return nil
    }

    static func isName(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, first == "_" || first.properties.isAlphabetic else { return false }
        return s.unicodeScalars.allSatisfy { $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) }
    }
}
