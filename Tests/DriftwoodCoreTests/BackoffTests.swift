import Testing

@testable import DriftwoodCore

@Suite struct BackoffTests {
    let backoff = Backoff(initial: .milliseconds(100), maximum: .seconds(30))

    @Test func ceilingDoublesUpToTheMaximum() {
        #expect(backoff.ceiling(attempt: 1) == .milliseconds(100))
        #expect(backoff.ceiling(attempt: 2) == .milliseconds(200))
        #expect(backoff.ceiling(attempt: 5) == .milliseconds(1600))
        #expect(backoff.ceiling(attempt: 9) == .milliseconds(25600))
        #expect(backoff.ceiling(attempt: 10) == .seconds(30))
        #expect(backoff.ceiling(attempt: 10_000) == .seconds(30))
        #expect(backoff.ceiling(attempt: 0) == .milliseconds(100))
    }

    @Test func fullJitterSpansZeroToTheCeiling() {
        #expect(backoff.delay(attempt: 3, unit: 0) == .zero)
        #expect(backoff.delay(attempt: 3, unit: 0.5) == .milliseconds(200))
        #expect(backoff.delay(attempt: 20, unit: 0.999_999) <= .seconds(30))
        var generator = SystemRandomNumberGenerator()
        for attempt in 1...12 {
            let d = backoff.delay(attempt: attempt, using: &generator)
            #expect(d >= .zero && d <= backoff.ceiling(attempt: attempt))
        }
    }

    @Test func maximumIsNeverBelowInitial() {
        #expect(Backoff(initial: .seconds(2), maximum: .seconds(1)).maximum == .seconds(2))
    }
}
