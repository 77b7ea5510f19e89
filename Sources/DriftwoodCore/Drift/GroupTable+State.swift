/// Saving and restoring a filter's groups (`PersistentFilter`): the same walk for `drift`,
/// `monitor` and `evaluate`, each adding what its groups hold.
extension GroupTable {
    /// Writes the number of groups, then per group, in id order, its name (nil for the single
    /// group of a filter without `group_by`) and what `body` writes.
    public func save(to w: inout StateWriter, name: (Group) -> String?, body: (Group, inout StateWriter) -> Void) {
        w.append(groups.count)
        for group in groups {
            let text = name(group)
            w.append(text != nil)
            w.append(text ?? "")
            body(group, &w)
        }
    }

    /// Reads what `save` wrote into a table as a filter starts it: `grouped` (the filter has
    /// `group_by`) or holding its single ungrouped group. Named groups are made again with
    /// `make` in their saved order, so they keep their ids; `body` reads the rest of each.
    public mutating func restore(
        from r: inout StateReader, grouped: Bool, make: (String) -> Group, body: (Group, inout StateReader) throws -> Void
    ) throws {
        let count = try r.int(in: 0...maxGroups)
        for k in 0..<count {
            let named = try r.bool()
            var name = try r.string()
            if !grouped {
                guard k == 0, !named else { throw StateError("a group in a filter without group_by") }
            } else {
                guard named else { throw StateError("a group without a name") }
                let saved = name.withUTF8 { self.id(named: $0, make: make, onFirstOverflow: {}) }
                guard saved == k else { throw StateError("group '\(name)' saved twice") }
            }
            try body(groups[k], &r)
        }
    }
}
