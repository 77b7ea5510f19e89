#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where one path's value sits in an event's bytes, found by `PathSet.locate`.
public struct ValueSlot: Sendable {
    public var start: Int32
    public var end: Int32
    /// The bytes are raw UTF-8 string content (an input's `message`), not JSON.
    public var isText: Bool
    /// False when the event has no value at the path.
    public var found: Bool

    public init(start: Int32 = 0, end: Int32 = 0, isText: Bool = false, found: Bool = false) {
        self.start = start
        self.end = end
        self.isText = isText
        self.found = found
    }

    public var range: Range<Int> { Int(start)..<Int(end) }
}

extension Fields {
    /// Calls `body` with the event's bytes, which `ValueSlot` ranges index.
    public func withBytes<R>(_ body: (UnsafePointer<UInt8>) -> R) -> R {
        arena.withUnsafeBufferPointer { buf in
            if let p = buf.baseAddress { return body(p) }
            return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 1) { body(UnsafePointer($0.baseAddress!)) }
        }
    }
}

/// A fixed set of field paths read from an event in one pass: each top-level member is found
/// once however many paths start with it (trying first where it was in the last event: events
/// of one source are laid out alike), and an object holding several of them (`features` for
/// `features.amount`, `features.age`, …) is walked once. `locate` gives offsets into the
/// event's bytes (`Fields.withBytes`), so reading values copies and retains nothing: what the
/// drift and monitor filters do for every event. Not thread-safe (it keeps those hints).
public final class PathSet {
    struct Child {
        let name: [UInt8]
        /// The path's index.
        let index: Int
        /// Components below this one (paths three or more deep).
        let rest: [[UInt8]]
    }

    public struct Root {
        public let name: [UInt8]
        /// Indices of the paths that are this top-level member itself.
        var whole: [Int]
        var children: [Child]
    }

    public let paths: [FieldPath]
    public let roots: [Root]
    // The same, flattened into memory of its own for the per-event loop.
    let rootNames: UnsafeMutableBufferPointer<UnsafeBufferPointer<UInt8>>
    let childNames: UnsafeMutableBufferPointer<UnsafeBufferPointer<UInt8>>
    let childIndex: UnsafeMutableBufferPointer<Int>
    /// The child's path goes deeper (three or more components).
    let childDeep: UnsafeMutableBufferPointer<Bool>
    /// Paths that are root r itself: wholeIndex[wholeStart[r] ..< wholeStart[r + 1]].
    let wholeIndex: UnsafeMutableBufferPointer<Int>
    let wholeStart: UnsafeMutableBufferPointer<Int>
    /// Children of root r: childStart[r] ..< childStart[r + 1].
    let childStart: UnsafeMutableBufferPointer<Int>
    /// Each root's member index in the last event.
    let hints: UnsafeMutableBufferPointer<Int>

