import DriftwoodCore

/// `type: drop` — drops the events its `when:` selects (every event when there is no `when`).
public struct DropConfig: StageConfig {
    public init(_ c: ConfigObject) {}
}
