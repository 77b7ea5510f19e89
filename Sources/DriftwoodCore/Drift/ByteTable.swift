#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Interns byte strings (category values, group names, field names) as dense ids 0, 1, 2, …
///
/// Open addressing over a hash of the bytes, keys stored back to back in one arena, so a lookup
/// of a key that is already there allocates nothing and builds no String: what the filters do
/// once per event and feature.
public struct ByteTable: Sendable {
    struct Slot: Sendable {
        var hash: UInt64
        var id: Int32  // -1: empty
    }

    var slots: [Slot]
    var arena: [UInt8] = []
    /// Start and end of each id's key in `arena`.
    var bounds: [(Int32, Int32)] = []
    var hashes: [UInt64] = []

    public init(capacity: Int = 16) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = [Slot](repeating: Slot(hash: 0, id: -1), count: size)
    }

    /// Number of keys.
    public var count: Int { bounds.count }

    /// The id of `key`, or nil.
    @inline(__always)
    public func id(of key: UnsafeBufferPointer<UInt8>) -> Int? {
        let h = Self.hash(key)
        let mask = slots.count - 1
        var i = Int(truncatingIfNeeded: h) & mask
        return slots.withUnsafeBufferPointer { s -> Int? in
            while true {
                let slot = s[i]
                if slot.id < 0 { return nil }
                if slot.hash == h && equals(Int(slot.id), key) { return Int(slot.id) }
                i = (i + 1) & mask
            }
        }
    }

    public func id(of key: [UInt8]) -> Int? { key.withUnsafeBufferPointer { id(of: $0) } }

    public func id(of key: String) -> Int? {
        var k = key
        return k.withUTF8 { id(of: $0) }
    }

    /// The id of `key`, adding it when new.
    @discardableResult
    public mutating func insert(_ key: UnsafeBufferPointer<UInt8>) -> (id: Int, inserted: Bool) {
        if let id = id(of: key) { return (id, false) }
        if (bounds.count + 1) * 2 > slots.count { grow() }
        let id = bounds.count
        let start = Int32(arena.count)
        arena.append(contentsOf: key)
        bounds.append((start, Int32(arena.count)))
        let h = Self.hash(key)
        hashes.append(h)
        place(id: id, hash: h)
        return (id, true)
    }

    @discardableResult
    public mutating func insert(_ key: [UInt8]) -> (id: Int, inserted: Bool) {
        key.withUnsafeBufferPointer { insert($0) }
    }

    @discardableResult
    public mutating func insert(_ key: String) -> (id: Int, inserted: Bool) {
        var k = key
        return k.withUTF8 { insert($0) }
    }

    /// The bytes of the key with this id.
    public func key(_ id: Int) -> [UInt8] {
        let (s, e) = bounds[id]
        return Array(arena[Int(s)..<Int(e)])
    }

    /// The key with this id as a String (invalid UTF-8 repaired).
    public func string(_ id: Int) -> String { String(decoding: key(id), as: UTF8.self) }

    /// An empty buffer may or may not have a base address; both hash alike here.
    @inline(__always)
    static func hash(_ key: UnsafeBufferPointer<UInt8>) -> UInt64 {
        key.isEmpty ? 0x5bd1_e995 : Hash64.hash(key)
    }

    @inline(__always)
    func equals(_ id: Int, _ key: UnsafeBufferPointer<UInt8>) -> Bool {
        let (s, e) = bounds[id]
        let length = Int(e - s)
        guard length == key.count else { return false }
        if length == 0 { return true }
        return arena.withUnsafeBufferPointer { memcmp($0.baseAddress! + Int(s), key.baseAddress!, length) == 0 }
    }

    mutating func place(id: Int, hash: UInt64) {
        let mask = slots.count - 1
        var i = Int(truncatingIfNeeded: hash) & mask
        while slots[i].id >= 0 { i = (i + 1) & mask }
        slots[i] = Slot(hash: hash, id: Int32(id))
    }

    mutating func grow() {
        slots = [Slot](repeating: Slot(hash: 0, id: -1), count: slots.count * 2)
        for id in hashes.indices { place(id: id, hash: hashes[id]) }
    }
}
