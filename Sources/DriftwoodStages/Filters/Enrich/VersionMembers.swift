import DriftwoodCore

/// `model_version` from a registry, written the quick way when `target` is a top-level field
/// (the usual `model` → `model_version`): the model's name found in one pass with a hint
/// (`PathSet`), and the version written as a prepared member — the target's name followed by
/// the version's JSON, one per registry entry and one for the default, remade when the registry
/// changes. No value is built and nothing is retained per event. Used by one thread.
final class VersionMembers {
    let name: PathSet
    let slot: UnsafeMutableBufferPointer<ValueSlot>
    let target: MemberName
    var targetHint = 0
    /// The members: entry i's at `bytes[starts[i] ..< starts[i + 1]]`, the default's last.
    private var bytes: UnsafeMutableBufferPointer<UInt8>
    private var starts: UnsafeMutableBufferPointer<Int>
    /// The registry snapshot the members were made from.
    private(set) var table: RegistryTable?
    let defaultVersion: [UInt8]

    /// nil when `target` is not a top-level field.
    init?(nameField: FieldPath, target: FieldPath, defaultVersion: [UInt8]) {
        guard target.components.count == 1 else { return nil }
        name = PathSet([nameField])
        slot = .allocate(capacity: 1)
        slot.initialize(repeating: ValueSlot())
        self.target = MemberName(target.components[0])
        self.defaultVersion = defaultVersion
        bytes = .allocate(capacity: 1)
        starts = .allocate(capacity: 2)
        starts.initialize(repeating: 0)
    }

    deinit {
        slot.deallocate()
        bytes.deallocate()
        starts.deallocate()
    }

    /// Remakes the members for `table`'s versions.
    func use(_ table: RegistryTable) {
        var all: [UInt8] = []
        var offsets: [Int] = []
        for json in table.versions.map(\.json) + [defaultVersion] {
            offsets.append(all.count)
            all += target.bytes
            all += json
        }
        offsets.append(all.count)
        bytes.deallocate()
        starts.deallocate()
        bytes = .allocate(capacity: max(1, all.count))
        _ = bytes.initialize(from: all)
        starts = .allocate(capacity: offsets.count)
        _ = starts.initialize(from: offsets)
        self.table = table
    }

    /// Sets the target to the version of the model the event names (a string), or the default.
    @inline(__always)
    func apply(_ fields: inout Fields, registry: ModelRegistry) {
        let table = registry.table
        if table !== self.table { use(table) }
        name.locate(in: fields, into: slot)
        var entry = table.versions.count  // the default
        let s = slot[0]
        if s.found {
            fields.withBytes { p in
                // Only a string names a model (a number does not, as before).
                guard s.isText || p[Int(s.start)] == UInt8(ascii: "\"") else { return }
                PathSet.withKeyBytes(p, s.range, isText: s.isText) { if let i = registry.index(ofName: $0) { entry = i } }
            }
        }
        let member = UnsafeBufferPointer(rebasing: bytes[starts[entry]..<starts[entry + 1]])
        fields.setMember(target, member: member, hint: &targetHint)
    }
}
