/// A filter's saved state as bytes: little-endian integers and doubles, length-prefixed strings
/// and arrays. `StateWriter` appends, `StateReader` reads back and throws on anything short or
/// out of range, so a damaged file is an error, never a crash.
public struct StateWriter {
    public private(set) var bytes: [UInt8] = []

    public init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    public mutating func append(_ v: UInt64) {
        withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) }
    }

    public mutating func append(_ v: Int) { append(UInt64(bitPattern: Int64(v))) }

    public mutating func append(_ v: Double) { append(v.bitPattern) }

    public mutating func append(_ v: Bool) { bytes.append(v ? 1 : 0) }

    public mutating func append(_ v: String) {
        let utf8 = Array(v.utf8)
        append(utf8.count)
        bytes.append(contentsOf: utf8)
    }

    /// Small non-negative integers (bins, counts below 2^16), two bytes each.
    public mutating func append(uint16s values: UnsafeBufferPointer<UInt16>) {
        append(values.count)
        for v in values { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    }

    public mutating func append(raw: [UInt8]) { bytes.append(contentsOf: raw) }

    /// `count` bytes that `fill` writes in place (a large table saved without a copy of its own).
    public mutating func append(rawCount count: Int, _ fill: (UnsafeMutableRawBufferPointer) -> Void) {
        let start = bytes.count
        bytes.append(contentsOf: repeatElement(0, count: count))
        bytes.withUnsafeMutableBytes { fill(UnsafeMutableRawBufferPointer(rebasing: $0[start...])) }
    }
}

/// Reads what a `StateWriter` wrote.
public struct StateReader {
    public let bytes: [UInt8]
    public private(set) var offset = 0

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public var atEnd: Bool { offset == bytes.count }

    public mutating func uint64() throws -> UInt64 {
        guard bytes.count - offset >= 8 else { throw StateError("ends early") }
        var v: UInt64 = 0
        for k in 0..<8 { v |= UInt64(bytes[offset + k]) << UInt64(8 * k) }
        offset += 8
        return v
    }

    public mutating func int() throws -> Int { Int(Int64(bitPattern: try uint64())) }

    /// An integer in `range`.
    public mutating func int(in range: ClosedRange<Int>) throws -> Int {
        let v = try int()
        guard range.contains(v) else { throw StateError("value \(v) out of range \(range)") }
        return v
    }

    public mutating func double() throws -> Double { Double(bitPattern: try uint64()) }

    public mutating func bool() throws -> Bool {
        guard offset < bytes.count else { throw StateError("ends early") }
        offset += 1
        return bytes[offset - 1] != 0
    }

    public mutating func string() throws -> String {
        let n = try int(in: 0...(bytes.count - offset))
        defer { offset += n }
        return String(decoding: bytes[offset..<(offset + n)], as: UTF8.self)
    }

    public mutating func uint16s(into buffer: UnsafeMutableBufferPointer<UInt16>) throws {
        let n = try int(in: 0...((bytes.count - offset) / 2))
        guard n == buffer.count else { throw StateError("\(n) values where \(buffer.count) were expected") }
        for k in 0..<n { buffer[k] = UInt16(bytes[offset + 2 * k]) | UInt16(bytes[offset + 2 * k + 1]) << 8 }
        offset += 2 * n
    }

    public mutating func raw(_ n: Int) throws -> ArraySlice<UInt8> {
        guard n >= 0, bytes.count - offset >= n else { throw StateError("ends early") }
        defer { offset += n }
        return bytes[offset..<(offset + n)]
    }
}

/// A saved state that cannot be used, and why.
public struct StateError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// FNV-1a, 64 bits: the checksum of a state file and the digest of a filter's configuration.
public func fnv1a64<S: Sequence>(_ bytes: S, seed: UInt64 = 0xcbf2_9ce4_8422_2325) -> UInt64 where S.Element == UInt8 {
    var h = seed
    for b in bytes {
        h ^= UInt64(b)
        h = h &* 0x0000_0100_0000_01b3
    }
    return h
}

