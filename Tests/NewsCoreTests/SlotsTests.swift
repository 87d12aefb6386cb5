import NewsCore
import Synchronization
import Testing

struct SlotsTests {
    /// How many hold a slot now, and the most that ever did at once.
    final class Holders: Sendable {
        let count = Mutex((now: 0, most: 0))
    }

    @Test func noMoreHoldersThanSlotsAndEveryoneGetsATurn() async {
        let slots = Slots(3)
        let holders = Holders()
        let done = await withTaskGroup(of: Int.self) { group in
            for index in 0..<40 {
                group.addTask {
                    await slots.run {
                        holders.count.withLock {
                            $0.now += 1; $0.most = max($0.most, $0.now)
                        }
                        // The first holders keep their slots until three hold one together (for at most 10 s).
                        let deadline = ContinuousClock.now + .seconds(10)
                        while holders.count.withLock({ $0.most }) < 3, ContinuousClock.now < deadline { await Task.yield() }
                        holders.count.withLock { $0.now -= 1 }
                        return index
                    }
                }
            }
            return await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(done.sorted() == Array(0..<40))
        #expect(holders.count.withLock { $0.most } == 3)
        #expect(holders.count.withLock { $0.now } == 0)
    }

    @Test func aSlotIsFreedWhenItsWorkThrows() async throws {
        struct Failure: Error {}
        let slots = Slots(1)
        await #expect(throws: Failure.self) { try await slots.run { throw Failure() } }
        // With the one slot not given back, this would wait for ever.
        #expect(await slots.run { 7 } == 7)
    }
}
