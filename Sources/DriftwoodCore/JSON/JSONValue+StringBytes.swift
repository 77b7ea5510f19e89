extension JSONValue {
    /// Calls `body` with the decoded UTF-8 bytes of a string value and returns its result; nil
    /// for any other kind. Raw text and strings without escapes are lent in place, so the common
    /// case builds no String and copies nothing (conditions and templates run once per event).
    public func withStringBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) -> R? {
        if isText {
            return storage.withUnsafeBufferPointer { body(UnsafeBufferPointer(rebasing: $0[range])) }
        }
        guard kind == .string else { return nil }
        let content = (range.lowerBound + 1)..<(range.upperBound - 1)
        if !storage[content].contains(UInt8(ascii: "\\")) {
            return storage.withUnsafeBufferPointer { body(UnsafeBufferPointer(rebasing: $0[content])) }
        }
        var decoded = string ?? ""
        return decoded.withUTF8 { body($0) }
    }
}
