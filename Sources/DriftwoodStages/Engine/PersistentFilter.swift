import DriftwoodCore

/// A filter whose state survives a restart (drift windows, monitor counts, pending joins).
///
/// The engine saves `saveState()` in `<data_dir>/state/<stage id>` about once per
/// `state_interval`-like period (`Pipeline`'s `stateInterval`, 1 s) and at stop, always on the
/// thread that runs the filter and between two batches, and calls `restoreState` once before the
/// first event when the saved digest equals `stateDigest`. A file input's checkpoint never moves
/// past events whose effect on the state is not saved yet. See `docs/adding-a-stage.md`.
public protocol PersistentFilter: Filter {
    /// What the state means: changes whenever a saved state must not be restored (the filter's
    /// configuration, the content of a baseline). The engine adds the stage id.
    var stateDigest: String { get }
    /// The state as bytes (`StateWriter`). Called on the filter's own thread, between batches.
    func saveState() -> [UInt8]
    /// Replaces the state with saved bytes (`StateReader`); throws when they are not a state
    /// this filter can use, and then leaves the state empty.
    func restoreState(_ bytes: [UInt8]) throws
}
