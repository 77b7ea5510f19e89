/// `${VAR}` and `${VAR:-default}` in the scalar values of a pipeline file, substituted after YAML
/// parsing: a value from the environment is only ever text inside the scalar that referenced it,
/// never YAML (a `#`, `:` or `[` in a secret stays in the value). `$${` stands for a literal `${`.
/// An empty variable counts as unset when a default is given (as in the shell's `:-`).
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
            if c == "$", i + 1 < chars.count, chars[i + 1] == "{", let close = chars[(i + 2)...].firstIndex(of: "}") {
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
                        out.append(contentsOf: fallback.unicodeScalars)
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

    static func isName(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, first == "_" || first.properties.isAlphabetic else { return false }
        return s.unicodeScalars.allSatisfy { $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) }
    }
}
