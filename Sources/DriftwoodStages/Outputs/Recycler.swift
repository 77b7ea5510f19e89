import DriftwoodCore

/// Returning written events' buffers to `FieldsPool`, for outputs that encode ahead.
enum Recycler {
    /// Empties `events` and gives their storage to the pool. Buffers still shared with another
    /// output's copy of the batch are copied on write by the pool's next user, so sharing is safe.
    static func recycle(_ events: inout [Event]) {
        var storages: [Fields.Storage] = []
        storages.reserveCapacity(events.count)
        while var event = events.popLast() {
            if let storage = event.fields.recycle() { storages.append(storage) }
        }
        FieldsPool.shared.give(&storages)
    }
}
