import Foundation
import Yams

/// The files that ship beside the binary (pipelines/, templates/, docker-compose.yml, Dockerfile,
/// deploy/), read from the repository as a user's tools would read them.
enum StackFiles {
    struct Problem: Error, CustomStringConvertible {
        let description: String
    }

    /// A path relative to the repository root.
    static func url(_ relative: String) -> URL { Driftwood.packageRoot.appendingPathComponent(relative) }

    /// Whether a file or folder exists at `relative` (to the repository root).
    static func exists(_ relative: String) -> Bool { FileManager.default.fileExists(atPath: url(relative).path) }

    static func text(_ relative: String) throws -> String { try String(contentsOf: url(relative), encoding: .utf8) }

    /// A YAML file whose top level is a mapping.
    static func yaml(_ relative: String) throws -> [String: Any] {
        guard let mapping = try Yams.load(yaml: text(relative)) as? [String: Any] else {
            throw Problem(description: "\(relative): the top level is not a mapping")
        }
        return mapping
    }

    /// A JSON file whose top level is an object.
    static func json(_ relative: String) throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url(relative))) as? [String: Any]
        else { throw Problem(description: "\(relative): the top level is not an object") }
        return object
    }

    /// A JSON-lines file: one object a line (blank lines skipped); a line that is not an object throws.
    static func ndjson(_ relative: String) throws -> [[String: Any]] {
        var objects: [[String: Any]] = []
        for (n, line) in try text(relative).split(separator: "\n").enumerated()
        where !line.allSatisfy(\.isWhitespace) {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                throw Problem(description: "\(relative):\(n + 1): not a JSON object")
            }
            objects.append(object)
        }
        return objects
    }

    /// The ready pipelines, `pipelines/*.yml`, by file name.
    static var pipelineNames: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: url("pipelines").path)) ?? []
        return names.filter { $0.hasSuffix(".yml") || $0.hasSuffix(".yaml") }.sorted()
    }

    /// `text` with the list under its top-level `inputs:` replaced by `replacement` (YAML list
    /// lines), everything else byte for byte: a scratch copy of a pipeline that reads stdin.
    static func replacingInputs(of text: String, with replacement: String) throws -> String {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let start = lines.firstIndex(of: "inputs:") else { throw Problem(description: "no top-level 'inputs:'") }
        // The section ends at the next top-level key (a line starting with neither blank nor comment).
        let end =
            lines[(start + 1)...].firstIndex { line in
                guard let first = line.first else { return false }
                return first != " " && first != "#" && first != "-"
            } ?? lines.count
        lines.replaceSubrange((start + 1)..<end, with: [replacement, ""])
        return lines.joined(separator: "\n")
    }

    /// The explicitly mapped field paths of an index template (`template.mappings.properties`),
    /// dotted, objects included (`log`, `log.level`, ...).
    static func mappedFields(ofTemplate template: [String: Any]) -> Set<String> {
        var fields: Set<String> = []
        func walk(_ properties: [String: Any], prefix: String) {
            for (name, value) in properties {
                let path = prefix.isEmpty ? name : "\(prefix).\(name)"
                fields.insert(path)
                if let nested = (value as? [String: Any])?["properties"] as? [String: Any] {
                    walk(nested, prefix: path)
                }
            }
        }
        let mappings = (template["template"] as? [String: Any])?["mappings"] as? [String: Any]
        walk(mappings?["properties"] as? [String: Any] ?? [:], prefix: "")
        return fields
    }

    /// The `path_match` globs of an index template's dynamic templates.
    static func dynamicPathMatches(ofTemplate template: [String: Any]) -> [String] {
        let mappings = (template["template"] as? [String: Any])?["mappings"] as? [String: Any]
        let dynamic = mappings?["dynamic_templates"] as? [[String: Any]] ?? []
        return dynamic.flatMap { $0.values.compactMap { ($0 as? [String: Any])?["path_match"] as? String } }
    }

    /// Whether `name` matches a glob with `*` wildcards (Elasticsearch's index patterns and
    /// `path_match`).
    static func glob(_ pattern: String, matches name: String) -> Bool {
        let parts = pattern.split(separator: "*", omittingEmptySubsequences: false).map(String.init)
        guard parts.count > 1 else { return pattern == name }
        guard name.hasPrefix(parts[0]) else { return false }
        var rest = name.dropFirst(parts[0].count)
        for part in parts.dropFirst().dropLast() where !part.isEmpty {
            guard let r = rest.range(of: part) else { return false }
            rest = rest[r.upperBound...]
        }
        return rest.hasSuffix(parts.last!)
    }
}
