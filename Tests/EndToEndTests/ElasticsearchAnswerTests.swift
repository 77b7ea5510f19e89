import Foundation
import Testing

/// Answers that lie, through the real binary: a 200 that leaves items out, and answers far
/// larger than any bulk answer needs to be.
@Suite(.serialized) struct ElasticsearchAnswerTests {
    typealias ES = ElasticsearchOutputTests

    @Test func aSuccessWithFewerItemsThanSentIsRetriedSoNothingIsLost() throws {
        let osmem = try Osmem.start()
        defer { osmem.stop() }
        let proxy = try FaultProxy.start(upstream: osmem)
        defer { proxy.stop() }
        // Each of the first three bulk requests reaches the server with only its first half, and
        // the answer says `errors: false` with items for that half only.
        try proxy.inject([["kind": "short_items", "times": 3]])
        let dir = try Driftwood.temporaryDirectory()
        let p = try Driftwood.write(
            ES.pipeline(hosts: [proxy.url], "index: short\nbatch: {max_events: 50}\nconcurrency: 1\n\(ES.fast)"),
            to: "p.yml", in: dir)
        let result = try Driftwood.run(["run", p], stdin: ES.lines(300), directory: dir, timeout: 120)
        #expect(result.code == 0, "\(result.stderr)")
        #expect(try ES.numbers(osmem, "short") == Array(0..<300))
        #expect(result.stderr.contains("the bulk response has 25 items for 50 sent"))
        let statuses = try proxy.bulkRequests().map { "\($0["status"] ?? "")" }
        #expect(statuses.count > 6)
    }

    @Test func aHugeAnswerIsCutOffAndItsMemoryGivenBack() throws {
        let osmem = try Osmem.start()
        defer { osmem.stop() }
        let proxy = try FaultProxy.start(upstream: osmem)
        defer { proxy.stop() }
        // Two answers of 150 MB each (a bulk answer is a few bytes an item): before, both were
        // read whole and the buffer kept, 300+ MB resident.
        try proxy.inject([["kind": "huge_answer", "bytes": 150_000_000, "times": 2]])
        let dir = try Driftwood.temporaryDirectory()
        let p = try Driftwood.write(
            ES.pipeline(hosts: [proxy.url], "index: huge\nbatch: {max_events: 100}\n\(ES.fast)"), to: "p.yml", in: dir)
        let running = try Driftwood.Running(["run", p], directory: dir)
        _ = running.feed(ES.lines(400))
        var peak = 0
        let deadline = Date().addingTimeInterval(120)
        while running.process.isRunning && Date() < deadline {
            peak = max(peak, running.peakRSS)
            Thread.sleep(forTimeInterval: 0.05)
        }
        let code = running.wait(timeout: 5)
        #expect(code == 0, "\(running.stderr)")
        #expect(try ES.numbers(osmem, "huge") == Array(0..<400))
        #expect(running.stderr.contains("the answer was longer than"))
        #expect(peak > 0 && peak < 120 << 20, "peak resident memory \(peak >> 20) MiB")
    }
}
