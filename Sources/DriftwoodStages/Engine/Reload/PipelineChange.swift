import DriftwoodCore

/// What a reload changes, stage by stage: a pure comparison of the running pipeline file with
/// the new one. A stage is the same when its id and its settings (`StageSpec.settings`: its
/// block as read and the bytes of the files it read) are; it is changed when only the id is.
public struct PipelineChange: Sendable, Equatable {
    /// The stages of one role, by id.
    public struct Stages: Sendable, Equatable {
        /// In the new file, with the same settings.
        public var kept: [String] = []
        /// In the new file only.
        public var added: [String] = []
        /// In the running file only.
        public var removed: [String] = []
        /// In both, with other settings (or another type).
        public var changed: [String] = []

        public init() {}

        init(old: [StageSpec], new: [StageSpec]) {
            let before = Dictionary(old.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
            let after = Set(new.map(\.id))
            for spec in new {
                if let was = before[spec.id] {
                    if was.type == spec.type && was.settings == spec.settings {
                        kept.append(spec.id)
                    } else {
                        changed.append(spec.id)
                    }
                } else {
                    added.append(spec.id)
                }
            }
            removed = old.map(\.id).filter { !after.contains($0) }
        }

        /// Nothing added, removed or changed.
        public var isUnchanged: Bool { added.isEmpty && removed.isEmpty && changed.isEmpty }
    }

    public var inputs: Stages
    public var filters: Stages
    public var outputs: Stages
    /// The filters keep their order (a filter moved to another place counts as a change of
    /// the chain, though each filter keeps its state).
    public var filterOrderChanged: Bool
    /// Pipeline settings that take effect only at the next start (`data_dir`, `name`,
    /// `metrics.address`), with the value kept.
    public var needsRestart: [String]

    public init(from old: PipelineConfig, to new: PipelineConfig) {
        inputs = Stages(old: old.inputs, new: new.inputs)
        filters = Stages(old: old.filters, new: new.filters)
        outputs = Stages(old: old.outputs, new: new.outputs)
        filterOrderChanged = old.filters.map(\.id) != new.filters.map(\.id)
        var restart: [String] = []
        if old.dataDir != new.dataDir { restart.append("data_dir (still \(old.dataDir))") }
        if old.name != new.name { restart.append("name (still \(old.name))") }
        if old.metricsAddress != new.metricsAddress {
            restart.append("metrics.address (still \(old.metricsAddress ?? "none"))")
        }
        needsRestart = restart
    }

    /// Nothing to do.
    public var isEmpty: Bool {
        inputs.isUnchanged && filters.isUnchanged && outputs.isUnchanged && !filterOrderChanged
    }

    /// One line for the log: `inputs: kept a; filters: added x, changed y; outputs: removed z`.
    public var summary: String {
        func describe(_ role: String, _ s: Stages) -> String {
            var parts: [String] = []
            if !s.added.isEmpty { parts.append("added " + s.added.joined(separator: ", ")) }
            if !s.removed.isEmpty { parts.append("removed " + s.removed.joined(separator: ", ")) }
            if !s.changed.isEmpty { parts.append("changed " + s.changed.joined(separator: ", ")) }
            if !s.kept.isEmpty { parts.append("kept " + s.kept.joined(separator: ", ")) }
            return "\(role): " + (parts.isEmpty ? "none" : parts.joined(separator: ", "))
        }
        return [describe("inputs", inputs), describe("filters", filters), describe("outputs", outputs)]
            .joined(separator: "; ")
    }
}
