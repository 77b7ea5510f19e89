import DriftwoodCore

/// The filters of a pipeline, applied in file order to a batch (the engine's filter workers, and
/// `driftwood test`). Not thread-safe: one thread runs it.
///
/// A few events at a time (`chunkSize`): a chunk goes through every filter of the range before
/// the next chunk starts, so its bytes are read from memory once and stay in the core's cache
/// while the filters look at them (filter after filter over a whole batch of a thousand events,
/// each filter met them cold again). Every filter still sees events in batch order.
///
/// On a worker of several (`preparedFrom`: where the filters that run one batch at a time
/// begin), the stateful filters that can (`PreparingFilter`) read their part of each event as it
/// leaves the stateless filters, still in the cache; their turn then uses what was read.
public final class FilterChain: @unchecked Sendable {
    let stages: [Pipeline.FilterStage]
    let metrics: [StageMetrics]
    /// Events this chain's filters removed, for the end-of-run summary.
    public let droppedTotal = EventCount()
    /// The batch's events while the filters work on them, and the chunk of events between two
    /// filters: raw memory, so an event moves in and out without anything left in its place (a
    /// slot of an array must always hold an event: moving one out meant writing `Event.empty`
    /// there and destroying that later, four reference counts per event and filter).
    var input = EventSlots()
    var chunk = EventSlots()
    /// What the filter in hand made of the chunk; every filter appends to an array.
    var next: [Event] = []
    /// Each event's index in the batch while it is known (`runStage`). Reused from batch to batch.
    var origins: [Int] = []
    var nextOrigins: [Int] = []
    /// Events into and out of each filter during one `run`, reported once per batch.
    let counts: UnsafeMutablePointer<(in: Int, out: Int)>

    /// Where the stages that run in turn begin (nil: this chain runs every stage at once).
    let split: Int?
    /// The filters prepared ahead: their stage, their filter and this worker's preparer.
    let ahead: [(stage: Int, filter: any PreparingFilter, preparer: any EventPreparer)]
    /// Per stage: its index in `ahead`, or -1.
    let aheadIndex: UnsafeMutablePointer<Int>
    /// Per prepared filter: what its preparer read from each event of the batch in hand, in order.
    var prepared: [[Preparation]]

    public init(_ stages: [Pipeline.FilterStage], preparedFrom split: Int? = nil) {
        self.stages = stages
        self.metrics = stages.map { StageMetrics(stage: $0.id, filter: true) }
        self.split = split
        var ahead: [(stage: Int, filter: any PreparingFilter, preparer: any EventPreparer)] = []
        if let split {
            for j in split..<stages.count {
                guard let filter = stages[j].filter as? any PreparingFilter, let preparer = filter.makePreparer() else {
                    continue
                }
                // What the filters before it in the turn may change must not be what it reads.
                let earlier = stages[split..<j].map(\.filter.writesMembers)
                guard earlier.allSatisfy({ $0 != nil }) else { continue }
                let written = Set(earlier.flatMap { $0! })
                if let reads = filter.readsMembers {
                    guard written.isDisjoint(with: reads) else { continue }
                } else {
                    guard written.isEmpty else { continue }
                }
                ahead.append((j, filter, preparer))
            }
        }
        self.ahead = ahead
        aheadIndex = .allocate(capacity: max(1, stages.count))
        aheadIndex.initialize(repeating: -1, count: max(1, stages.count))
        for (a, entry) in ahead.enumerated() { aheadIndex[entry.stage] = a }
        prepared = ahead.map { _ in [] }
        counts = .allocate(capacity: max(1, stages.count))
        counts.initialize(repeating: (0, 0), count: max(1, stages.count))
    }

    deinit {
        aheadIndex.deallocate()
        counts.deallocate()
        input.free()
        chunk.free()
    }

    /// Events that go through the filters together: few enough that their bytes stay in the
    /// core's cache from one filter to the next (~1 KiB each here).
    static let chunkSize = 32

    /// Applies every filter to `batch` (or the filters in `range`); events whose `when` does not
    /// match pass a filter unchanged.
    public func run(_ batch: inout [Event], stages range: Range<Int>? = nil) {
        let range = range ?? stages.indices
        guard !range.isEmpty else { return }
        for k in range { counts[k] = (0, 0) }
        // Leaving the stateless stages: read ahead for the stateful ones. Entering the stateful
        // stages: use what was read (it matches the batch event for event).
        let preparing = !ahead.isEmpty && range.upperBound == split
        let usesPrepared = !ahead.isEmpty && range.lowerBound == split && prepared[0].count == batch.count
        if preparing || !usesPrepared {
            for a in prepared.indices { prepared[a].removeAll(keepingCapacity: true) }
        }
        // The batch's events go to `input` and come back through the last filter, in order.
        let total = batch.count
        input.take(&batch)
        var start = 0
        while start < total {
            let end = min(start + Self.chunkSize, total)
            if usesPrepared {
                origins.append(contentsOf: start..<end)
                // The state this chunk's and the next one's events will touch starts loading now.
                if start == 0 { announce(0..<end, after: 0) }
                announce(end..<min(end + Self.chunkSize, total), after: end - start)
            }
            var source = input.base + start
            var count = end - start
            for k in range {
                if k == range.upperBound - 1 {
                    let before = batch.count
                    runStage(k, source, count, into: &batch, tracksOrigins: usesPrepared)
                    if preparing { prepareChunk(&batch, from: before) }
                } else {
                    runStage(k, source, count, into: &next, tracksOrigins: usesPrepared)
                    chunk.count = 0
                    chunk.take(&next)
                    source = chunk.base
                    count = chunk.count
                }
            }
            chunk.count = 0
            origins.removeAll(keepingCapacity: true)
            start = end
        }
        input.count = 0
        if usesPrepared {
            for a in prepared.indices { prepared[a].removeAll(keepingCapacity: true) }
        }
        for k in range {
            let m = metrics[k]
            let (eventsIn, eventsOut) = counts[k]
            m.eventsIn(eventsIn)
            m.eventsOut(eventsOut)
            // Net of events a filter added (alerts), so a batch that lost some counts them.
            if eventsIn > eventsOut {
                m.dropped(eventsIn - eventsOut, reason: "filtered")
                droppedTotal.add(eventsIn - eventsOut)
            }
        }
    }

