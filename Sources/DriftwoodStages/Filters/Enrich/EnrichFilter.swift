import DriftwoodCore
import Foundation
import Logging

/// Adds static fields, the model version and the host name to every event.
public final class EnrichFilter: Filter {
    let config: EnrichConfig
    let registry: ModelRegistry?
    let fixedVersion: [UInt8]?
    let defaultVersion: [UInt8]
    let hostJSON: [UInt8]
    let logger: Logger
    private var eventsSinceCheck = 0
    let failures: FailureCounter

    public init(config: EnrichConfig, environment: StageEnvironment) throws {
        self.config = config
        self.logger = environment.logger
        failures = FailureCounter(environment)
        registry = try config.modelVersion?.registry.map { try ModelRegistry(path: $0) }
        fixedVersion = config.modelVersion?.value.map { v in
            var json: [UInt8] = []
            JSONWriter.appendString(v, to: &json)
            return json
        }
        var d: [UInt8] = []
        JSONWriter.appendString(config.modelVersion?.defaultVersion ?? "unknown", to: &d)
        defaultVersion = d
        var h: [UInt8] = []
        JSONWriter.appendString(environment.hostName, to: &h)
        hostJSON = h
    }

    static let hostName = FieldPath("host.name")!

    /// Per-event work only: safe to run in several filter workers.
    public var isStateless: Bool { true }

    public func apply(_ event: consuming Event, into out: inout [Event]) {
        for (path, value) in config.fields {
            let ok: Bool
            switch value {
            case .json(let json): ok = event.fields.set(path, json: json)
            case .template(let template): ok = event.fields.set(path, string: template.render(event.fields))
            }
            if !ok { conflict(&event.fields) }
        }
        if let m = config.modelVersion {
            if let registry {
                eventsSinceCheck += 1
                if eventsSinceCheck >= 64 {
                    eventsSinceCheck = 0
                    if let error = registry.refreshIfChanged() {
                        logger.warning("keeping the previous model registry", metadata: ["error": "\(error)"])
                    }
                }
            }
            var version = fixedVersion ?? defaultVersion
            if let registry, let name = event.fields.value(at: m.nameField), let v = registry.version(for: name) {
                version = v
            }
            if !event.fields.set(m.target, json: version) { conflict(&event.fields) }
        }
        if config.host, !event.fields.set(Self.hostName, json: hostJSON) { conflict(&event.fields) }
        out.append(event)
    }

    private func conflict(_ fields: inout Fields) {
        fields.addTag("_field_conflict")
        failures.record("_field_conflict") { "cannot set a field: a parent is not an object" }
    }
}
