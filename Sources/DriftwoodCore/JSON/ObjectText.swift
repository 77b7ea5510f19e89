/// Rewriting compact JSON object text: setting or removing a member at a nested path.
enum ObjectText {
    /// Writes `{"a":{"b":value}}` for components [a, b].
    static func nested(_ components: ArraySlice<[UInt8]>, _ value: [UInt8], into out: inout [UInt8]) {
        guard let first = components.first else {
            out += value
            return
        }
        out.append(UInt8(ascii: "{"))
        appendKey(first, to: &out)
        nested(components.dropFirst(), value, into: &out)
        out.append(UInt8(ascii: "}"))
    }

    static func appendKey(_ name: [UInt8], to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        name.withUnsafeBufferPointer { JSONWriter.appendEscaped(utf8: $0, to: &out) }
        out.append(UInt8(ascii: "\""))
        out.append(UInt8(ascii: ":"))
    }

    static func find(_ p: UnsafePointer<UInt8>, _ object: Range<Int>, _ name: [UInt8]) -> Range<Int>? {
        var found: Range<Int>?
        JSONText.forEachMember(p, object) { key, value in
            if JSONText.keyEquals(p, key, name) {
                found = value
                return false
            }
            return true
        }
        return found
    }

    /// Writes the object at `object` with `components` set to `value`; false when a parent on the
    /// path is not an object.
    static func setting(
        _ p: UnsafePointer<UInt8>, _ object: Range<Int>, _ components: ArraySlice<[UInt8]>, _ value: [UInt8],
        into out: inout [UInt8]
    ) -> Bool {
        let name = components.first!
        if let member = find(p, object, name) {
            out.append(contentsOf: UnsafeBufferPointer(start: p + object.lowerBound, count: member.lowerBound - object.lowerBound))
            if components.count == 1 {
                out += value
            } else {
                guard p[member.lowerBound] == UInt8(ascii: "{") else { return false }
                guard setting(p, member, components.dropFirst(), value, into: &out) else { return false }
            }
            out.append(contentsOf: UnsafeBufferPointer(start: p + member.upperBound, count: object.upperBound - member.upperBound))
            return true
        }
        // Append a new member before the closing brace.
        out.append(contentsOf: UnsafeBufferPointer(start: p + object.lowerBound, count: object.count - 1))
        if object.count > 2 { out.append(UInt8(ascii: ",")) }
        appendKey(name, to: &out)
        nested(components.dropFirst(), value, into: &out)
        out.append(UInt8(ascii: "}"))
        return true
    }

    /// Writes the object at `object` without the member at `components` (which exists).
    static func removing(
        _ p: UnsafePointer<UInt8>, _ object: Range<Int>, _ components: ArraySlice<[UInt8]>, into out: inout [UInt8]
    ) {
        let name = components.first!
        out.append(UInt8(ascii: "{"))
        var first = true
        JSONText.forEachMember(p, object) { key, value in
            let matches = JSONText.keyEquals(p, key, name)
            if matches && components.count == 1 { return true }
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            out.append(contentsOf: UnsafeBufferPointer(start: p + key.lowerBound - 1, count: value.lowerBound - key.lowerBound + 1))
            if matches {
                removing(p, value, components.dropFirst(), into: &out)
            } else {
                out.append(contentsOf: UnsafeBufferPointer(start: p + value.lowerBound, count: value.count))
            }
            return true
        }
        out.append(UInt8(ascii: "}"))
    }
}
