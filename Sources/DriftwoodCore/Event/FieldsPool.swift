#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Recycles the storage of events that have been written, so inputs build new events without
/// going to malloc. Events are made on an input's thread and released on another; glibc's
/// per-thread caches cannot serve that pattern, and malloc/free showed as ~10% of W1's time.
/// Storage moves in bulk (one lock per batch), and the pool is bounded.
public final class FieldsPool: @unchecked Sendable {
    /// The pool the inputs and outputs of this process share.
    public static let shared = FieldsPool(limit: 8192)

    /// Most storages held; more are simply freed.
    public let limit: Int
    // Guarded by `mutex`.
    private var mutex = pthread_mutex_t()
    private var stash: [Fields.Storage] = []

    public init(limit: Int) {
        self.limit = limit
        pthread_mutex_init(&mutex, nil)
    }

    /// Moves up to `count` storages into `into`.
    public func take(_ count: Int, into: inout [Fields.Storage]) {
        pthread_mutex_lock(&mutex)
        // Moved one by one (popLast), never copied: the buffers must stay uniquely owned.
        for _ in 0..<min(count, stash.count) { into.append(stash.removeLast()) }
        pthread_mutex_unlock(&mutex)
    }

    /// Takes the storages in `from` (leaving it empty), keeping as many as the limit allows.
    public func give(_ from: inout [Fields.Storage]) {
        pthread_mutex_lock(&mutex)
        while stash.count < limit, let storage = from.popLast() { stash.append(storage) }
        pthread_mutex_unlock(&mutex)
        from.removeAll(keepingCapacity: true)
    }

    /// Storages held now.
    public var count: Int {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return stash.count
    }
}

extension Fields {
    /// The buffers behind a `Fields`, emptied, capacity kept.
    public struct Storage: Sendable {
        var arena: [UInt8]
        var members: [Member]
    }

    /// Fields on recycled storage (empty; its buffers keep their capacity).
    public init(storage: consuming Storage, capacity: Int) {
        // Swapped out, not copied: the buffers must stay uniquely owned or the first append
        // would copy them.
        arena = []
        members = []
        swap(&arena, &storage.arena)
        swap(&members, &storage.members)
        if arena.capacity < capacity { arena.reserveCapacity(capacity) }
        if members.capacity < 16 { members.reserveCapacity(16) }
    }

    /// Moves the buffers out (leaving these fields empty) and returns them, emptied, for reuse.
    /// Buffers still shared with a copy of the event are not reused: emptying them would copy.
    public mutating func recycle() -> Storage? {
        var a: [UInt8] = []
        var m: [Member] = []
        swap(&a, &arena)
        swap(&m, &members)
        let capacity = a.capacity
        a.removeAll(keepingCapacity: true)
        m.removeAll(keepingCapacity: true)
        // `removeAll` on a shared buffer allocates a fresh, smaller one: not worth pooling.
        guard a.capacity == capacity, capacity > 0 else { return nil }
        return Storage(arena: a, members: m)
    }
}
