import Testing

@testable import DriftwoodCore

/// The file a filter's state is saved in: what `encode` writes, `decode` gives back, and every
/// way a file can be unusable is said, never a crash.
struct StateEnvelopeTests {
    let payload: [UInt8] = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
    let digest = "stage=evaluate_2\nevaluate v1\ntask=binary"

    @Test func whatIsEncodedDecodesToThePayload() {
        #expect(StateEnvelope.decode(StateEnvelope.encode(digest: digest, payload: payload), digest: digest) == .state(payload))
        #expect(StateEnvelope.decode(StateEnvelope.encode(digest: digest, payload: []), digest: digest) == .state([]))
    }

    /// The writer thread writes head, payload and tail without joining them: the same file.
    @Test func theFrameAroundAPayloadIsTheEncodedFile() {
        let (head, tail) = StateEnvelope.frame(digest: digest, payload: payload)
        #expect(head + payload + tail == StateEnvelope.encode(digest: digest, payload: payload))
        #expect(tail.count == 8)
    }

    /// A file written before the checksum went word-wise (format version 1) is still read.
    @Test func aVersionOneFileIsStillRead() {
        var w = StateWriter()
        w.append(raw: StateEnvelope.magic)
        w.append(1)
        w.append(digest)
        w.append(payload.count)
        w.append(raw: payload)
        w.append(fnv1a64(w.bytes))
        #expect(StateEnvelope.decode(w.bytes, digest: digest) == .state(payload))
        var flipped = w.bytes
        flipped[flipped.count - 20] ^= 1
        #expect(StateEnvelope.decode(flipped, digest: digest) == .unusable("the state file is corrupt (checksum mismatch)"))
    }

    /// Any one byte changed, anywhere in the payload, changes the word-wise sum.
    @Test func everyByteOfThePayloadCounts() {
        let sum = payload.withUnsafeBytes { fnv1a64Words($0) }
        for i in stride(from: 0, to: payload.count, by: 37) {
            var changed = payload
            changed[i] ^= 0x80
            #expect(changed.withUnsafeBytes { fnv1a64Words($0) } != sum, "byte \(i)")
        }
    }

    @Test func theChecksumOfBytesInMemoryIsTheGenericOne() {
        let generic = fnv1a64(payload)
        #expect(payload.withUnsafeBytes { fnv1a64($0) } == generic)
        let split = payload.withUnsafeBytes { b in
            fnv1a64(UnsafeRawBufferPointer(rebasing: b[5000...]), seed: fnv1a64(UnsafeRawBufferPointer(rebasing: b[..<5000])))
        }
        #expect(split == generic)
    }

    @Test func everyUnusableFileSaysWhy() {
        let file = StateEnvelope.encode(digest: digest, payload: payload)
        var flipped = file
        flipped[file.count / 2] ^= 0x40
        #expect(StateEnvelope.decode(flipped, digest: digest) == .unusable("the state file is corrupt (checksum mismatch)"))
        guard case .unusable(let truncated) = StateEnvelope.decode(Array(file.dropLast(100)), digest: digest) else {
            Issue.record("a truncated file was used")
            return
        }
        #expect(truncated.hasPrefix("the state file is truncated"))
        #expect(
            StateEnvelope.decode(file, digest: digest + "x")
                == .unusable("the stage's configuration or baseline changed since the state was saved"))
        #expect(StateEnvelope.decode([], digest: digest) == .unusable("the state file is empty"))
        #expect(StateEnvelope.decode(Array("hello".utf8), digest: digest) == .unusable("the state file is not a driftwood state file"))
        var other = StateWriter()
        other.append(raw: StateEnvelope.magic)
        other.append(3)
        #expect(
            StateEnvelope.decode(other.bytes, digest: digest)
                == .unusable("the state file has format version 3; this driftwood reads 1 to 2"))
    }

    @Test func aTableIsWrittenInPlace() {
        var w = StateWriter()
        w.append(7)
        w.append(rawCount: 3) { b in
            b[0] = 1
            b[1] = 2
            b[2] = 3
        }
        #expect(w.bytes == [7, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3])
    }
}
