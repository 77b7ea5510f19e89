import Foundation
import Testing

@testable import DriftwoodCore
@testable import DriftwoodStages

/// What a reload changes: the pure comparison of the running pipeline file with the new one.
@Suite struct PipelineChangeTests {
    static let base = """
        data_dir: /tmp/state-a
        inputs:
          - {type: file, id: logs, paths: [/var/log/app/*.log]}
        filters:
          - {type: parse, id: json, format: json}
          - {type: drop, id: quiet, when: 'level == "debug"'}
        outputs:
          - {type: jsonl, id: main, path: out.jsonl}
        """

    func load(_ text: String) throws -> PipelineConfig {
        try PipelineConfig.load(text: text, file: "p.yml", environment: [:], catalog: StageCatalog.descriptors)
    }

    func change(_ new: String, from old: String = Self.base) throws -> PipelineChange {
        PipelineChange(from: try load(old), to: try load(new))
    }

    @Test func theSameFileChangesNothing() throws {
        let c = try change(Self.base)
        #expect(c.isEmpty)
        #expect(c.inputs.kept == ["logs"] && c.filters.kept == ["json", "quiet"] && c.outputs.kept == ["main"])
        #expect(c.needsRestart.isEmpty)
    }

    @Test func formattingAndKeyOrderAreNotAChange() throws {
        let same = """
            data_dir: /tmp/state-a
            # a comment
            inputs:
              - id: logs
                paths: ["/var/log/app/*.log"]
                type: file
            filters:
              - {format: json, type: parse, id: json}
              - {type: drop, id: quiet, when: 'level == "debug"'}
            outputs:
              - {path: out.jsonl, type: jsonl, id: main}
            """
        #expect(try change(same).isEmpty)
    }

    /// Quotes that change a value's type do count: `yes` is a boolean, `"yes"` a string.
    @Test func aQuotedScalarOfAnotherTypeIsAChange() throws {
        let enrich = { (value: String) in
            Self.base.replacingOccurrences(
                of: "  - {type: parse, id: json, format: json}",
                with: "  - {type: parse, id: json, format: json}\n  - {type: enrich, id: flag, fields: {fixed: \(value)}}")
        }
        #expect(try change(enrich("yes"), from: enrich("yes")).isEmpty)
        #expect(try change(enrich("'yes'"), from: enrich("\"yes\"")).isEmpty)
        #expect(try change(enrich("\"yes\""), from: enrich("yes")).filters.changed == ["flag"])
    }

    @Test func aChangedSettingChangesOnlyItsStage() throws {
        let c = try change(Self.base.replacingOccurrences(of: "out.jsonl", with: "other.jsonl"))
        #expect(c.outputs.changed == ["main"])
        #expect(c.outputs.kept.isEmpty && c.outputs.added.isEmpty && c.outputs.removed.isEmpty)
        #expect(c.inputs.kept == ["logs"] && c.filters.kept == ["json", "quiet"])
        #expect(!c.isEmpty && !c.filterOrderChanged)
        #expect(c.summary == "inputs: kept logs; filters: kept json, quiet; outputs: changed main")
    }

    @Test func addedAndRemovedStages() throws {
        let new = """
            data_dir: /tmp/state-a
            inputs:
              - {type: stdin, id: feed}
            filters:
              - {type: parse, id: json, format: json}
              - {type: enrich, id: env, fields: {env: prod}}
            outputs:
              - {type: jsonl, id: main, path: out.jsonl}
              - {type: stdout, id: console}
            """
        let c = try change(new)
        #expect(c.inputs.added == ["feed"] && c.inputs.removed == ["logs"])
        #expect(c.filters.kept == ["json"] && c.filters.added == ["env"] && c.filters.removed == ["quiet"])
        #expect(c.outputs.kept == ["main"] && c.outputs.added == ["console"])
        #expect(c.filterOrderChanged)
        #expect(c.summary == "inputs: added feed, removed logs; filters: added env, removed quiet, kept json; outputs: added console, kept main")
    }

    @Test func anotherTypeUnderTheSameIdIsAChange() throws {
        let c = try change(Self.base.replacingOccurrences(of: "{type: jsonl, id: main, path: out.jsonl}", with: "{type: stdout, id: main}"))
        #expect(c.outputs.changed == ["main"])
    }

    @Test func filtersInAnotherOrderAreKeptButTheChainChanges() throws {
        let swapped = Self.base.replacingOccurrences(
            of: "  - {type: parse, id: json, format: json}\n  - {type: drop, id: quiet, when: 'level == \"debug\"'}",
            with: "  - {type: drop, id: quiet, when: 'level == \"debug\"'}\n  - {type: parse, id: json, format: json}")
        #expect(swapped != Self.base)
        let c = try change(swapped)
        #expect(c.filters.kept == ["quiet", "json"] && c.filters.changed.isEmpty)
        #expect(c.filterOrderChanged && !c.isEmpty)
    }

    @Test func settingsThatNeedARestartAreNamedAndChangeNoStage() throws {
        let c = try change(Self.base.replacingOccurrences(of: "/tmp/state-a", with: "/tmp/state-b") + "\nname: renamed\n")
        #expect(c.needsRestart == ["data_dir (still /tmp/state-a)", "name (still \(try load(Self.base).name))"])
        #expect(c.isEmpty)
    }

    /// A stage that reads a file (here a model registry) changes when the file's bytes do, though
    /// its block in the pipeline file is the same.
    @Test func aChangedRegistryChangesTheStageThatReadsIt() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pipeline-change-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let registry = dir.appendingPathComponent("models.yml").path
        try "fraud-detector: 1.0.0\n".write(toFile: registry, atomically: true, encoding: .utf8)
        let text = Self.base.replacingOccurrences(
            of: "  - {type: parse, id: json, format: json}",
            with: "  - {type: parse, id: json, format: json}\n  - {type: enrich, id: version, model_version: {registry: \"\(registry)\"}}")
        let before = try load(text)
        #expect(PipelineChange(from: before, to: try load(text)).isEmpty)
        try "fraud-detector: 1.1.0\n".write(toFile: registry, atomically: true, encoding: .utf8)
        let c = PipelineChange(from: before, to: try load(text))
        #expect(c.filters.changed == ["version"])
        #expect(c.filters.kept == ["json", "quiet"])
        #expect(before.filesRead.contains(registry))
    }
}
