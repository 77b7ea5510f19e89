import DriftwoodCore

/// Which host the next request goes to: round-robin, skipping hosts that sit out. A host that
/// failed (no connection, 5xx) sits out for a backoff that doubles with each failure in a row,
/// while the others carry the load; one success brings it back. With a single host nobody sits
/// out: the request's own backoff paces the retries. Pure: the caller passes the time.
struct HostPool: Sendable {
    let count: Int
    let backoff: Backoff
    private var next = 0
    private var failures: [Int]
    /// Monotonic nanoseconds until which each host sits out (0: available).
    private var outUntil: [UInt64]

    init(count: Int, backoff: Backoff) {
        self.count = max(count, 1)
        self.backoff = backoff
        failures = Array(repeating: 0, count: self.count)
        outUntil = Array(repeating: 0, count: self.count)
    }

    /// The next available host in turn; when every host sits out, the one back soonest.
    mutating func pick(now: UInt64) -> Int {
        for _ in 0..<count {
            let k = next
            next = (next + 1) % count
            if outUntil[k] <= now { return k }
        }
        return outUntil.indices.min { outUntil[$0] < outUntil[$1] }!
    }

    /// Host `k` answered: it is available again.
    mutating func succeeded(_ k: Int) {
        failures[k] = 0
        outUntil[k] = 0
    }

    /// Host `k` failed; returns how long it now sits out (nil with a single host).
    @discardableResult
    mutating func failed(_ k: Int, now: UInt64) -> Duration? {
        guard count > 1 else { return nil }
        failures[k] += 1
        let pause = backoff.ceiling(attempt: failures[k])
        outUntil[k] = now + UInt64(pause.seconds * 1e9)
        return pause
    }

    /// True when host `k` sits out at `now`.
    func isOut(_ k: Int, now: UInt64) -> Bool { outUntil[k] > now }
}
