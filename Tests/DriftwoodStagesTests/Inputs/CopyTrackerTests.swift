import Testing

import DriftwoodCore
@testable import DriftwoodStages

/// Telling a copy-truncate copy from a new file: first bytes, the bytes before the read point,
/// and holding a file that copies one still being read.
@Suite struct CopyTrackerTests {
    static let original = Array((0..<4000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })

    /// A candidate over `bytes`, plain or gzip (no tail check then).
    static func candidate(_ bytes: [UInt8], key: UInt64 = 9, gzip: Bool = false) -> CopyTracker.Candidate {
        CopyTracker.Candidate(
            key: FileKey(device: 1, inode: key), plainSize: gzip ? nil : UInt64(bytes.count),
            fingerprint: { length in bytes.count >= length ? Fingerprint.of(bytes: bytes[0..<length]) : nil },
            tail: { offset in gzip ? nil : tail(bytes, before: offset) })
    }

    static func tail(_ bytes: [UInt8], before offset: UInt64) -> UInt64? {
        guard offset <= UInt64(bytes.count) else { return nil }
        let start = Int(offset) - min(CopyTracker.tailBytes, Int(offset))
        return Array(bytes[start..<Int(offset)]).withUnsafeBufferPointer { Hash64.hash($0, seed: 0x7461_696C) }
    }

    static func mark(read offset: UInt64, source: UInt64 = 42) -> CopyTracker.Mark {
        CopyTracker.Mark(
            fingerprint: Fingerprint.of(bytes: original[0..<1024]), offset: offset, tail: tail(original, before: offset),
            source: source, time: 0)
    }

    @Test func aCopyIsReadFromWhereTheOriginalGotTo() {
        let tracker = CopyTracker(wait: 30)
        tracker.remember(Self.mark(read: 3000))
        // The copy holds more than was read (lines written after the last look).
        #expect(tracker.verdict(for: Self.candidate(Self.original), copiesLive: false, now: 1) == .copy(offset: 3000, source: 42))
        // A copy made before the original was read this far: all of it was read.
        #expect(
            tracker.verdict(for: Self.candidate(Array(Self.original[0..<2000])), copiesLive: false, now: 1)
                == .copy(offset: 2000, source: 42))
        // gzip: by its first bytes.
        #expect(
            tracker.verdict(for: Self.candidate(Self.original, gzip: true), copiesLive: false, now: 1) == .copy(offset: 3000, source: 42))
    }

    @Test func aFileThatOnlyStartsAlikeIsNew() {
        let tracker = CopyTracker(wait: 30)
        tracker.remember(Self.mark(read: 3000))
        var other = Self.original
        other[2990] ^= 0xFF  // same first KiB (a banner), other lines after it
        #expect(tracker.verdict(for: Self.candidate(other), copiesLive: false, now: 1) == .new)
        var start = Self.original
        start[0] ^= 0xFF
        #expect(tracker.verdict(for: Self.candidate(start), copiesLive: false, now: 1) == .new)
    }

    @Test func aCopyOfAFileStillBeingReadWaitsThenIsNew() {
        let tracker = CopyTracker(wait: 30)
        let live = true
        #expect(tracker.verdict(for: Self.candidate(Self.original), copiesLive: live, now: 100) == .hold)
        #expect(tracker.verdict(for: Self.candidate(Self.original), copiesLive: live, now: 110) == .hold)
        // The original was truncated meanwhile: its mark makes this the copy.
        tracker.remember(Self.mark(read: 3500))
        #expect(tracker.verdict(for: Self.candidate(Self.original), copiesLive: false, now: 111) == .copy(offset: 3500, source: 42))
        // Held too long: read as a new file.
        let late = CopyTracker(wait: 30)
        #expect(late.verdict(for: Self.candidate(Self.original), copiesLive: live, now: 100) == .hold)
        #expect(late.verdict(for: Self.candidate(Self.original), copiesLive: live, now: 131) == .new)
    }
}
