import ArgumentParser
import DriftwoodCore
import DriftwoodStages
import Foundation

/// `driftwood baseline --input FILE [--input FILE …] [--features a,b,c] [--bins 10] [--output FILE]`
/// — profiles reference JSON lines (plain or gzip) into a baseline file for the `drift` filter.
struct BaselineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "baseline",
        abstract: "Profile reference JSON lines (plain or gzip) into a baseline file for the drift filter.",
        discussion: """
            Numeric features get the bins-1 inner quantile edges (numpy's default quantiles, tied edges \
            merged) and the share of values per bin, plus count, mean, std, min and max; categorical ones \
            (strings, booleans, and numbers with at most 20 distinct values each seen 5 times on \
            average) the shares of their 20 most frequent values plus __other__; the choice is the \
            same with and without --features. Without --features every scalar leaf field is \
            profiled, except identifiers (id, *_id, model, host, service, trace and span ids, more \
            than 1000 distinct strings), log levels (level, severity), times (ts, time, \
            timestamp) and log text (message, msg, error, logger); --features keeps any of them. \
            The features chosen are printed on stderr with their types.
            """)

    @Option(name: .long, help: "A file of JSON lines, plain or gzip; repeat for more.") var input: [String] = []
    @Option(name: .long, help: "Comma-separated field paths (default: every scalar leaf field).") var features: String?
    @Option(name: .long, help: "Bins per numeric feature (at least 2).") var bins: Int = 10
    @Option(name: .long, help: "Where to write the baseline (default: stdout).") var output: String?
    @Option(
        name: .long,
        help: "A JSON object of feature → weight (e.g. mean |SHAP| from training) stored in the baseline for drift's weighted score.")
    var importance: String?

    func validate() throws {
        if input.isEmpty { throw ValidationError("give at least one --input FILE") }
        if bins < 2 { throw ValidationError("--bins must be at least 2") }
        if let features {
            for name in features.split(separator: ",", omittingEmptySubsequences: false)
            where FieldPath(name.trimmingCharacters(in: .whitespaces)) == nil {
                throw ValidationError("--features: '\(name)' is not a field path (like features.amount)")
            }
        }
    }

    func run() throws {
        let paths = features.map {
            $0.split(separator: ",").map { FieldPath($0.trimmingCharacters(in: .whitespaces))! }
        }
        var builder = BaselineBuilder(features: paths, options: BaselineBuilder.Options(bins: bins))
        for file in input {
            if let problem = FileAccess.problem(file) { fail("--input: \(problem)") }
            do {
                try LineFileReader.forEachLine(path: file) { builder.add(line: $0) }
            } catch {
                fail("\(error)")
            }
        }
        var result = builder.finish()
        if features == nil {
            // Identifiers and levels are not model features: left out unless named.
            var kept: [FeatureBaseline] = []
            for feature in result.baseline.features {
                if let why = Self.notAFeature(feature.name) {
                    result.notes.append("left out \(feature.name): \(why) (name it in --features to keep it)")
                } else {
                    kept.append(feature)
                }
            }
            result.baseline.features = kept
        }
        if let importance { result.baseline.importance = readImportance(importance, features: result.baseline.features.map(\.name)) }
        for note in result.notes { say(note) }
        for feature in result.baseline.features {
            switch feature.distribution {
            case .numeric(let n): say("feature \(feature.name): numeric, \(n.probabilities.count) bins, \(feature.count) values")
            case .categorical(let c):
                say("feature \(feature.name): categorical, \(c.values.count) values listed, \(feature.count) values")
            }
        }
        if !result.featuresWithoutValues.isEmpty {
            fail("no values in the input for: \(result.featuresWithoutValues.joined(separator: ", "))")
        }
        if result.baseline.features.isEmpty { fail("no features found in \(builder.lines) lines") }
        let bytes = result.baseline.encoded(generator: "driftwood \(driftwoodVersion)")
        if let output {
            // Written beside the target, then renamed: a reader never sees half a file.
            let temporary = output + ".tmp-\(getpid())"
            guard FileManager.default.createFile(atPath: temporary, contents: Data(bytes)) else {
                fail("\(output): cannot write (\(String(cString: strerror(errno))))")
            }
            if rename(temporary, output) != 0 {
                let reason = String(cString: strerror(errno))
                unlink(temporary)
                fail("\(output): cannot write (\(reason))")
            }
        } else {
            FileHandle.standardOutput.write(Data(bytes))
        }
        let numeric = result.baseline.features.filter(\.isNumeric).count
        say(
            "\(builder.lines) lines (\(builder.skippedLines) not JSON objects, skipped): "
                + "\(numeric) numeric and \(result.baseline.features.count - numeric) categorical features"
                + (output.map { " written to \($0)" } ?? ""))
    }

    /// Why a field found without `--features` is not a model feature, or nil when it may be one.
    static func notAFeature(_ name: String) -> String? {
        let last = name.split(separator: ".").last.map { String($0).lowercased() } ?? name.lowercased()
        let whole = name.lowercased()
        if ["level", "severity", "loglevel", "log_level"].contains(last) { return "a log level" }
        if ["ts", "time", "timestamp", "@timestamp", "datetime"].contains(last) { return "a time" }
        if ["message", "msg", "error", "err", "logger", "exception", "stack_trace"].contains(last) { return "log text" }
        if last == "id" || last.hasSuffix("_id") || last.hasSuffix("-id") || last == "uuid" || last == "guid"
            || ["model", "model_name", "model_version", "version", "host", "hostname", "service", "pod", "trace", "span"]
                .contains(last) || whole.hasPrefix("host.") || whole.hasPrefix("service.") || whole.hasPrefix("trace.")
        {
            return "an identifier"
        }
        return nil
    }

    /// The `--importance` file: a JSON object of profiled features to weights at least 0, not all 0.
    func readImportance(_ path: String, features: [String]) -> [(name: String, weight: Double)] {
        let bytes: [UInt8]
        do { bytes = try FileAccess.read(path) } catch { fail("--importance: \(error)") }
        let weights: [(name: String, weight: Double)]
        do { weights = try Baseline.decodeImportance(json: bytes) } catch {
            fail("--importance \(path): \(error)")
        }
        for entry in weights where !features.contains(entry.name) {
            fail("--importance \(path): '\(entry.name)' is not a profiled feature; profiled: \(features.joined(separator: ", "))")
        }
        if weights.isEmpty || weights.allSatisfy({ $0.weight == 0 }) { fail("--importance \(path): the weights must not all be 0") }
        return weights
    }

    func say(_ text: String) { FileHandle.standardError.write(Data("baseline: \(text)\n".utf8)) }

    func fail(_ text: String) -> Never {
        say(text)
        Foundation.exit(1)
    }
}
