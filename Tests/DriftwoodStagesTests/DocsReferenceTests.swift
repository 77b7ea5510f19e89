import Foundation
import Testing
import Yams

@testable import DriftwoodCore
@testable import DriftwoodStages

/// The stage reference in `docs/stages/<type>.md` is checked against the config readers: every key
/// a stage reads is documented in its file, and every key documented there is read. A key added to a
/// stage without its row (or the other way round), or a stage type without its file, fails this test.
@Suite struct DocsReferenceTests {
    static let stagesDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("docs/stages")

    /// The top-level keys the rows of a stage file's `| key | default | meaning |` table name
    /// (`a.b` counts as `a`); nil when the file does not exist.
    static func documentedKeys(_ type: String) throws -> Set<String>? {
        let file = stagesDirectory.appendingPathComponent("\(type).md")
        guard FileManager.default.fileExists(atPath: file.path) else { return nil }
        let text = try String(contentsOf: file, encoding: .utf8)
        var keys: Set<String> = []
        var inTable = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("| key |") { inTable = true; continue }
            guard inTable else { continue }
            guard line.hasPrefix("|") else { inTable = false; continue }
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            guard cells.count > 3, cells[1].hasPrefix("`") else { continue }
            // Every `quoted` name in the cell (a row may document two: "`group_by`, `max_groups`");
            // `.resolve_below` after `error_rate.threshold` continues the key before it.
            let quoted = cells[1].split(separator: "`", omittingEmptySubsequences: false).enumerated()
                .filter { $0.offset % 2 == 1 }.map(\.element)
            for key in quoted where !key.hasPrefix(".") { keys.insert(String(key.split(separator: ".").first ?? "")) }
        }
        return keys
    }

    /// The top-level keys a stage's config reader asks for, read from an empty mapping.
    static func readKeys(_ descriptor: StageDescriptor) throws -> Set<String> {
        let node = try Yams.compose(yaml: "{}")!
        let c = ConfigObject(node: node, path: "", stageType: descriptor.type, problems: ConfigProblems(file: "x.yml"))
        _ = descriptor.decode(c, StageContext(id: "x", dataDir: "/tmp", environment: [:]))
        return Set(c.knownKeys)
    }

    @Test func everyStageKeyIsDocumentedAndEveryDocumentedKeyIsRead() throws {
        // An input and an output may share a type name (`kafka`): they share the file too, which
        // documents the keys of both.
        let byType = Dictionary(grouping: StageCatalog.descriptors.values, by: \.type)
        for (type, descriptors) in byType.sorted(by: { $0.key < $1.key }) {
            var read: Set<String> = []
            for descriptor in descriptors { read.formUnion(try Self.readKeys(descriptor)) }
            guard let written = try Self.documentedKeys(type) else {
                Issue.record("docs/stages/\(type).md is missing: every stage type has a reference file")
                continue
            }
            #expect(read.subtracting(written).isEmpty, "docs/stages/\(type).md does not document \(read.subtracting(written).sorted())")
            #expect(written.subtracting(read).isEmpty, "docs/stages/\(type).md documents keys \(type) does not read: \(written.subtracting(read).sorted())")
        }
    }
}
