#if canImport(Glibc)
import Glibc
#endif
import DriftwoodCore

/// Restores batch order after parallel filter workers: batches leave in `sequence` order, each
/// handed to `deliver` exactly once. A worker that runs too far ahead waits, so at most `window`
/// finished batches are held.
final class Sequencer: @unchecked Sendable {
    // Guarded by `mutex`.
    private var mutex = pthread_mutex_t()
    private var changed = pthread_cond_t()
    private var next: UInt64 = 0
    private var ready: [UInt64: Pipeline.RoutedBatch] = [:]
    private let window: Int

    init(window: Int) {
        self.window = max(1, window)
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&changed, nil)
    }

    deinit {
        pthread_mutex_destroy(&mutex)
        pthread_cond_destroy(&changed)
    }

    /// Adds a finished batch and delivers every batch that is now next in order. Delivery runs
    /// under the lock, so batches reach the outputs one at a time and in order.
    func submit(_ batch: Pipeline.RoutedBatch, deliver: (Pipeline.RoutedBatch) -> Void) {
        pthread_mutex_lock(&mutex)
        while batch.sequence != next && ready.count >= window {
            pthread_cond_wait(&changed, &mutex)
        }
        ready[batch.sequence] = batch
        while let b = ready.removeValue(forKey: next) {  // moved out of the dictionary
            next += 1
            deliver(b)
        }
        pthread_cond_broadcast(&changed)
        pthread_mutex_unlock(&mutex)
    }
}
