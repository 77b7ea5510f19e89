/// Finds a YAML alias used as a mapping key (`? *a`, `*a : x`, `[*a]: x`) in a pipeline file's
/// text, before it is composed.
///
/// Yams compares the keys of every mapping while it composes, and comparing an alias key walks
/// everything the alias stands for: a few hundred bytes of nested aliases as a key would keep
/// `check` busy for minutes before `ConfigTree` could count anything. No pipeline needs an alias
/// (or any collection) as a key, so the text is scanned for one first. The scan knows enough
/// YAML to skip quoted strings, comments and block scalars; a false alarm needs an unquoted
/// `*word :` inside a plain value, which no stage reads.
enum AliasKeyScan {
    /// The line and column (1-based, in Unicode scalars) of the first alias used as a key.
    static func first(in text: String) -> (line: Int, column: Int)? {
        var blockIndent: Int?  // inside a block scalar deeper than this indentation
        for (index, lineText) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let chars = Array(lineText.unicodeScalars)
            let indent = chars.prefix { $0 == " " }.count
            if let b = blockIndent {
                if indent == chars.count || indent > b { continue }
                blockIndent = nil
            }
            // The line's tokens outside quotes and comments.
            var plain: [(Int, Unicode.Scalar)] = []
            var i = 0
            while i < chars.count {
                let c = chars[i]
                if c == "#", i == 0 || chars[i - 1] == " " || chars[i - 1] == "\t" { break }
                if c == "'" || c == "\"", i == 0 || " \t[{,:-?".unicodeScalars.contains(chars[i - 1]) {
                    var j = i + 1
                    while j < chars.count {
                        if c == "\"" && chars[j] == "\\" {
                            j += 2
                            continue
                        }
                        if chars[j] == c {
                            if c == "'" && j + 1 < chars.count && chars[j + 1] == "'" {
                                j += 2
                                continue
                            }
                            break
                        }
                        j += 1
                    }
                    plain.append((i, "\""))  // a quoted scalar counts as one token
                    i = j + 1
                    continue
                }
                plain.append((i, c))
                i += 1
            }
            let tokens = plain.map(\.1)
            // `key: |`, `- >-`, `|2`: the lines below, deeper than this one, are text.
            var end = tokens.count
            while end > 0, tokens[end - 1] == " " || tokens[end - 1] == "\t" { end -= 1 }
            var m = end
            while m > 0, "+-0123456789".unicodeScalars.contains(tokens[m - 1]) { m -= 1 }
            if m > 0, tokens[m - 1] == "|" || tokens[m - 1] == ">", m == 1 || " :-".unicodeScalars.contains(tokens[m - 2]) {
                blockIndent = indent
            }
            var explicitKey = false
            var k = 0
            while k < tokens.count {
                let c = tokens[k]
                let atTokenStart = k == 0 || " \t[{,".unicodeScalars.contains(tokens[k - 1])
                if c == "?", atTokenStart, k + 1 == tokens.count || tokens[k + 1] == " " { explicitKey = true }
                if c == "*", atTokenStart || tokens[k - 1] == "-" || tokens[k - 1] == "?" || tokens[k - 1] == ":",
                    k + 1 < tokens.count, !" \t,[]{}".unicodeScalars.contains(tokens[k + 1])
                {
                    // libyaml's anchor names: letters, digits, `-` and `_`.
                    var e = k + 1
                    while e < tokens.count, tokens[e].properties.isAlphabetic || ("0"..."9").contains(tokens[e])
                        || tokens[e] == "-" || tokens[e] == "_"
                    {
                        e += 1
                    }
                    var n = e
                    while n < tokens.count, tokens[n] == " " || tokens[n] == "]" || tokens[n] == "}" { n += 1 }
                    let colonFollows =
                        n < tokens.count && tokens[n] == ":" && (n + 1 == tokens.count || " \t,]}".unicodeScalars.contains(tokens[n + 1]))
                    if explicitKey || colonFollows { return (index + 1, plain[k].0 + 1) }
                    k = e
                    continue
                }
                k += 1
            }
        }
        return nil
    }
}
