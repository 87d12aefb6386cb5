import Synchronization
import Testing

@testable import Sync

/// What two answers of a pull both need at once (a dictionary) is fetched once.
@Suite(.timeLimit(.minutes(1))) struct OnceTests {
    @Test func workTwoTasksNeedAtOnceIsDoneOnce() async throws {
        struct Failure: Error {}
        let once = Once<String>()
        final class Runs: Sendable { let count = Mutex(0) }
        let runs = Runs()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<16 {
                group.addTask {
                    try await once.once("dictionary") {
                        runs.count.withLock { $0 += 1 }
                        await Task.yield()
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(runs.count.withLock { $0 } == 1)
        // Work that failed is tried again by the next task that needs it.
        await #expect(throws: Failure.self) { try await once.once("other") { throw Failure() } }
        try await once.once("other") { runs.count.withLock { $0 += 1 } }
        #expect(runs.count.withLock { $0 } == 2)
    }
}
