import DriftwoodCore
import Testing

@testable import DriftwoodStages

@Suite struct HostPoolTests {
    let backoff = Backoff(initial: .milliseconds(100), maximum: .seconds(30))
    let second: UInt64 = 1_000_000_000

    @Test func roundRobin() {
        var pool = HostPool(count: 3, backoff: backoff)
        #expect((0..<6).map { _ in pool.pick(now: 0) } == [0, 1, 2, 0, 1, 2])
    }

    @Test func aFailingHostSitsOutWithGrowingBackoffWhileOthersCarryTheLoad() {
        var pool = HostPool(count: 2, backoff: backoff)
        #expect(pool.failed(0, now: 0) == .milliseconds(100))
        #expect((0..<4).map { _ in pool.pick(now: 50_000_000) } == [1, 1, 1, 1])
        #expect(pool.pick(now: second) == 0 || pool.pick(now: second) == 0)
        #expect(pool.failed(0, now: second) == .milliseconds(200))
        #expect(pool.isOut(0, now: second + 150_000_000))
        pool.succeeded(0)
        #expect(!pool.isOut(0, now: second))
        #expect(pool.failed(0, now: second) == .milliseconds(100))  // the count starts over
    }

    @Test func whenAllSitOutTheOneBackSoonestIsUsed() {
        var pool = HostPool(count: 2, backoff: backoff)
        pool.failed(0, now: 0)
        pool.failed(0, now: 0)  // 200 ms
        pool.failed(1, now: 0)  // 100 ms
        #expect(pool.pick(now: 10) == 1)
    }

    @Test func aSingleHostNeverSitsOut() {
        var pool = HostPool(count: 1, backoff: backoff)
        #expect(pool.failed(0, now: 0) == nil)
        #expect(pool.pick(now: 0) == 0)
    }
}
