import Foundation
import Testing

/// Issue 17, items 1 and 2: file errors name the absolute path and why; the ready pipelines run
/// from anywhere; timestamp and parse failures are warned about, counted and kept.
@Suite struct PathsAndTimestampsTests {
    /// `check` on every ready pipeline, from a temporary directory outside the repository, with
    /// only the variables docs/running.md says to set.
    @Test(arguments: StackFiles.pipelineNames) func readyPipelinePassesCheckFromAnotherDirectory(_ name: String) throws {
        let dir = try Driftwood.temporaryDirectory()
        let result = try Driftwood.run(["check", FirstHour.pipeline(name)], directory: dir, environment: FirstHour.environment())
        #expect(result.code == 0, "driftwood check pipelines/\(name) from \(dir.path) failed:\n\(result.stderr)")
        #expect(result.stdout.hasPrefix("ok: "))
    }

    /// Without DRIFTWOOD_HOME, from elsewhere: the error names the absolute path tried and why.
    @Test func readyPipelineWithoutHomeNamesTheAbsolutePathItTried() throws {
        let dir = try Driftwood.temporaryDirectory()
        let result = try Driftwood.run(["check", FirstHour.pipeline("model-logs-to-es.yml")], directory: dir, environment: [:])
        #expect(result.code == 2)
        let base = dir.resolvingSymlinksInPath().path
        for file in ["samples/models.yml", "samples/baseline.json", "templates/model-logs.json"] {
            let candidates = [dir.path, base].map { "cannot read \($0)/\(file): no such file" }
            #expect(candidates.contains { result.stderr.contains($0) }, "no absolute path for \(file) in:\n\(result.stderr)")
        }
        #expect(!result.stderr.contains("cannot be read"), "the old wording is back:\n\(result.stderr)")
    }

    /// One wording for every file a pipeline names: missing, a directory, unreadable.
    @Test func everyFileErrorHasOneWordingWithTheReason() throws {
        let dir = try Driftwood.temporaryDirectory()
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("adir"), withIntermediateDirectories: true)
        let locked = try Driftwood.write("{}", to: "locked.json", in: dir)
        chmod(locked, 0)
        let pipeline = try Driftwood.write(
            """
            inputs: [{type: stdin}]
            filters:
              - type: enrich
                model_version: {registry: missing.yml}
              - type: drift
                baseline: adir
            outputs:
              - type: elasticsearch
                hosts: ["http://127.0.0.1:9"]
                template: {name: t, file: locked.json}
            """, to: "p.yml", in: dir)
        let result = try Driftwood.run(["check", pipeline], directory: dir)
        #expect(result.code == 2)
        let root = dir.path
        #expect(result.stderr.contains("model registry: cannot read \(root)/missing.yml: no such file ('missing.yml' is relative to the working directory"), "\(result.stderr)")
        #expect(result.stderr.contains("cannot read \(root)/adir: not a file (a directory)"), "\(result.stderr)")
        if getuid() != 0 {
            #expect(result.stderr.contains("cannot read \(root)/locked.json: permission denied"), "\(result.stderr)")
        }
        let missingPipeline = try Driftwood.run(["check", "nope.yml"], directory: dir)
        #expect(missingPipeline.code == 2)
        #expect(missingPipeline.stderr.contains("cannot read \(root)/nope.yml: no such file"), "\(missingPipeline.stderr)")
    }

    /// A log whose time field is `time`: the ready pipeline warns (rate-limited, with counts),
    /// keeps a value that failed, and takes the field from TIME_FIELD.
    @Test func timestampFailuresAreWarnedCountedAndTheValueKept() throws {
        let dir = try Driftwood.temporaryDirectory()
        let lines = FirstHour.modelLines(200, timeField: "time") + #"{"ts":"yesterday","model":"m"}"# + "\n"
        let input = try Driftwood.write(lines, to: "in.jsonl", in: dir)
        let result = try Driftwood.run(
            ["test", FirstHour.pipeline("local-aggregate.yml"), "--input", input], directory: dir,
            environment: FirstHour.environment())
        #expect(result.code == 0, "\(result.stderr)")
        let events = result.stdout.split(separator: "\n").map { try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        #expect(events.count == 201)
        let failed = events.last!
        #expect(failed["ts"] as? String == "yesterday", "a value that failed to parse must stay: \(failed)")
        #expect((failed["tags"] as? [String])?.contains("_timestamp_failure") == true)
        // Rate-limited: the first at once, the rest in one line at the end; 201 counted in all.
        let warnings = result.stderr.split(separator: "\n").filter { $0.contains("events tagged as failures") }
        #expect((1...2).contains(warnings.count), "\(result.stderr)")
        let counted = warnings.compactMap { line -> Int? in
            guard let r = line.range(of: "_timestamp_failure=") else { return nil }
            return Int(line[r.upperBound...].prefix { $0.isNumber })
        }.reduce(0, +)
        #expect(counted == 201, "\(result.stderr)")
        #expect(result.stderr.contains("the time field 'ts' is missing"), "\(result.stderr)")
        #expect(result.stderr.contains("docs/events.md"))

        let fixed = try Driftwood.run(
            ["test", FirstHour.pipeline("local-aggregate.yml"), "--input", input], directory: dir,
            environment: FirstHour.environment(["TIME_FIELD": "time"]))
        let good = try JSONSerialization.jsonObject(with: Data(fixed.stdout.split(separator: "\n")[0].utf8)) as! [String: Any]
        #expect(good["@timestamp"] as? String == "2026-11-24T10:00:00.000Z", "\(good)")
        #expect(good["time"] == nil, "a time that became @timestamp is removed")
        #expect(good["tags"] == nil)
        let fixedWarnings = fixed.stderr.split(separator: "\n").filter { $0.contains("_timestamp_failure=1") }
        #expect(fixedWarnings.count == 1, "only the line with ts: yesterday fails now:\n\(fixed.stderr)")
    }

    /// Every tag a stage adds is in docs/events.md, in one table.
    @Test func everyTagIsDocumentedInOnePlace() throws {
        let text = try String(contentsOf: Driftwood.packageRoot.appendingPathComponent("docs/events.md"), encoding: .utf8)
        let sources = Driftwood.packageRoot.appendingPathComponent("Sources")
        var tags = Set<String>()
        for case let url as URL in FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil)!
        where url.pathExtension == "swift" {
            let source = try String(contentsOf: url, encoding: .utf8)
            var rest = source[...]
            while let r = rest.range(of: "addTag(\"") {
                let name = rest[r.upperBound...].prefix { $0 != "\"" }
                tags.insert(String(name))
                rest = rest[r.upperBound...]
            }
        }
        #expect(tags.isSuperset(of: ["_parse_failure", "_timestamp_failure", "_field_conflict", "_line_truncated"]))
        for tag in tags { #expect(text.contains("| `\(tag)` |"), "docs/events.md does not list \(tag)") }
    }
}
