#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A top-level member name prepared once for the per-event paths of the drift and monitor
/// filters: its raw bytes, and whether its JSON form needs escaping.
public struct MemberName: Sendable {
    public let bytes: [UInt8]
    /// The name needs no escaping and is not `@timestamp` (which goes first): a new member is
    /// one append of its key and value.
    let plain: Bool

    public init(_ name: [UInt8]) {
        bytes = name
        var escaped: [UInt8] = []
        name.withUnsafeBufferPointer { JSONWriter.appendEscaped(utf8: $0, to: &escaped) }
        plain = escaped == name && name != FieldPath.timestamp.components[0]
    }
}

extension Fields {
    /// The index of the top-level member named `name`; `hint` (the index it had in the previous
    /// event, events of one source being laid out alike) is tried first and updated.
    @inline(__always)
    public func memberIndex(_ name: [UInt8], hint: inout Int) -> Int? {
        arena.withUnsafeBufferPointer { buf -> Int? in
            let p = buf.baseAddress!
            let escaped = escapedKeys
            if hint < members.count {
                let s = members[hint].span
                if Self.keyMatches(p, Int(s.keyStart)..<Int(s.keyEnd), name, escaped: escaped) { return hint }
            }
            for k in members.indices {
                let s = members[k].span
                if Self.keyMatches(p, Int(s.keyStart)..<Int(s.keyEnd), name, escaped: escaped) {
                    hint = k
                    return k
                }
            }
            return nil
        }
    }

    /// `JSONText.keyEquals`, with the common case (same length, no escapes) compared inline.
    /// Without `escaped` keys in the event, only a key of the same length can match.
    @inline(__always)
    static func keyMatches(_ p: UnsafePointer<UInt8>, _ range: Range<Int>, _ name: [UInt8], escaped: Bool) -> Bool {
        if !escaped && range.count != name.count { return false }
        // A key that differs in its first byte differs, unless it starts with an escape.
        if !range.isEmpty, let first = name.first, p[range.lowerBound] != first,
            p[range.lowerBound] != UInt8(ascii: "\\")
        {
            return false
        }
        if range.count == name.count {
            let equal = name.withUnsafeBufferPointer { n -> Bool in
                var i = 0
                while i < n.count {
                    if p[range.lowerBound + i] != n[i] { return false }
                    i += 1
                }
                return true
            }
            if equal { return true }
        } else if range.count < name.count {
            return false
        }
        return JSONText.hasBackslash(p, range) && JSONText.keyEquals(p, range, name)
    }

    /// Sets the top-level member `name` to a compact JSON value: replaced where it is, or
    /// appended. `member` holds the name's raw bytes followed by the value's text, so a new
    /// member costs one copy. `hint` as in `memberIndex(_:hint:)`, for the member's own index.
    public mutating func setMember(_ name: MemberName, member: UnsafeBufferPointer<UInt8>, hint: inout Int) {
        let index = memberIndex(name.bytes, hint: &hint) ?? -1
        setMember(name, member: member, at: index)
        if index < 0 { hint = members.count - 1 }
    }

    /// `setMember(_:member:hint:)` for a caller that knows where the member is: at `index`, or
    /// nowhere yet (-1).
    public mutating func setMember(_ name: MemberName, member: UnsafeBufferPointer<UInt8>, at index: Int) {
        let keyLength = name.bytes.count
        let start = Int32(arena.count)
        guard index < 0 && name.plain else {
            arena.append(contentsOf: UnsafeBufferPointer(rebasing: member[keyLength...]))
            if index >= 0 {
                members[index].span.valueStart = start
                members[index].span.valueEnd = Int32(arena.count)
                members[index].isText = false
            } else {
                appendMember(name: name.bytes, valueStart: start, valueEnd: Int32(arena.count), isText: false)
            }
            return
        }
        arena.append(contentsOf: member)
        let valueStart = start + Int32(keyLength)
        members.append(
            Member(
                span: MemberSpan(keyStart: start, keyEnd: valueStart, valueStart: valueStart, valueEnd: Int32(arena.count)),
                isText: false))
    }
}
