import Testing

@testable import DriftwoodStages

/// Splitting a byte stream into lines, whatever the chunk boundaries.
@Suite struct LineSplitterTests {
    struct Line: Equatable, CustomStringConvertible {
        var text: String
        var truncated: Bool
        var offset: UInt64
        var end: UInt64
        init(_ text: String, _ offset: UInt64, _ end: UInt64, truncated: Bool = false) {
            self.text = text
            self.truncated = truncated
            self.offset = offset
            self.end = end
        }
        var description: String { "\(text.debugDescription)\(truncated ? "[cut]" : "")@\(offset)..<\(end)" }
    }

    /// Feeds `data` in chunks of the given sizes (the last one repeated), then optionally finishes.
    static func split(
        _ data: [UInt8], max: Int, chunks: [Int] = [Int.max], finish: Bool = true, start: UInt64 = 0
    ) -> [Line] {
        var splitter = LineSplitter(maxLineBytes: max, startOffset: start)
        var lines: [Line] = []
        let collect: (LineSplitter.Line) -> Void = {
            lines.append(Line(String(decoding: $0.bytes, as: UTF8.self), $0.offset, $0.endOffset, truncated: $0.truncated))
        }
        var i = 0
        var k = 0
        data.withUnsafeBufferPointer { all in
            while i < all.count {
                let size = min(chunks[min(k, chunks.count - 1)], all.count - i)
                splitter.feed(UnsafeBufferPointer(rebasing: all[i..<(i + size)]), collect)
                i += size
                k += 1
            }
        }
        #expect(splitter.offset == start + UInt64(data.count))
        if finish { splitter.finish(collect) }
        return lines
    }

    static func split(_ text: String, max: Int = 1 << 20, chunks: [Int] = [Int.max], finish: Bool = true) -> [Line] {
        split(Array(text.utf8), max: max, chunks: chunks, finish: finish)
    }

    @Test func linesAndOffsets() {
        #expect(Self.split("ab\ncde\n\nf\n") == [Line("ab", 0, 3), Line("cde", 3, 7), Line("", 7, 8), Line("f", 8, 10)])
    }

    @Test func startOffsetIsAddedToEveryLine() {
        let lines = Self.split(Array("ab\ncd\n".utf8), max: 100, chunks: [4], start: 1000)
        #expect(lines == [Line("ab", 1000, 1003), Line("cd", 1003, 1006)])
    }

    @Test func lineSplitAcrossChunksByteByByte() {
        let text = "first line\nsecond\r\n\nthird line is longer\nlast\n"
        let whole = Self.split(text)
        #expect(whole.map(\.text) == ["first line", "second", "", "third line is longer", "last"])
        #expect(Self.split(text, chunks: [1]) == whole)
        #expect(Self.split(text, chunks: [2]) == whole)
        #expect(Self.split(text, chunks: [11, 1, 7]) == whole)
    }

