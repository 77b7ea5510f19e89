#if canImport(Glibc)
import Glibc
#endif

/// The batches of one assigned partition still in flight. The partition's committable offset
/// moves past a batch only once that batch and every earlier one have been accepted by every
/// output, however out of order the acknowledgements arrive: it is the last offset of the
/// longest settled prefix, plus one (Kafka commits the next offset to read).
final class PartitionLedger: @unchecked Sendable {
    let topic: String
    let partition: Int32

    private struct Pending {
        let last: Int64
        var done: Bool
    }

    // Guarded by `mutex`.
    private var mutex = pthread_mutex_t()
    private var pending: [Pending] = []
    private var firstTicket: UInt64 = 0
    private var settled: Int64 = -1
    private var committed: Int64 = -1
    /// The partition was revoked: late acknowledgements no longer count.
    private var revoked = false

    init(topic: String, partition: Int32) {
        self.topic = topic
        self.partition = partition
        pthread_mutex_init(&mutex, nil)
    }

    /// A batch holding this partition's records up to offset `last` is about to be sent.
    func sent(upTo last: Int64) -> UInt64 {
        locked {
            pending.append(Pending(last: last, done: false))
            return firstTicket + UInt64(pending.count - 1)
        }
    }

    /// Every output accepted the batch with this ticket.
    func complete(_ ticket: UInt64) {
        locked {
            guard !revoked, ticket >= firstTicket else { return }
            pending[Int(ticket - firstTicket)].done = true
            while let first = pending.first, first.done {
                settled = first.last + 1
                pending.removeFirst()
                firstTicket += 1
            }
        }
    }

    /// The offset to commit when it is past the last commit, and marks it committed.
    func takeCommittable() -> Int64? {
        locked {
            guard settled > committed else { return nil }
            committed = settled
            return settled
        }
    }

    /// A commit failed: offer the offset again next time.
    func commitFailed(_ offset: Int64) {
        locked { if committed == offset { committed = -1 } }
    }

    /// The partition went to another member.
    func revoke() { locked { revoked = true } }

    var inFlight: Int { locked { pending.count } }

    private func locked<T>(_ body: () -> T) -> T {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return body()
    }
}