    /// Tells each filter prepared ahead which readings come next (`PreparingFilter.willApply`).
    private func announce(_ range: Range<Int>, after: Int) {
        guard !range.isEmpty else { return }
        for a in ahead.indices {
            prepared[a].withUnsafeBufferPointer { ahead[a].filter.willApply(UnsafeBufferPointer(rebasing: $0[range]), after: after) }
        }
    }

    /// What each filter prepared ahead reads from the events of the chunk just filtered
    /// (`batch[from...]`): one call per preparer and chunk, reading the events in place (a call
    /// per event through the protocol copied each event, and retained the preparer).
    private func prepareChunk(_ batch: inout [Event], from: Int) {
        batch.withUnsafeMutableBufferPointer { events in
            let events = UnsafeMutableBufferPointer(rebasing: events[from...])
            for a in ahead.indices { ahead[a].preparer.prepare(events, into: &prepared[a]) }
        }
    }

    /// Runs stage `k` over the `count` events at `source`, moving each out, and appends what it
    /// makes of them to `out`. With `tracksOrigins`, `origins` keeps each event's index in the
    /// batch while a filter turns it into exactly one event (-1 after that: which of several is
    /// the one that came in is not known), so prepared filters find their reading.
    private func runStage(
        _ k: Int, _ source: UnsafeMutablePointer<Event>, _ count: Int, into out: inout [Event], tracksOrigins: Bool
    ) {
        let filter = stages[k].filter
        let when = stages[k].when
        let a = aheadIndex[k]
        let before = out.count
        counts[k].in += count
        // The readings and origins are read through pointers taken once: an array in a property
        // read inside the loop would be retained and released around every call of a filter.
        var origins: [Int] = []
        swap(&origins, &self.origins)
        origins.withUnsafeBufferPointer { origins in
            if a >= 0 && tracksOrigins {
                let preparedFilter = ahead[a].filter
                prepared[a].withUnsafeBufferPointer { readings in
                    applyStage(filter, when, preparedFilter, readings, origins, source, count, &out, tracksOrigins)
                }
            } else {
                applyStage(
                    filter, when, nil, UnsafeBufferPointer(start: nil, count: 0), origins, source, count, &out,
                    tracksOrigins)
            }
        }
        counts[k].out += out.count - before
        if tracksOrigins {
            origins.removeAll(keepingCapacity: true)
            self.origins = nextOrigins
            nextOrigins = origins
        } else {
            self.origins = origins
        }
    }

    /// `runStage`'s loop: each event through the filter (or past it, when its `when` does not
    /// match).
    @inline(__always)
    private func applyStage(
        _ filter: any Filter, _ when: Condition?, _ preparedFilter: (any PreparingFilter)?,
        _ readings: UnsafeBufferPointer<Preparation>, _ origins: UnsafeBufferPointer<Int>,
        _ source: UnsafeMutablePointer<Event>, _ count: Int, _ out: inout [Event], _ tracksOrigins: Bool
    ) {
        for i in 0..<count {
            let event = (source + i).move()
            let before = out.count
            if let when, !when.matches(event.fields) {
                out.append(event)
            } else if let preparedFilter, origins[i] >= 0 {
                preparedFilter.apply(event, prepared: readings[origins[i]], into: &out)
            } else {
                filter.apply(event, into: &out)
            }
            if tracksOrigins {
                let made = out.count - before
                if made == 1 {
                    nextOrigins.append(origins[i])
                } else {
                    for _ in 0..<made { nextOrigins.append(-1) }
                }
            }
        }
    }
}

/// Events in raw memory (`FilterChain`): slots `0..<count` hold events, the rest nothing.
struct EventSlots {
    private(set) var base: UnsafeMutablePointer<Event>
    private(set) var capacity: Int
    /// Set to 0 by whoever moved every event out.
    var count = 0

    init(capacity: Int = FilterChain.chunkSize) {
        base = .allocate(capacity: capacity)
        self.capacity = capacity
    }

    /// Appends every event of `array`, in order, leaving it empty with its capacity: popping
    /// from the end moves each one out without leaving anything in its place.
    mutating func take(_ array: inout [Event]) {
        let n = array.count
        if count + n > capacity {
            let grown = UnsafeMutablePointer<Event>.allocate(capacity: max(count + n, 2 * capacity))
            grown.moveInitialize(from: base, count: count)
            base.deallocate()
            base = grown
            capacity = max(count + n, 2 * capacity)
        }
        let first = count
        count += n
        var i = n
        while let event = array.popLast() {
            i -= 1
            (base + first + i).initialize(to: event)
        }
    }

    func free() {
        base.deinitialize(count: count)
        base.deallocate()
    }
}
