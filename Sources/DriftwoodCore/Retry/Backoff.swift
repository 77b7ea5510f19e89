/// Exponential backoff with full jitter: the n-th retry waits a random time between zero and
/// `min(maximum, initial × 2^(n-1))`. Full jitter spreads the retries of many senders that failed
/// together, so a recovering server is not hit by all of them at once (Fluent Bit's scheduler,
/// the AWS "Exponential Backoff And Jitter" analysis).
public struct Backoff: Sendable, Equatable {
    /// The ceiling of the first retry's wait.
    public var initial: Duration
    /// The longest wait; also what persistent failures (401/403) wait every time.
    public var maximum: Duration

    public init(initial: Duration, maximum: Duration) {
        self.initial = initial
        self.maximum = max(initial, maximum)
    }

    /// The longest wait before retry number `attempt` (1-based): `min(maximum, initial × 2^(attempt-1))`.
    public func ceiling(attempt: Int) -> Duration {
        let doublings = min(max(attempt - 1, 0), 62)
        let ceiling = initial.seconds * Double(UInt64(1) << UInt64(doublings))
        return ceiling >= maximum.seconds ? maximum : .nanoseconds(Int64(ceiling * 1e9))
    }

    /// The wait before retry number `attempt`, where `unit` is a uniform random number in [0, 1).
    public func delay(attempt: Int, unit: Double) -> Duration {
        let u = min(max(unit, 0), 1)
        return .nanoseconds(Int64(ceiling(attempt: attempt).seconds * u * 1e9))
    }

    /// The wait before retry number `attempt`, drawn from `generator`.
    public func delay(attempt: Int, using generator: inout some RandomNumberGenerator) -> Duration {
        delay(attempt: attempt, unit: Double.random(in: 0..<1, using: &generator))
    }

    /// The wait before retry number `attempt`, drawn from the system's generator.
    public func delay(attempt: Int) -> Duration {
        var generator = SystemRandomNumberGenerator()
        return delay(attempt: attempt, using: &generator)
    }
}
