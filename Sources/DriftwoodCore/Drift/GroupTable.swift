/// The per-`group_by`-value state of a stateful filter (`drift`, `monitor`): a dense id for each
/// value seen, found from the value's raw bytes without building a String, and capped at
/// `max_groups` so a high-cardinality field cannot grow memory without bound.
public struct GroupTable<Group> {
    /// The groups, by id.
    public private(set) var groups: [Group] = []
    private var ids = ByteTable()
    private var warned = false
    public let maxGroups: Int

    public init(maxGroups: Int) { self.maxGroups = maxGroups }

    /// Adds the single group of a filter without `group_by` (id 0).
    public mutating func appendUngrouped(_ group: Group) { groups.append(group) }

    /// The id of the group named by `key`, made by `make` (given the value as text) when new.
    /// Nil past `maxGroups`; `onFirstOverflow` runs once, the first time that happens.
    public mutating func id(
        named key: UnsafeBufferPointer<UInt8>, make: (String) -> Group, onFirstOverflow: () -> Void
    ) -> Int? {
        if let id = ids.id(of: key) { return id }
        guard groups.count < maxGroups else {
            if !warned {
                warned = true
                onFirstOverflow()
            }
            return nil
        }
        let id = ids.insert(key).id
        groups.append(make(ids.string(id)))
        return id
    }
}