    @Test func randomChunkSizesGiveTheSameLines() {
        var rng = SplitMix(seed: 42)
        let alphabet = Array("abcdefgh \r\n\n".utf8)
        for round in 0..<200 {
            let length = Int(rng.next() % 400)
            let data = (0..<length).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }
            let max = [1, 3, 8, 50, 1 << 20][round % 5]
            let whole = Self.split(data, max: max)
            let chunks = (0..<20).map { _ in 1 + Int(rng.next() % 17) }
            let problems = [
                Self.difference(whole, Self.reference(data, max: max)).map { "whole vs reference: \($0)" },
                Self.difference(Self.split(data, max: max, chunks: chunks), whole).map { "chunks \(chunks): \($0)" },
                Self.difference(Self.split(data, max: max, chunks: [1]), whole).map { "byte by byte: \($0)" },
            ].compactMap { $0 }
            #expect(problems.isEmpty, "round \(round), max \(max): \(problems)")
            if !problems.isEmpty { break }  // one replayable round is enough
        }
    }

    /// The first line where `a` and `b` differ, described; nil when they are equal.
    static func difference(_ a: [Line], _ b: [Line]) -> String? {
        guard a != b else { return nil }
        let k = zip(a, b).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(a.count, b.count)
        return "line \(k): \(k < a.count ? "\(a[k])" : "none") vs \(k < b.count ? "\(b[k])" : "none")"
    }

    @Test func crlfIsStripped() {
        #expect(Self.split("a\r\nb\r\n") == [Line("a", 0, 3), Line("b", 3, 6)])
        // A CR split from its LF by a chunk boundary is still stripped.
        #expect(Self.split("abc\r\nd\n", chunks: [4]) == [Line("abc", 0, 5), Line("d", 5, 7)])
        // A CR inside a line stays.
        #expect(Self.split("a\rb\n").map(\.text) == ["a\rb"])
    }

    @Test func longLineIsCutAndTheRestSkipped() {
        let text = "0123456789\nab\n"
        let expected = [Line("0123", 0, 11, truncated: true), Line("ab", 11, 14)]
        #expect(Self.split(text, max: 4) == expected)
        // The long line spans several chunks, before and after the cut.
        #expect(Self.split(text, max: 4, chunks: [3]) == expected)
        #expect(Self.split(text, max: 4, chunks: [1]) == expected)
        #expect(Self.split(text, max: 4, chunks: [5, 100]) == expected)
        #expect(Self.split(text, max: 4, chunks: [12]) == expected)
    }

    @Test func lineOfExactlyTheLimitIsNotTruncated() {
        #expect(Self.split("abcd\nef\n", max: 4) == [Line("abcd", 0, 5), Line("ef", 5, 8)])
        #expect(Self.split("abcd\nef\n", max: 4, chunks: [2]) == [Line("abcd", 0, 5), Line("ef", 5, 8)])
        #expect(Self.split("abcde\n", max: 4, chunks: [4]) == [Line("abcd", 0, 6, truncated: true)])
    }

    @Test func lineOfExactlyTheLimitEndingInCRLFIsNotTruncated() {
        // The CR belongs to the line ending, not to the line.
        let expected = [Line("abcd", 0, 6), Line("ef", 6, 10)]
        #expect(Self.split("abcd\r\nef\r\n", max: 4) == expected)
        #expect(Self.split("abcd\r\nef\r\n", max: 4, chunks: [4]) == expected)
        #expect(Self.split("abcd\r\nef\r\n", max: 4, chunks: [5]) == expected)
        #expect(Self.split("abcd\r\nef\r\n", max: 4, chunks: [1]) == expected)
    }

    @Test func lastLineWithoutNewlineOnlyOnFinish() {
        var splitter = LineSplitter(maxLineBytes: 100)
        var lines: [String] = []
        var ends: [UInt64] = []
        Array("one\ntwo".utf8).withUnsafeBufferPointer {
            splitter.feed($0) {
                lines.append(String(decoding: $0.bytes, as: UTF8.self))
                ends.append($0.endOffset)
            }
        }
        #expect(lines == ["one"])
        #expect(splitter.hasPartialLine)
        splitter.finish { line in
            lines.append(String(decoding: line.bytes, as: UTF8.self))
            #expect((line.offset, line.endOffset, line.truncated) == (4, 7, false))
        }
        #expect(lines == ["one", "two"])
        #expect(!splitter.hasPartialLine)
        // Nothing held: finish emits nothing, not even an empty line.
        #expect(Self.split("a\n") == [Line("a", 0, 2)])
        #expect(Self.split("").isEmpty)
        #expect(Self.split("a\nb", finish: false) == [Line("a", 0, 2)])
    }

    @Test func truncatedLastLineWithoutNewline() {
        #expect(Self.split("x\nabcdefgh", max: 3, chunks: [4]) == [Line("x", 0, 2), Line("abc", 2, 10, truncated: true)])
    }

    /// The specification of a splitter, on the whole stream at once.
    static func reference(_ data: [UInt8], max: Int) -> [Line] {
        var result: [Line] = []
        var start = 0
        while start < data.count {
            let nl = data[start...].firstIndex(of: 0x0A)
            var line = Array(data[start..<(nl ?? data.count)])
            let end = nl.map { $0 + 1 } ?? data.count
            if line.last == 0x0D { line.removeLast() }
            let truncated = line.count > max
            if truncated { line = Array(line.prefix(max)) }
            result.append(Line(String(decoding: line, as: UTF8.self), UInt64(start), UInt64(end), truncated: truncated))
            start = end
        }
        return result
    }
}

/// A small deterministic generator, so a failing round can be replayed.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE5_E9B7
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
