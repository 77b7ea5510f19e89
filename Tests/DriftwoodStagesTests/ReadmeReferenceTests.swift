import Foundation
import Testing
import Yams

@testable import DriftwoodCore
@testable import DriftwoodStages

/// The README's stage reference is checked against the config readers: every key a stage reads
/// is documented there, and every key documented there is read. A key added to a stage without
/// its line in the README (or the other way round) fails this test.
@Suite struct ReadmeReferenceTests {
    static let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("README.md")

    /// `stage type` → the top-level keys its rows in "### Stage reference" name (`a.b` counts as `a`).
    static func documentedKeys() throws -> [String: Set<String>] {
        let text = try String(contentsOf: readme, encoding: .utf8)
        guard let start = text.range(of: "### Stage reference") else { return [:] }
        var keys: [String: Set<String>] = [:]
        var stage: String?
        for line in text[start.upperBound...].split(separator: "\n") {
            if line.hasPrefix("#") { break }
            guard line.hasPrefix("|") else { continue }
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            guard cells.count > 3 else { continue }
            // "input `file`", "filter `parse`", "output `jsonl`": a new stage's first row.
            if let type = cells[1].split(separator: "`").dropFirst().first { stage = String(type) }
            guard let stage, cells[2].hasPrefix("`") else { continue }
            // Every `quoted` name in the cell (a row may document two: "`group_by`, `max_groups`").
            let quoted = cells[2].split(separator: "`", omittingEmptySubsequences: false).enumerated()
                .filter { $0.offset % 2 == 1 }.map(\.element)
            // (`.resolve_below` after `error_rate.threshold` continues the key before it.)
            for key in quoted where !key.hasPrefix(".") { keys[stage, default: []].insert(String(key.split(separator: ".").first ?? "")) }
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
        let documented = try Self.documentedKeys()
        #expect(!documented.isEmpty, "no stage reference table found in README.md")
        for (type, descriptor) in StageCatalog.descriptors.sorted(by: { $0.key < $1.key }) {
            let read = try Self.readKeys(descriptor)
            let written = documented[type] ?? []
            #expect(read.subtracting(written).isEmpty, "README.md does not document \(type): \(read.subtracting(written).sorted())")
            #expect(written.subtracting(read).isEmpty, "README.md documents keys \(type) does not read: \(written.subtracting(read).sorted())")
        }
    }
}
