import DriftwoodCore
import Foundation
import Logging

@testable import DriftwoodStages

/// Builds filters from pipeline text as `driftwood` does, and runs events through them.
enum FilterHarness {
    static func environment(_ id: String) -> StageEnvironment {
        StageEnvironment(
            id: id, pipelineName: "test", dataDir: "/tmp", logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() },
            hostName: "test-host")
    }

    /// The pipeline text around one filter written as a YAML list item.
    static func pipeline(_ filter: String) -> String {
        "inputs: [{type: stdin}]\nfilters:\n" + filter + "\noutputs: [{type: stdout}]\n"
    }

    /// The config of the (first) filter in `filter`, read strictly from pipeline text.
    static func config<C>(_ filter: String, as type: C.Type = C.self) throws -> C {
        let config = try PipelineConfig.load(
            text: pipeline(filter), file: "p.yml", environment: [:], catalog: StageCatalog.descriptors)
        return config.filters[0].config as! C
    }

    /// The errors of pipeline text holding `filter`, as `driftwood check` prints them.
    static func errors(_ filter: String) -> [String] {
        do {
            _ = try PipelineConfig.load(
                text: pipeline(filter), file: "p.yml", environment: [:], catalog: StageCatalog.descriptors)
            return []
        } catch {
            return error.errors.map(\.description)
        }
    }

    /// Events from JSON objects; the origin's position is the index.
    static func events(_ lines: [String]) -> [Event] {
        lines.enumerated().map { i, line in
            Event(fields: try! Fields(json: line), origin: Origin(source: 1, position: UInt64(i + 1), contentHash: 5))
        }
    }

    /// Runs every event through `filter`, in order.
    static func run(_ filter: any Filter, _ lines: [String]) -> [Event] {
        var out: [Event] = []
        for event in events(lines) { filter.apply(event, into: &out) }
        return out
    }

    /// An event's fields as a Foundation object.
    static func object(_ event: Event) -> [String: Any] {
        try! JSONSerialization.jsonObject(with: Data(event.fields.json.utf8)) as! [String: Any]
    }

    static func isAlert(_ o: [String: Any]) -> Bool { (o["event"] as? [String: Any])?["kind"] as? String == "alert" }

    static func alert(_ o: [String: Any]) -> [String: Any] { o["alert"] as? [String: Any] ?? [:] }

    /// Writes a baseline file built from reference lines; returns its path.
    static func baselineFile(_ lines: [String], features: [String], bins: Int = 10, in dir: URL) throws -> String {
        var builder = BaselineBuilder(features: features.map { FieldPath($0)! }, options: .init(bins: bins))
        for line in lines {
            var l = line
            l.withUTF8 { _ = builder.add(line: $0) }
        }
        let path = dir.appendingPathComponent("baseline.json").path
        try Data(builder.finish().baseline.encoded(generator: "test")).write(to: URL(fileURLWithPath: path))
        return path
    }
}
