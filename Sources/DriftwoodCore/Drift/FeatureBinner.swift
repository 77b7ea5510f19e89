/// Puts one event's value of a feature into one of the baseline's bins, without building a
/// String: numbers by binary search over the edges, categories by a hash of the raw bytes.
/// A class, so the hot path calls it in place instead of copying its tables.
public final class FeatureBinner: Sendable {
    let isNumeric: Bool
    let edges: [Double]
    /// Listed values by their text; numbers also by value (so `200` and `200.0` agree).
    let table: ByteTable
    let numbers: [Double: Int]
    /// The `__other__` bin of a categorical feature.
    let other: Int
    /// Number of bins.
    public let binCount: Int

    public init(_ feature: FeatureBaseline) {
        switch feature.distribution {
        case .numeric(let n):
            isNumeric = true
            edges = n.edges
            table = ByteTable()
            numbers = [:]
            other = 0
            binCount = n.edges.count + 1
        case .categorical(let c):
            isNumeric = false
            edges = []
            var table = ByteTable(capacity: c.values.count)
            var numbers: [Double: Int] = [:]
            for (i, value) in c.values.enumerated() {
                table.insert(value)
                if let first = value.utf8.first, first == UInt8(ascii: "-") || (first &- 48) < 10,
                    let d = Double(value), d.isFinite, numbers[d] == nil
                {
                    numbers[d] = i
                }
            }
            self.table = table
            self.numbers = numbers
            other = c.values.count
            binCount = c.values.count + 1
        }
    }

    /// What became of a value.
    public enum Outcome: Equatable, Sendable {
        /// Counted in this bin.
        case bin(Int)
        /// The event has no such field, or it is null.
        case missing
        /// A numeric feature's value that is not a number (or an object or array): not counted.
        case invalid
    }

    /// The bin of `value` (nil: the field is missing).
    public func place(_ value: JSONValue?) -> Outcome {
        guard let value else { return .missing }
        return value.storage.withUnsafeBufferPointer { place($0.baseAddress!, value.range, isText: value.isText) }
    }

    /// The bin of the value at `p[range]`: compact JSON text, or raw string content when `isText`.
    @inline(__always)
    public func place(_ p: UnsafePointer<UInt8>, _ range: Range<Int>, isText: Bool) -> Outcome {
        if isText {
            if isNumeric { return .invalid }
            return .bin(table.id(of: UnsafeBufferPointer(start: p + range.lowerBound, count: range.count)) ?? other)
        }
        let first = p[range.lowerBound]
        if isNumeric {
            if first == UInt8(ascii: "-") || (first &- UInt8(ascii: "0")) < 10, let x = NumberText.parse(p, range) {
                return .bin(edges.withUnsafeBufferPointer { Quantiles.bin(of: x, edges: $0) })
            }
            return first == UInt8(ascii: "n") ? .missing : .invalid
        }
        switch first {
        case UInt8(ascii: "\""):
            let content = (range.lowerBound + 1)..<(range.upperBound - 1)
            if !JSONText.hasBackslash(p, content) {
                return .bin(table.id(of: UnsafeBufferPointer(start: p + content.lowerBound, count: content.count)) ?? other)
            }
            var decoded = JSONText.decodeString(p, content)
            return .bin(decoded.withUTF8 { table.id(of: $0) } ?? other)
        case UInt8(ascii: "t"):
            return .bin(table.id(of: Self.trueText) ?? other)
        case UInt8(ascii: "f"):
            return .bin(table.id(of: Self.falseText) ?? other)
        case UInt8(ascii: "n"):
            return .missing
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            return .invalid
        default:
            guard let x = NumberText.parse(p, range) else { return .invalid }
            return .bin(numbers[x] ?? other)
        }
    }

    /// `bin` of a missing value (no field, or null).
    public static let missingBin = -1
    /// `bin` of a value that cannot be counted (not a number for a numeric feature).
    public static let invalidBin = -2

    /// `place` as a plain number: the bin, `missingBin` or `invalidBin`.
    @inline(__always)
    public func bin(_ p: UnsafePointer<UInt8>, _ range: Range<Int>, isText: Bool) -> Int {
        switch place(p, range, isText: isText) {
        case .bin(let b): b
        case .missing: Self.missingBin
        case .invalid: Self.invalidBin
        }
    }

    static let trueText = Array("true".utf8)
    static let falseText = Array("false".utf8)
}

extension JSONValue {
    /// True for JSON `null`.
    @inline(__always)
    public var isNull: Bool { !isText && storage[range.lowerBound] == UInt8(ascii: "n") }
}
