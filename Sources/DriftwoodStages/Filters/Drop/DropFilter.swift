import DriftwoodCore

/// Drops every event it is given; its `when:` (applied by the engine) chooses which.
/// The engine settles a dropped event's acknowledgement, so a dropped line still checkpoints.
public final class DropFilter: Filter {
    public init(config: DropConfig) {}

    /// Per-event work only: safe to run in several filter workers.
    public var isStateless: Bool { true }

    public func apply(_ event: consuming Event, into out: inout [Event]) {}
}
