/// What users write that RE2 reads differently, and why RE2 refuses what it refuses.
enum RE2Syntax {
    /// `pattern` with `(?<name>` spelled `(?P<name>` (the only spelling this RE2 knows), outside
    /// character classes and `\Q…\E` quotes; everything else unchanged.
    static func translate(_ pattern: String) -> String {
        let s = Array(pattern.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(s.count + 8)
        walk(s) { i, inClass in
            if !inClass, s[i] == UInt8(ascii: "("), i + 3 < s.count, s[i + 1] == UInt8(ascii: "?"),
                s[i + 2] == UInt8(ascii: "<"), s[i + 3] != UInt8(ascii: "="), s[i + 3] != UInt8(ascii: "!")
            {
                out += [UInt8(ascii: "("), UInt8(ascii: "?"), UInt8(ascii: "P")]
                return 2  // "(?" consumed; "<" follows as written
            }
            out.append(s[i])
            return 1
        } escaped: { i, n in
            out += s[i..<(i + n)]
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// A reason for refusing `pattern` that names the construct, when it is one RE2 leaves out on
    /// purpose; otherwise RE2's own message.
    static func explain(_ pattern: String, engineMessage: String) -> String {
        let why = "driftwood's regexes (RE2 syntax) match in linear time, which rules out constructs that need backtracking"
        let s = Array(pattern.utf8)
        var found: String?
        walk(s) { i, inClass in
            guard found == nil, !inClass, s[i] == UInt8(ascii: "(") || isQuantifier(s[i]) else { return 1 }
            let rest = String(decoding: s[i..<min(s.count, i + 4)], as: UTF8.self)
            if rest.hasPrefix("(?=") || rest.hasPrefix("(?!") || rest.hasPrefix("(?<=") || rest.hasPrefix("(?<!") {
                found = "lookahead and lookbehind (\(rest.hasPrefix("(?<") ? rest.prefix(4) : rest.prefix(3))…) are not supported"
            } else if rest.hasPrefix("(?>") {
                found = "atomic groups ((?>…) are not supported"
            } else if isQuantifier(s[i]), i + 1 < s.count, s[i + 1] == UInt8(ascii: "+") {
                found = "possessive quantifiers (\(rest.prefix(2))) are not supported"
            }
            return 1
        } escaped: { i, n in
            guard found == nil, n == 2 || s[i + 1] == UInt8(ascii: "k") else { return }
            let c = s[i + 1]
            if (UInt8(ascii: "1")...UInt8(ascii: "9")).contains(c) {
                found = "backreferences (\\\(Character(Unicode.Scalar(c)))) are not supported"
            } else if c == UInt8(ascii: "k") || c == UInt8(ascii: "g") {
                found = "backreferences (\\\(Character(Unicode.Scalar(c)))…) are not supported"
            }
        }
        if let found { return "\(found): \(why)" }
        return engineMessage
    }

    static func isQuantifier(_ c: UInt8) -> Bool {
        c == UInt8(ascii: "*") || c == UInt8(ascii: "+") || c == UInt8(ascii: "?") || c == UInt8(ascii: "}")
    }

    /// Calls `plain` for each byte outside an escape (with whether it is inside `[…]`; it returns
    /// how many bytes it consumed) and `escaped` for each escape (`\x`, `\k<…>`, a `\Q…\E` run).
    static func walk(
        _ s: [UInt8], plain: (Int, Bool) -> Int, escaped: (Int, Int) -> Void
    ) {
        var i = 0
        var inClass = false
        var classStart = -1
        while i < s.count {
            let c = s[i]
            if c == UInt8(ascii: "\\"), i + 1 < s.count {
                var n = 2
                if s[i + 1] == UInt8(ascii: "Q") {
                    // Literal text up to \E (or the end).
                    var j = i + 2
                    while j < s.count, !(s[j] == UInt8(ascii: "\\") && j + 1 < s.count && s[j + 1] == UInt8(ascii: "E")) {
                        j += 1
                    }
                    n = min(s.count, j + 2) - i
                } else if s[i + 1] == UInt8(ascii: "k"), i + 2 < s.count, s[i + 2] == UInt8(ascii: "<") {
                    var j = i + 3
                    while j < s.count, s[j] != UInt8(ascii: ">") { j += 1 }
                    n = min(s.count, j + 1) - i
                }
                escaped(i, n)
                i += n
                continue
            }
            if inClass {
                // A POSIX class like `[:alpha:]` inside brackets does not end them.
                if c == UInt8(ascii: "["), i + 1 < s.count, s[i + 1] == UInt8(ascii: ":") {
                    var j = i + 2
                    while j + 1 < s.count, !(s[j] == UInt8(ascii: ":") && s[j + 1] == UInt8(ascii: "]")) { j += 1 }
                    let end = min(s.count, j + 2)
                    while i < end { i += plain(i, true) }
                    continue
                }
                // `]` right after `[` or `[^` is a literal.
                if c == UInt8(ascii: "]"), i > classStart + 1,
                    !(i == classStart + 2 && s[classStart + 1] == UInt8(ascii: "^"))
                {
                    inClass = false
                }
                i += plain(i, true)
                continue
            }
            if c == UInt8(ascii: "[") {
                inClass = true
                classStart = i
                i += plain(i, false)
                continue
            }
            i += plain(i, false)
        }
    }
}
