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
        other.append(2)
        #expect(
            StateEnvelope.decode(other.bytes, digest: digest)
                == .unusable("the state file has format version 2; this driftwood reads 1"))
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
