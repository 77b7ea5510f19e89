#if canImport(Glibc)
import Glibc
#endif

/// Lets batches through one at a time in `sequence` order (0, 1, 2, …): the stateful filters of
/// a chain whose stateless filters run on several workers see every batch once, in input order,
/// on whichever worker has it.
final class Turnstile: @unchecked Sendable {
    // Guarded by `mutex`.
    private var mutex = pthread_mutex_t()
    private var changed = pthread_cond_t()
    private var next: UInt64 = 0
    /// A body is running (a batch's, or `whenFree`'s).
    private var running = false

    /// - Parameter first: the sequence number of the first batch to let through.
    init(first: UInt64 = 0) {
        next = first
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&changed, nil)
    }

    deinit {
        pthread_mutex_destroy(&mutex)
        pthread_cond_destroy(&changed)
    }

    /// Waits for the turn of batch `sequence`, runs `body`, and hands the turn on. The lock is
    /// not held while `body` runs; the turn is, so bodies never overlap and run in order.
    func pass(_ sequence: UInt64, _ body: () -> Void) {
        pthread_mutex_lock(&mutex)
        while next != sequence || running { pthread_cond_wait(&changed, &mutex) }
        running = true
        pthread_mutex_unlock(&mutex)
        body()
        pthread_mutex_lock(&mutex)
        running = false
        next += 1
        pthread_cond_broadcast(&changed)
        pthread_mutex_unlock(&mutex)
    }

    /// Runs `body` between two batches' turns (no batch body runs meanwhile), without taking a
    /// turn: an idle worker saving the stateful filters' state.
    func whenFree(_ body: () -> Void) {
        pthread_mutex_lock(&mutex)
        while running { pthread_cond_wait(&changed, &mutex) }
        running = true
        pthread_mutex_unlock(&mutex)
        body()
        pthread_mutex_lock(&mutex)
        running = false
        pthread_cond_broadcast(&changed)
        pthread_mutex_unlock(&mutex)
    }
}
