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
    /// `fields` in order: constant top-level ones (`model_version: "1.4.2"`) as a prepared
    /// member (`constants[k]`, step k), the rest (nested paths, templates) as `config.fields[i]`
    /// (step -1 - i). A constant costs one copy per event and no reference counting.
    let steps: UnsafeMutableBufferPointer<Int>
    let constants: [ConstantMember]
    /// Where each constant's member sat in the last event (`Fields.setMember(_:member:hint:)`).
    let hints: UnsafeMutableBufferPointer<Int>
    /// The registry's versions as prepared members, when the target is a top-level field.
    let versionMembers: VersionMembers?

    /// A constant top-level field: its name, and the name's bytes followed by the value's JSON.
    struct ConstantMember {
        let name: MemberName
        let member: UnsafeMutableBufferPointer<UInt8>
    }

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
        var constants: [ConstantMember] = []
        steps = .allocate(capacity: max(1, config.fields.count))
        for (i, (path, value)) in config.fields.enumerated() {
            if path.components.count == 1, case .json(let json) = value {
                let bytes = path.components[0] + json
                let member = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(1, bytes.count))
                _ = member.initialize(from: bytes)
                steps[i] = constants.count
                constants.append(ConstantMember(name: MemberName(path.components[0]), member: member))
            } else {
                steps[i] = -1 - i
            }
        }
        self.constants = constants
        versionMembers = registry == nil ? nil : config.modelVersion.flatMap {
            VersionMembers(nameField: $0.nameField, target: $0.target, defaultVersion: d)
        }
        hints = .allocate(capacity: max(1, constants.count))
        hints.initialize(repeating: 0)
    }

    deinit {
        for c in constants { c.member.deallocate() }
        steps.deallocate()
        hints.deallocate()
    }

    static let hostName = FieldPath("host.name")!

    /// Per-event work only: safe to run in several filter workers.
    public var isStateless: Bool { true }

    public func apply(_ event: consuming Event, into out: inout [Event]) {
        for step in UnsafeBufferPointer(rebasing: steps[0..<config.fields.count]) {
            if step >= 0 {
                constants.withUnsafeBufferPointer { constants in
                    event.fields.setMember(
                        constants[step].name, member: UnsafeBufferPointer(constants[step].member), hint: &hints[step])
                }
                continue
            }
            let (path, value) = config.fields[-1 - step]
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
                registry.takeNewer()
                if let versionMembers {
                    versionMembers.apply(&event.fields, registry: registry)
                    if config.host, !event.fields.set(Self.hostName, json: hostJSON) { conflict(&event.fields) }
                    out.append(event)
                    return
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
