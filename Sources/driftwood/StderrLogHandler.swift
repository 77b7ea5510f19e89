#if canImport(Glibc)
import Glibc
#endif
import DriftwoodCore
import Logging

/// Driftwood's own log on stderr: readable text, or one JSON object a line with ECS-style keys
/// (`@timestamp`, `log.level`, `log.logger`, `message`, `event.dataset`, then metadata) so
/// driftwood can ship its own log.
struct StderrLogHandler: LogHandler {
    enum Format: String, CaseIterable { case text, json }

    let label: String
    let format: Format
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        var out: [UInt8] = []
        let time = Timestamp.now().rfc3339
        switch format {
        case .text:
            var line = "\(time) \(event.level) \(label): \(event.message)"
            for (k, v) in merged.sorted(by: { $0.key < $1.key }) { line += " \(k)=\(v)" }
            out = Array((line + "\n").utf8)
        case .json:
            out += Array(#"{"@timestamp":"#.utf8)
            JSONWriter.appendString(time, to: &out)
            out += Array(#","log.level":"#.utf8)
            JSONWriter.appendString(event.level.rawValue, to: &out)
            out += Array(#","log.logger":"#.utf8)
            JSONWriter.appendString(label, to: &out)
            out += Array(#","message":"#.utf8)
            JSONWriter.appendString(event.message.description, to: &out)
            out += Array(#","event.dataset":"driftwood.log""#.utf8)
            for (k, v) in merged.sorted(by: { $0.key < $1.key }) {
                out.append(UInt8(ascii: ","))
                JSONWriter.appendString(Self.ecsKey(k), to: &out)
                out.append(UInt8(ascii: ":"))
                JSONWriter.appendString("\(v)", to: &out)
            }
            out += Array("}\n".utf8)
        }
        out.withUnsafeBufferPointer { _ = write(2, $0.baseAddress, $0.count) }
    }

    /// The JSON key of a metadata key: `error` is ECS's `error.message`; the rest (`stage`,
    /// `host`, `path`, …) go under `driftwood.`, so none clashes with an ECS field of another type
    /// (`host` is an object there).
    static func ecsKey(_ key: String) -> String {
        key == "error" ? "error.message" : "driftwood." + key
    }
}
