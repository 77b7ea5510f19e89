#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The open objects and arrays of `JSONCompactor`, and the keys of each open object, in one
/// array (one allocation per text, as the plain stack had), so a key written twice in the same
/// object is noticed during the single pass.
///
/// Layout: each container is a two-word frame `[previous frame + 1 << 1 | isObject, key filter]`
/// followed by one word per key read so far (`start << 32 | length`, offsets in the input). A
/// nested container's frame and keys sit above and are dropped when it closes, so the words after
/// the current frame are exactly its keys.
///
/// A new key is compared with earlier ones only when a 64-bit filter of (length, first byte,
/// last byte) says it may repeat one, and only with the first `exactLimit` keys; past that, or
/// when a key holds an escape, the text is only marked `suspect` and `JSONDuplicateKeys` decides
/// exactly after the pass (an object with thousands of look-alike keys costs linear time, not
/// quadratic).
struct ContainerStack {
    private var words: [UInt64] = []
    private var top = -1
    /// Open containers.
    private(set) var depth = 0
    /// True once a key is known to repeat one of its object.
    var duplicate = false
    /// True when a key may repeat one without having been compared exactly.
    var suspect = false
    static let exactLimit = 64

    /// Room for a line's usual containers and keys at once: grown from empty, the words were
    /// allocated and copied three times per line of a dozen keys. With `reusing`, the caller's
    /// words (moved in, emptied; `giveBack` returns them): no allocation per text at all.
    init(reusing words: UnsafeMutablePointer<[UInt64]>? = nil) {
        if let words {
            swap(&self.words, &words.pointee)
            self.words.removeAll(keepingCapacity: true)
        }
        if self.words.capacity < 64 { self.words.reserveCapacity(64) }
    }

    /// Hands the words back to the caller that lent them (`init(reusing:)`).
    mutating func giveBack(to words: UnsafeMutablePointer<[UInt64]>?) {
        if let words { swap(&self.words, &words.pointee) }
    }

    /// The innermost open container is an object (false for an array or none).
    @inline(__always) var inObject: Bool { top >= 0 && words[top] & 1 == 1 }

    /// The only open container is an object (the top-level object's members are being read).
    @inline(__always) var atTopLevelObject: Bool { depth == 1 && words[0] & 1 == 1 }

    @inline(__always) var isEmpty: Bool { depth == 0 }

    @inline(__always) mutating func push(object: Bool) {
        words.append(UInt64(top + 1) << 1 | (object ? 1 : 0))
        words.append(0)
        top = words.count - 2
        depth += 1
    }

    @inline(__always) mutating func pop() {
        let previous = Int(words[top] >> 1) - 1
        words.removeSubrange(top...)
        top = previous
        depth -= 1
    }

    /// Records the key of the innermost object whose content (as written, no quotes) is
    /// `base[start..<start + length]`; `escaped` when it holds a backslash.
    @inline(__always)
    mutating func addKey(_ base: UnsafePointer<UInt8>, start: Int, length: Int, escaped: Bool) {
        if escaped { suspect = true }
        let first = length > 0 ? UInt64(base[start]) : 0
        let last = length > 0 ? UInt64(base[start + length - 1]) : 0
        let mixed = (UInt64(truncatingIfNeeded: length) | first << 20 | last << 28) &* 0x9E37_79B9_7F4A_7C15
        let bit: UInt64 = 1 << (mixed >> 58)
        let filter = words[top + 1]
        if filter & bit != 0 && !duplicate {
            let keysStart = top + 2
            let count = words.count - keysStart
            if count > ContainerStack.exactLimit {
                suspect = true
            } else {
                for k in keysStart..<words.count {
                    let w = words[k]
                    if Int(w & 0xFFFF_FFFF) == length, memcmp(base + Int(w >> 32), base + start, length) == 0 {
                        duplicate = true
                        break
                    }
                }
            }
        }
        words[top + 1] = filter | bit
        words.append(UInt64(truncatingIfNeeded: start) << 32 | UInt64(truncatingIfNeeded: length))
    }
}
