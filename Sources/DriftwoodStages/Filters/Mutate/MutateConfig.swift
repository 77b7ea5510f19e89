import DriftwoodCore

/// `type: mutate` — renames, copies, converts and removes fields, in that order.
public struct MutateConfig: StageConfig {
    /// Target types of `convert`.
    public enum Conversion: String, Sendable, CaseIterable { case integer, float, string, boolean }

    /// from → to: move a field.
    public var rename: [(from: FieldPath, to: FieldPath)]
    /// from → to: copy a field.
    public var copy: [(from: FieldPath, to: FieldPath)]
    /// path → integer | float | string | boolean.
    public var convert: [(path: FieldPath, to: Conversion)]
    /// Fields to remove.
    public var remove: [FieldPath]

    public init(_ c: ConfigObject) {
        func pathPairs(_ key: String) -> [(FieldPath, FieldPath)] {
            (c.pairs(key) ?? []).compactMap { from, node in
                guard let f = FieldPath(from), let toText = node.string, let t = FieldPath(toText) else {
                    c.error("expected 'field: new.field' with field paths", at: node, key: "\(key).\(from)")
                    return nil
                }
                return (f, t)
            }
        }
        rename = pathPairs("rename")
        copy = pathPairs("copy")
        convert = (c.pairs("convert") ?? []).compactMap { path, node in
            let choices = Conversion.allCases.map(\.rawValue)
            guard let p = FieldPath(path), let to = node.string.flatMap(Conversion.init(rawValue:)) else {
                c.error("expected one of \(choices.joined(separator: ", "))", at: node, key: "convert.\(path)")
                return nil
            }
            return (p, to)
        }
        remove = (c.stringList("remove") ?? []).compactMap { text in
            guard let p = FieldPath(text) else {
                c.error("'\(text)' is not a field path", at: c.node("remove"), key: "remove")
                return nil
            }
            return p
        }
        if rename.isEmpty && copy.isEmpty && convert.isEmpty && remove.isEmpty
            && !(c.has("rename") || c.has("copy") || c.has("convert") || c.has("remove"))
        {
            c.error("nothing to do: give 'rename', 'copy', 'convert' or 'remove'")
        }
    }
}
