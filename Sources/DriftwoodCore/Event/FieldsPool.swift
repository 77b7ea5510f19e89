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
        let n = min(count, stash.count)
        into.append(contentsOf: stash[(stash.count - n)...])
        stash.removeLast(n)
        pthread_mutex_unlock(&mutex)
    }

    /// Takes the storages in `from` (leaving it empty), keeping as many as the limit allows.
    public func give(_ from: inout [Fields.Storage]) {
        pthread_mutex_lock(&mutex)
        let room = max(0, limit - stash.count)
        if room >= from.count {
            stash.append(contentsOf: from)
        } else if room > 0 {
            stash.append(contentsOf: from[..<room])
        }
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
    public init(storage: Storage, capacity: Int) {
        arena = storage.arena
        members = storage.members
        if arena.capacity < capacity { arena.reserveCapacity(capacity) }
        if members.capacity < 16 { members.reserveCapacity(16) }
    }

    /// Empties these fields and returns their buffers for reuse.
    public consuming func recycle() -> Storage {
        arena.removeAll(keepingCapacity: true)
        members.removeAll(keepingCapacity: true)
        return Storage(arena: arena, members: members)
    }
}