    public init(_ paths: [FieldPath]) {
        self.paths = paths
        var roots: [Root] = []
        for (index, path) in paths.enumerated() {
            let first = path.components[0]
            var k = roots.firstIndex { $0.name == first }
            if k == nil {
                roots.append(Root(name: first, whole: [], children: []))
                k = roots.count - 1
            }
            if path.components.count == 1 {
                roots[k!].whole.append(index)
            } else {
                roots[k!].children.append(
                    Child(name: path.components[1], index: index, rest: Array(path.components.dropFirst(2))))
            }
        }
        self.roots = roots
        func copy(_ bytes: [UInt8]) -> UnsafeBufferPointer<UInt8> {
            let b = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(1, bytes.count))
            _ = b.initialize(from: bytes)
            return UnsafeBufferPointer(start: b.baseAddress, count: bytes.count)
        }
        let children = roots.flatMap(\.children)
        rootNames = .allocate(capacity: max(1, roots.count))
        for (r, root) in roots.enumerated() { rootNames[r] = copy(root.name) }
        childNames = .allocate(capacity: max(1, children.count))
        childIndex = .allocate(capacity: max(1, children.count))
        childDeep = .allocate(capacity: max(1, children.count))
        for (c, child) in children.enumerated() {
            childNames[c] = copy(child.name)
            childIndex[c] = child.index
            childDeep[c] = !child.rest.isEmpty
        }
        let whole = roots.flatMap(\.whole)
        wholeIndex = .allocate(capacity: max(1, whole.count))
        for (k, i) in whole.enumerated() { wholeIndex[k] = i }
        wholeStart = .allocate(capacity: roots.count + 1)
        var w = 0
        for (r, root) in roots.enumerated() {
            wholeStart[r] = w
            w += root.whole.count
        }
        wholeStart[roots.count] = w
        childStart = .allocate(capacity: roots.count + 1)
        var n = 0
        for (r, root) in roots.enumerated() {
            childStart[r] = n
            n += root.children.count
        }
        childStart[roots.count] = n
        hints = .allocate(capacity: max(1, roots.count))
        hints.initialize(repeating: 0)
    }

    deinit {
        for r in roots.indices { UnsafeMutableRawPointer(mutating: rootNames[r].baseAddress!).deallocate() }
        for c in 0..<childStart[roots.count] { UnsafeMutableRawPointer(mutating: childNames[c].baseAddress!).deallocate() }
        rootNames.deallocate()
        childNames.deallocate()
        childIndex.deallocate()
        childDeep.deallocate()
        wholeIndex.deallocate()
        wholeStart.deallocate()
        childStart.deallocate()
        hints.deallocate()
    }

    /// Finds every path's value in `fields`: `slots[i]` tells where path `i`'s value sits in the
    /// event's bytes (`Fields.withBytes`), or that it is missing. `slots` holds one per path.
    public func locate(in fields: Fields, into slots: UnsafeMutableBufferPointer<ValueSlot>) {
        for i in slots.indices { slots[i].found = false }
        let escaped = fields.escapedKeys
        fields.arena.withUnsafeBufferPointer { buf in
            guard let p = buf.baseAddress else { return }
            fields.members.withUnsafeBufferPointer { ms in
                for r in 0..<roots.count {
                    let name = rootNames[r]
                    var k = hints[r]
                    if !(k < ms.count && Self.matches(p, ms[k].span, name, escaped: escaped)) {
                        // Without escaped keys only a key of the same length can match: the spans
                        // alone rule out most members, without reading their bytes.
                        k = -1
                        for j in 0..<ms.count where Self.matches(p, ms[j].span, name, escaped: escaped) {
                            k = j
                            break
                        }
                        guard k >= 0 else { continue }
                        hints[r] = k
                    }
                    let m = ms[k]
                    for w in wholeStart[r]..<wholeStart[r + 1] {
                        slots[wholeIndex[w]] = ValueSlot(
                            start: m.span.valueStart, end: m.span.valueEnd, isText: m.isText, found: true)
                    }
                    let first = childStart[r]
                    let last = childStart[r + 1]
                    guard first < last, !m.isText, p[Int(m.span.valueStart)] == UInt8(ascii: "{") else { continue }
                    // Walk the object once, matching each member against this root's children.
                    var left = last - first
                    let end = Int(m.span.valueEnd)
                    var i = Int(m.span.valueStart) + 1
                    while i < end, p[i] == UInt8(ascii: "\"") {
                        let keyEnd = JSONText.skipString(p, i + 1, end)
                        let valueStart = keyEnd + 1
                        let valueEnd = JSONText.skipValue(p, valueStart, end)
                        for c in first..<last where !slots[childIndex[c]].found {
                            guard Self.matches(p, i + 1, keyEnd - 1, childNames[c]) else { continue }
                            var found: Range<Int>? = valueStart..<valueEnd
                            if childDeep[c] {
                                found = Self.descend(p, valueStart..<valueEnd, roots[r].children[c - first].rest)
                            }
                            if let found {
                                slots[childIndex[c]] = ValueSlot(
                                    start: Int32(found.lowerBound), end: Int32(found.upperBound), isText: false,
                                    found: true)
                            }
                            left -= 1
                        }
                        if left == 0 { break }
                        i = valueEnd + 1
                    }
                }
            }
        }
    }

    /// True when the key at `span` names `name`; `escaped` as `Fields.escapedKeys`.
    @inline(__always)
    static func matches(_ p: UnsafePointer<UInt8>, _ span: MemberSpan, _ name: UnsafeBufferPointer<UInt8>, escaped: Bool) -> Bool {
        let start = Int(span.keyStart)
        let length = Int(span.keyEnd) - start
        if !escaped {
            guard length == name.count else { return false }
            // Most keys of the same length differ in their first byte: no call for those.
            return length == 0 || (p[start] == name[0] && memcmp(p + start, name.baseAddress!, length) == 0)
        }
        return matches(p, start, start + length, name)
    }

    /// True when the escaped key at `p[start..<end]` names `name`.
    @inline(__always)
    static func matches(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int, _ name: UnsafeBufferPointer<UInt8>) -> Bool {
        let length = end - start
        // A key that differs in its first byte differs, unless it starts with an escape.
        if length > 0, !name.isEmpty, p[start] != name[0], p[start] != UInt8(ascii: "\\") { return false }
        if length == name.count {
            var i = 0
            while i < length {
                if p[start + i] != name[i] { break }
                i += 1
            }
            if i == length { return true }
        } else if length < name.count {
            return false
        }
        return JSONText.hasBackslash(p, start..<end) && JSONText.keyEquals(p, start..<end, Array(name))
    }

    /// The value at `components` below the object text at `range`.
    static func descend(_ p: UnsafePointer<UInt8>, _ range: Range<Int>, _ components: [[UInt8]]) -> Range<Int>? {
        var range = range
        for name in components {
            guard p[range.lowerBound] == UInt8(ascii: "{") else { return nil }
            var next: Range<Int>?
            JSONText.forEachMember(p, range) { key, value in
                if JSONText.keyEquals(p, key, name) {
                    next = value
                    return false
                }
                return true
            }
            guard let n = next else { return nil }
            range = n
        }
        return range
    }
}

extension PathSet {
    /// Calls `body` with the bytes that name a value (as `locate` finds it) as a group:
    /// a string's decoded content, anything else's JSON text. No String for plain strings.
    @inline(__always)
    public static func withKeyBytes<R>(
        _ p: UnsafePointer<UInt8>, _ range: Range<Int>, isText: Bool, _ body: (UnsafeBufferPointer<UInt8>) -> R
    ) -> R {
        if isText { return body(UnsafeBufferPointer(start: p + range.lowerBound, count: range.count)) }
        guard p[range.lowerBound] == UInt8(ascii: "\"") else {
            return body(UnsafeBufferPointer(start: p + range.lowerBound, count: range.count))
        }
        let content = (range.lowerBound + 1)..<(range.upperBound - 1)
        if !JSONText.hasBackslash(p, content) {
            return body(UnsafeBufferPointer(start: p + content.lowerBound, count: content.count))
        }
        var decoded = JSONText.decodeString(p, content)
        return decoded.withUTF8 { body($0) }
    }
}
