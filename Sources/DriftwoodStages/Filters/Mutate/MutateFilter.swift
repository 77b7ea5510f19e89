import DriftwoodCore

/// Renames, copies, converts and removes fields (in that order, as Logstash's mutate does).
/// A value that cannot be converted is left as it is and the event is tagged `_convert_failure`.
public final class MutateFilter: Filter {
    let config: MutateConfig

    /// Counts the failure tags this filter adds (a rate-limited warning).
    let failures: FailureCounter?

    public init(config: MutateConfig, failures: FailureCounter? = nil) {
        self.config = config
        self.failures = failures
    }

    /// Per-event work only: safe to run in several filter workers.
    public var isStateless: Bool { true }

    public func apply(_ event: consuming Event, into out: inout [Event]) {
        for (from, to) in config.rename {
            guard let value = event.fields.value(at: from) else { continue }
            if event.fields.set(to, value: value) {
                if !(to.components.starts(with: from.components)) { event.fields.remove(from) }
            } else {
                event.fields.addTag("_field_conflict")
                failures?.record("_field_conflict") { "cannot rename '\(from.text)' to '\(to.text)': a parent is not an object" }
            }
        }
        for (from, to) in config.copy {
            guard let value = event.fields.value(at: from) else { continue }
            if !event.fields.set(to, value: value) {
                event.fields.addTag("_field_conflict")
                failures?.record("_field_conflict") { "cannot copy '\(from.text)' to '\(to.text)': a parent is not an object" }
            }
        }
        for (path, conversion) in config.convert {
            guard let value = event.fields.value(at: path) else { continue }
            if let json = Self.convert(value, to: conversion) {
                event.fields.set(path, json: json)
            } else {
                event.fields.addTag("_convert_failure")
                failures?.record("_convert_failure") { "'\(path.text)' holds \(String(decoding: value.json.prefix(60), as: UTF8.self)), not convertible to \(conversion)" }
            }
        }
        for path in config.remove { event.fields.remove(path) }
        out.append(event)
    }

    /// The JSON text of `value` converted, or nil when it cannot be. Arrays convert element-wise.
    static func convert(_ value: JSONValue, to conversion: MutateConfig.Conversion) -> [UInt8]? {
        var out: [UInt8] = []
        switch value.kind {
        case .array:
            out.append(UInt8(ascii: "["))
            for (k, element) in value.elements.enumerated() {
                guard let json = convert(element, to: conversion) else { return nil }
                if k > 0 { out.append(UInt8(ascii: ",")) }
                out += json
            }
            out.append(UInt8(ascii: "]"))
            return out
        case .object:
            return conversion == .string ? { JSONWriter.appendString(value.text, to: &out); return out }() : nil
        default:
            break
        }
        switch conversion {
        case .string:
            JSONWriter.appendString(value.text, to: &out)
        case .integer:
            if let i = value.integer { JSONWriter.appendInteger(i, to: &out) }
            else if let d = value.number ?? value.string.flatMap({ Double($0.trimmingCharacters()) }), d.isFinite,
                abs(d) < 9.2e18
            {
                JSONWriter.appendInteger(Int64(d), to: &out)
            } else if let b = value.bool {
                JSONWriter.appendInteger(b ? 1 : 0, to: &out)
            } else {
                return nil
            }
        case .float:
            if let d = value.number ?? value.string.flatMap({ Double($0.trimmingCharacters()) }), d.isFinite {
                if d == d.rounded(), abs(d) < 1e15 {
                    out += Array(String(format: d).utf8)
                } else {
                    JSONWriter.appendNumber(d, to: &out)
                }
            } else if let b = value.bool {
                out += Array((b ? "1.0" : "0.0").utf8)
            } else {
                return nil
            }
        case .boolean:
            if let b = value.bool { JSONWriter.appendBool(b, to: &out) }
            else if let s = value.string?.lowercased().trimmingCharacters() {
                if ["true", "t", "yes", "y", "1"].contains(s) { JSONWriter.appendBool(true, to: &out) }
                else if ["false", "f", "no", "n", "0", ""].contains(s) { JSONWriter.appendBool(false, to: &out) }
                else { return nil }
            } else if let d = value.number {
                JSONWriter.appendBool(d != 0, to: &out)
            } else {
                return nil
            }
        }
        return out
    }
}

extension String {
    /// Without leading and trailing spaces and tabs.
    func trimmingCharacters() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return String(s)
    }

    /// `5.0` for 5: a float written with a fraction so Elasticsearch maps it as a float.
    init(format d: Double) {
        self = "\(Int64(d)).0"
    }
}