/// FNV-1a eight bytes at a time (little-endian words, then the last bytes one by one): the
/// checksum of a state file since format version 2, ~8× faster than byte by byte (a join of a
/// million pending predictions is 50 MB). Each step is a bijection of the running value, so a
/// change to any one word always changes the sum.
public func fnv1a64Words(_ bytes: UnsafeRawBufferPointer, seed: UInt64 = 0xcbf2_9ce4_8422_2325) -> UInt64 {
    var h = seed
    var i = 0
    let n = bytes.count
    while i + 8 <= n {
        h ^= UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self))
        h = h &* 0x0000_0100_0000_01b3
        i += 8
    }
    while i < n {
        h ^= UInt64(bytes[i])
        h = h &* 0x0000_0100_0000_01b3
        i += 1
    }
    return h
}

/// FNV-1a over bytes in memory (what the generic one gives, without its iterator).
public func fnv1a64(_ bytes: UnsafeRawBufferPointer, seed: UInt64 = 0xcbf2_9ce4_8422_2325) -> UInt64 {
    var h = seed
    for b in bytes {
        h ^= UInt64(b)
        h = h &* 0x0000_0100_0000_01b3
    }
    return h
}

/// The file a filter's state is saved in: a header (magic, format version, the digest of what the
/// state means), the filter's bytes, and a checksum of everything before it: FNV-1a over the
/// header, continued over the payload, byte by byte in version 1 and eight bytes at a time in
/// version 2 (written since 2026-12; version 1 files are still read).
public enum StateEnvelope {
    static let magic = Array("driftwood-state\n".utf8)
    public static let version = 2
    static let readable = 1...2

    public static func encode(digest: String, payload: [UInt8]) -> [UInt8] {
        let (head, tail) = frame(digest: digest, payload: payload)
        return head + payload + tail
    }

    /// The file as the bytes before the payload and after it (`head + payload + tail` is what
    /// `encode` gives), so a large payload is written as it is, not copied into a file image.
    public static func frame(digest: String, payload: [UInt8]) -> (head: [UInt8], tail: [UInt8]) {
        var head = StateWriter(capacity: 64 + digest.utf8.count)
        head.append(raw: magic)
        head.append(version)
        head.append(digest)
        head.append(payload.count)
        var tail = StateWriter(capacity: 8)
        tail.append(head.bytes.withUnsafeBytes { h in payload.withUnsafeBytes { checksum(version: version, head: h, payload: $0) } })
        return (head.bytes, tail.bytes)
    }

    /// The checksum of a file of format `version`: FNV-1a over the header, continued over the
    /// payload byte by byte (version 1) or eight bytes at a time (version 2).
    static func checksum(version: Int, head: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer) -> UInt64 {
        let seed = fnv1a64(head)
        return version == 1 ? fnv1a64(payload, seed: seed) : fnv1a64Words(payload, seed: seed)
    }

    /// What a state file holds, or why it cannot be used.
    public enum Decoded: Equatable {
        case state([UInt8])
        case unusable(String)
    }

    public static func decode(_ bytes: [UInt8], digest: String) -> Decoded {
        guard bytes.count >= magic.count + 8, Array(bytes[0..<magic.count]) == magic else {
            return .unusable(bytes.isEmpty ? "the state file is empty" : "the state file is not a driftwood state file")
        }
        var r = StateReader(bytes)
        do {
            _ = try r.raw(magic.count)
            let v = try r.int()
            guard readable.contains(v) else {
                return .unusable("the state file has format version \(v); this driftwood reads \(readable.lowerBound) to \(readable.upperBound)")
            }
            let saved = try r.string()
            let n = try r.int(in: 0...(bytes.count - r.offset))
            let payloadStart = r.offset
            let payload = Array(try r.raw(n))
            let end = r.offset
            let sum = try r.uint64()
            let computed = bytes.withUnsafeBytes { b in
                checksum(
                    version: v, head: UnsafeRawBufferPointer(rebasing: b[0..<payloadStart]),
                    payload: UnsafeRawBufferPointer(rebasing: b[payloadStart..<end]))
            }
            guard r.atEnd, sum == computed else { return .unusable("the state file is corrupt (checksum mismatch)") }
            guard saved == digest else {
                return .unusable("the stage's configuration or baseline changed since the state was saved")
            }
            return .state(payload)
        } catch {
            return .unusable("the state file is truncated (\(error))")
        }
    }
}
