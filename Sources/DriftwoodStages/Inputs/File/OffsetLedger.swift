#if canImport(Glibc)
import Glibc
#endif
import Metrics
import Synchronization

/// The batches of one file still in flight. A file's checkpoint moves past a batch only once
/// that batch and every earlier one have been acknowledged by every output (docs/delivery.md), however
/// out of order the acknowledgements arrive.
final class OffsetLedger: @unchecked Sendable {
    let store: CheckpointStore
    let input: String
    let key: FileKey
    /// `driftwood_file_offset_bytes{path}`; its series goes once the file is released for good.
    let offsetGauge: Gauge
    let gaugePath: String

    private struct Pending {
        let end: UInt64
        let generation: Int
        var done: Bool
    }

    // Guarded by `mutex`.
    private var mutex = pthread_mutex_t()
    private var pending: [Pending] = []
    /// Ticket of `pending[0]`.
    private var firstTicket: UInt64 = 0
    /// Bumped when the file restarts at 0 (copy-truncate): older batches no longer move it.
    private var generation = 0
    private var retired = false

    init(store: CheckpointStore, input: String, key: FileKey, path: String) {
        self.store = store
        self.input = input
        self.key = key
        self.offsetGauge = Gauge(label: "driftwood_file_offset_bytes", dimensions: [("path", path)])
        gaugePath = path
        Self.gaugeUsers.withLock { $0[path, default: 0] += 1 }
        pthread_mutex_init(&mutex, nil)
    }

    /// Ledgers per gauge path: the metrics backend hands every ledger of one path the same series
    /// (a rotated file and its successor), so the series goes only with the last of them.
    static let gaugeUsers = Mutex<[String: Int]>([:])

    /// Removes the file's offset series (once), unless another ledger of the same path still uses it.
    private func dropGauge() {
        let last = Self.gaugeUsers.withLock { users -> Bool in
            let left = (users[gaugePath] ?? 1) - 1
            users[gaugePath] = left > 0 ? left : nil
            return left <= 0
        }
        if last { offsetGauge.destroy() }
    }

    /// A batch covering the file up to `end` is about to be sent; returns its ticket.
    func sent(upTo end: UInt64) -> UInt64 {
        locked {
            pending.append(Pending(end: end, generation: generation, done: false))
            return firstTicket + UInt64(pending.count - 1)
        }
    }

    /// Everything up to `end` was read but made no event (blank lines): it moves the
    /// checkpoint as soon as the batches before it are delivered.
    func skipped(upTo end: UInt64) {
        complete(sent(upTo: end))
    }

    /// Every output accepted the batch with this ticket.
    func complete(_ ticket: UInt64) {
        let (offset, forget): (UInt64?, Bool) = locked {
            pending[Int(ticket - firstTicket)].done = true
            var offset: UInt64?
            while let first = pending.first, first.done {
                if first.generation == generation { offset = first.end }
                pending.removeFirst()
                firstTicket += 1
            }
            return (offset, retired && pending.isEmpty)
        }
        if let offset {
            store.advance(input: input, key: key, to: offset)
            if !forget { offsetGauge.record(Double(offset)) }
        }
        if forget {
            store.remove(input: input, key: key)
            dropGauge()
        }
    }

    /// The file was truncated under the reader: it is read again from 0, and batches of its
    /// old content no longer move its checkpoint.
    func restart() {
        locked { generation += 1 }
        store.advance(input: input, key: key, to: 0)
        offsetGauge.record(0)
    }

    /// The file is gone and released: forget its checkpoint once its last batch is delivered.
    func retire() {
        let forget = locked {
            guard !retired else { return false }
            retired = true
            return pending.isEmpty
        }
        if forget {
            store.remove(input: input, key: key)
            dropGauge()
        }
    }

    /// Batches not yet acknowledged.
    var inFlight: Int { locked { pending.count } }

    private func locked<T>(_ body: () -> T) -> T {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return body()
    }
}
