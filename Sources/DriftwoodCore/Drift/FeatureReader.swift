/// Reads a drift filter's features from an event: one pass over the event (`PathSet`), then
/// each value binned on its raw bytes. Also finds the `group_by` value. Not thread-safe.
public final class FeatureReader {
    public let binners: [FeatureBinner]
    public let paths: PathSet
    let slots: UnsafeMutableBufferPointer<ValueSlot>
    let groupIndex: Int?
    /// `binners` for the per-event loop, called without reference counting (a class reference
    /// read from an array's buffer was retained and released around every call).
    let binnerRefs: UnsafeMutableBufferPointer<Unmanaged<FeatureBinner>>
    let featureCount: Int

    /// - Parameters:
    ///   - features: each feature's path and binner.
    ///   - groupBy: the `group_by` path, if any.
    public init(features: [(path: FieldPath, binner: FeatureBinner)], groupBy: FieldPath?) {
        binners = features.map(\.binner)
        paths = PathSet(features.map(\.path) + (groupBy.map { [$0] } ?? []))
        slots = .allocate(capacity: features.count + 1)
        slots.initialize(repeating: ValueSlot())
        groupIndex = groupBy.map { _ in features.count }
        featureCount = features.count
        binnerRefs = .allocate(capacity: max(1, features.count))
        for (f, binner) in binners.enumerated() { (binnerRefs.baseAddress! + f).initialize(to: .passUnretained(binner)) }
    }

    deinit {
        slots.deallocate()
        binnerRefs.deallocate()
    }

    /// Fills `bins` (one per feature) with each feature's bin, or `FeatureBinner.missingBin` /
    /// `invalidBin`; returns true when at least one feature has a bin.
    public func read(_ fields: Fields, into bins: UnsafeMutableBufferPointer<Int>) -> Bool {
        paths.locate(in: fields, into: slots)
        var counted = false
        fields.arena.withUnsafeBufferPointer { buf in
            guard let p = buf.baseAddress else { return }
            for f in 0..<featureCount {
                let slot = slots[f]
                let b =
                    slot.found
                    ? binnerRefs[f]._withUnsafeGuaranteedRef { $0.bin(p, slot.range, isText: slot.isText) }
                    : FeatureBinner.missingBin
                bins[f] = b
                if b >= 0 { counted = true }
            }
        }
        return counted
    }

    /// A reader of the same features with scratch memory of its own (for another thread).
    public func copy() -> FeatureReader {
        FeatureReader(
            features: paths.paths.prefix(binners.count).enumerated().map { ($1, binners[$0]) },
            groupBy: groupIndex.map { paths.paths[$0] })
    }

    /// Where the `group_by` value was in the event last read (`found` false when it has none,
    /// or without `group_by`).
    public var groupSlot: ValueSlot { groupIndex.map { slots[$0] } ?? ValueSlot() }
}
