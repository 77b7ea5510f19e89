import DriftwoodCore
import Testing

@testable import DriftwoodStages

/// The state `/health` reports per output, step by step on a clock the test moves.
@Suite struct OutputHealthTests {
    let t0 = ContinuousClock.now
    let limit = Duration.seconds(60)

    func at(_ seconds: Double) -> ContinuousClock.Instant { t0 + .milliseconds(Int(seconds * 1000)) }

    @Test func idleOutputIsOkWithNothingDelivered() {
        let health = OutputHealth(output: "es", now: t0)
        // Nothing to deliver is never blocked, however long it lasts.
        let r = health.report(now: at(3600), unhealthyAfter: limit)
        #expect(
            r
                == OutputHealth.Report(
                    state: .ok, lastError: nil, lastDelivery: nil, eventsDelivered: 0, eventsPending: 0))
    }

    @Test func deliveringOutputIsOkAndCountsEvents() {
        let health = OutputHealth(output: "out", now: t0)
        let wall = Timestamp(unixMilliseconds: 1_795_514_400_000)
        health.received(100, now: at(1))
        #expect(health.report(now: at(2), unhealthyAfter: limit).eventsPending == 100)
        health.delivered(60, now: at(2), at: wall)
        health.delivered(40, now: at(3), at: wall)
        let r = health.report(now: at(4), unhealthyAfter: limit)
        #expect(r.state == .ok && r.eventsDelivered == 100 && r.eventsPending == 0)
        #expect(r.lastDelivery == wall)
    }

    @Test func failureMeansRetryingUntilTheNextDelivery() {
        let health = OutputHealth(output: "es", now: t0)
        health.received(10, now: at(0))
        health.failed("HTTP 503 http_error: unavailable (http://127.0.0.1:9200)")
        var r = health.report(now: at(1), unhealthyAfter: limit)
        #expect(r.state == .retrying)
        #expect(r.lastError == "HTTP 503 http_error: unavailable (http://127.0.0.1:9200)")
        health.failed("connection_failed: refused")
        #expect(health.report(now: at(2), unhealthyAfter: limit).lastError == "connection_failed: refused")
        health.delivered(10, now: at(3))
        r = health.report(now: at(4), unhealthyAfter: limit)
        #expect(r.state == .ok && r.lastError == nil && r.eventsDelivered == 10)
    }

    @Test func blockedOnceEventsWaitLongerThanTheLimitWithoutADelivery() {
        let health = OutputHealth(output: "es", now: t0)
        // Idle for an hour, then work arrives: blocked time counts from the arrival, not the start.
        health.received(5, now: at(3600))
        #expect(health.report(now: at(3659), unhealthyAfter: limit).state == .ok)
        health.failed("connection_failed: refused")
        #expect(health.report(now: at(3659), unhealthyAfter: limit).state == .retrying)
        let r = health.report(now: at(3661), unhealthyAfter: limit)
        #expect(r.state == .blocked && r.lastError == "connection_failed: refused" && r.eventsPending == 5)
        // More work does not restart the clock while the first is still waiting.
        health.received(5, now: at(3662))
        #expect(health.report(now: at(3662), unhealthyAfter: limit).state == .blocked)
        // Any delivery does: the output moves again.
        health.delivered(1, now: at(3663))
        #expect(health.report(now: at(3664), unhealthyAfter: limit).state == .ok)
        #expect(health.report(now: at(3724), unhealthyAfter: limit).state == .blocked)
        health.delivered(9, now: at(3725))
        #expect(health.report(now: at(9999), unhealthyAfter: limit).state == .ok)
    }

    @Test func aStuckWriteIsBlockedEvenWithoutAnError() {
        // A write that never returns (stdout into a full pipe) reports no failure, only no progress.
        let health = OutputHealth(output: "stdout", now: t0)
        health.received(1, now: at(10))
        let r = health.report(now: at(71), unhealthyAfter: limit)
        #expect(r.state == .blocked && r.lastError == nil)
    }
}
