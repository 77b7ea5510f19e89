/// A small, fast, stable 64-bit hash (not cryptographic): the same bytes give the same hash on
/// every machine and every run, which is what fingerprint ids need.
public enum Hash64 {
    @inline(__always)
    public static func mix(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let m = (a ^ 0xA076_1D64_78BD_642F).multipliedFullWidth(by: b ^ 0xE703_7ED1_A0B4_28DB)
        return m.high ^ m.low
    }

    /// Hashes bytes eight at a time.
    public static func hash(_ bytes: UnsafeBufferPointer<UInt8>, seed: UInt64 = 0) -> UInt64 {
        guard let p = bytes.baseAddress else { return mix(seed, 0) }
        var h = seed ^ UInt64(bytes.count)
        var i = 0
        while i + 8 <= bytes.count {
            h = mix(h, UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self))
            i += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while i < bytes.count {
            tail |= UInt64(p[i]) << shift
            shift += 8
            i += 1
        }
        return mix(h, tail ^ 0x8EBC_6AF0_9C88_C6E3)
    }

    public static func hash(_ s: String, seed: UInt64 = 0) -> UInt64 {
        var s = s
        return s.withUTF8 { hash($0, seed: seed) }
    }

    /// Appends 16 lowercase hex digits, zero-padded, as `hex` writes them, without a String.
    @inline(__always)
    public static func appendHex(_ v: UInt64, to out: inout [UInt8]) {
        var shift: UInt64 = 64
        while shift > 0 {
            shift -= 4
            let digit = UInt8(truncatingIfNeeded: (v >> shift) & 0xF)
            out.append(digit < 10 ? digit &+ UInt8(ascii: "0") : digit &+ (UInt8(ascii: "a") - 10))
        }
    }

    /// 16 lowercase hex digits.
    public static func hex(_ v: UInt64) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }
}
