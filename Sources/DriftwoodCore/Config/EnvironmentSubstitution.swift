/// `${VAR}` and `${VAR:-default}` in the scalar values of a pipeline file, substituted after YAML
/// parsing: a value from the environment is only ever text inside the scalar that referenced it,
/// never YAML (a `#`, `:` or `[` in a secret stays in the value). `$${` stands for a literal `${`.
/// An empty variable counts as unset when a default is given (as in the shell's `:-`). A default
/// may itself hold references: `${MODEL_REGISTRY:-${DRIFTWOOD_HOME:-.}/samples/models.yml}`.
public enum EnvironmentSubstitution {
    /// An undefined variable: its name and where the reference starts within the scalar
    /// (in Unicode scalars).
    public struct Undefined: Sendable, Equatable {
        public let name: String
        public let offset: Int
    }

    /// `text` with every reference substituted, and the undefined variables (left as written).
    public static func apply(_ text: String, environment: [String: String]) -> (text: String, undefined: [Undefined]) {
        guard text.utf8.contains(UInt8(ascii: "$")) else { return (text, []) }
        var out = String.UnicodeScalarView()
        var undefined: [Undefined] = []
        let chars = Array(text.unicodeScalars)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c == "$", i + 2 < chars.count, chars[i + 1] == "$", chars[i + 2] == "{" {
                out.append(contentsOf: "${".unicodeScalars)
                i += 3
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
                        out.append(contentsOf: v.unicodeScalars)
                    } else if let fallback {
                        let inner = apply(fallback, environment: environment)
                        out.append(contentsOf: inner.text.unicodeScalars)
                        // The default starts after `${`, the name and `:-`.
                        undefined += inner.undefined.map { Undefined(name: $0.name, offset: i + name.unicodeScalars.count + 4 + $0.offset) }
                    } else {
                        undefined.append(Undefined(name: name, offset: i))
                        out.append(contentsOf: "${\(body)}".unicodeScalars)
                    }
                    i = close + 1
                    continue
                }
            }
            out.append(c)
            i += 1
        }
        return (String(out), undefined)
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
