/// Items of a `_bulk` answer that were already on the server: `"status": 409` on a `create` whose
/// id we chose (the end-of-run summary's "already present"). A byte scan, and only when the
/// answer says `"errors": true`; a successful answer costs a look at its first members.
enum AlreadyPresent {
    static func count(in body: [UInt8]) -> Int {
        // Most answers lead with `"errors":false` (filter_path or not): nothing to count.
        if ElasticsearchRetry.leadingErrorsFlag(body) == false { return 0 }
        guard contains(body, Array(#""errors""#.utf8), then: Array("true".utf8), from: 0) != nil else { return 0 }
        var n = 0
        var from = 0
        while let end = contains(body, Array(#""status""#.utf8), then: Array("409".utf8), from: from) {
            n += 1
            from = end
        }
        return n
    }

    /// The index past `key`, optional blanks, `:`, optional blanks and `value`, searching from `from`.
    static func contains(_ body: [UInt8], _ key: [UInt8], then value: [UInt8], from: Int) -> Int? {
        var i = from
        while i + key.count <= body.count {
            if body[i] == key[0], body[i..<(i + key.count)].elementsEqual(key) {
                var j = i + key.count
                while j < body.count, body[j] == 0x20 { j += 1 }
                if j < body.count, body[j] == UInt8(ascii: ":") {
                    j += 1
                    while j < body.count, body[j] == 0x20 { j += 1 }
                    if j + value.count <= body.count, body[j..<(j + value.count)].elementsEqual(value) {
                        let end = j + value.count
                        // `4090` is not 409.
                        if end == body.count || !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(body[end]) { return end }
                    }
                }
                i += key.count
                continue
            }
            i += 1
        }
        return nil
    }
}
