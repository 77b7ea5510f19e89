extension Template {
    /// True when every `%{field}` of the template holds a value that renders as itself: present,
    /// not null and not an empty string. A template that would render `_unknown_` somewhere is
    /// not a usable document id, since every event missing the field would share it.
    public func hasAllFields(_ fields: Fields) -> Bool {
        for part in parts {
            guard case .field(let path) = part else { continue }
            guard let value = fields.value(at: path), value.kind != .null else { return false }
            if value.withStringBytes({ $0.isEmpty }) == true { return false }
        }
        return true
    }
}
