/// Rewrites compact JSON text so that no object holds a key twice: the key keeps the place where
/// it first appeared and takes the value it was given last (as JavaScript's `JSON.parse` and
/// Python's `json` read it), at any depth. Elasticsearch rejects a document with a repeated
/// field, so driftwood never writes one.
///
/// The slow path of `JSONCompactor`: it runs only when the single pass saw (or could not rule out)
/// a repeated key, which ordinary log lines never have.
enum JSONDuplicateKeys {
    /// The text at `range` without repeated keys; nil when no object repeats a key.
    static func deduplicated(_ p: UnsafePointer<UInt8>, _ range: Range<Int>) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(range.count)
        return write(p, range, into: &out) ? out : nil
    }

    /// Appends the value at `range` without repeated keys; true when some were dropped.
    static func write(_ p: UnsafePointer<UInt8>, _ range: Range<Int>, into out: inout [UInt8]) -> Bool {
        switch p[range.lowerBound] {
        case UInt8(ascii: "{"):
            var members: [(key: Range<Int>, value: Range<Int>)] = []
            JSONText.forEachMember(p, range) { key, value in
                members.append((key, value))
                return true
            }
            var changed = false
            if members.count > 1 {
                var slot: [[UInt8]: Int] = [:]
                var unique: [(key: Range<Int>, value: Range<Int>)] = []
                unique.reserveCapacity(members.count)
                for m in members {
                    let name =
                        JSONText.hasBackslash(p, m.key)
                        ? Array(JSONText.decodeString(p, m.key).utf8)
                        : Array(UnsafeBufferPointer(start: p + m.key.lowerBound, count: m.key.count))
                    if let k = slot[name] {
                        unique[k].value = m.value
                        changed = true
                    } else {
                        slot[name] = unique.count
                        unique.append(m)
                    }
                }
                members = unique
            }
            out.append(UInt8(ascii: "{"))
            for (k, m) in members.enumerated() {
                if k > 0 { out.append(UInt8(ascii: ",")) }
                // The key with its quotes and the colon, as written.
                out.append(contentsOf: UnsafeBufferPointer(start: p + m.key.lowerBound - 1, count: m.key.count + 3))
                if write(p, m.value, into: &out) { changed = true }
            }
            out.append(UInt8(ascii: "}"))
            return changed
        case UInt8(ascii: "["):
            var changed = false
            var first = true
            out.append(UInt8(ascii: "["))
            JSONText.forEachElement(p, range) { element in
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                if write(p, element, into: &out) { changed = true }
                return true
            }
            out.append(UInt8(ascii: "]"))
            return changed
        default:
            out.append(contentsOf: UnsafeBufferPointer(start: p + range.lowerBound, count: range.count))
            return false
        }
    }

    /// The member spans of the object text `text` (relative to its start, plus `offset`).
    static func memberSpans(_ text: UnsafeBufferPointer<UInt8>, offset: Int) -> [MemberSpan] {
        guard let p = text.baseAddress, text.first == UInt8(ascii: "{") else { return [] }
        var spans: [MemberSpan] = []
        JSONText.forEachMember(p, 0..<text.count) { key, value in
            spans.append(
                MemberSpan(
                    keyStart: Int32(truncatingIfNeeded: key.lowerBound + offset),
                    keyEnd: Int32(truncatingIfNeeded: key.upperBound + offset),
                    valueStart: Int32(truncatingIfNeeded: value.lowerBound + offset),
                    valueEnd: Int32(truncatingIfNeeded: value.upperBound + offset)))
            return true
        }
        return spans
    }
}
