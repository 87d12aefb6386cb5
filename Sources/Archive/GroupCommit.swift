import Foundation
import Synchronization

/// Stores ingests with group commit: whoever stores while a transaction is being written joins the next one, so
/// many concurrent ingests cost one commit and one sync to disk, and no caller returns before its ingest is durable.
/// Writes run on a thread of their own, never on one of Swift concurrency's few threads.
public final class GroupCommit: Sendable {
    private let archive: Archive
    private let maximumBatch: Int
    private let state = Mutex(State())

    private struct State {
        var pending: [(PreparedIngest, CheckedContinuation<Int, any Error>)] = []
        var writing = false
    }

    /// Batches for `archive` of at most `maximumBatch` ingests.
    public init(archive: Archive, maximumBatch: Int = 256) {
        self.archive = archive
        self.maximumBatch = maximumBatch
    }

    /// Stores `prepared` durably; returns how many of its records were new.
    public func store(_ prepared: PreparedIngest) async throws -> Int {
        try await withCheckedThrowingContinuation { continuation in
            let startWriter = state.withLock { state in
                state.pending.append((prepared, continuation))
                guard !state.writing else { return false }
                state.writing = true
                return true
            }
            if startWriter { Thread { self.drain() }.start() }
        }
    }

    /// Writes batches until nothing is pending.
    private func drain() {
        while true {
            let batch = state.withLock { state in
                let batch = Array(state.pending.prefix(maximumBatch))
                state.pending.removeFirst(batch.count)
                if batch.isEmpty { state.writing = false }
                return batch
            }
            guard !batch.isEmpty else { return }
            do {
                let counts = try archive.storeEach(batch.map(\.0))
                for ((_, continuation), added) in zip(batch, counts) { continuation.resume(returning: added) }
            } catch {
                // One refused ingest must not take the others down with it: store them one by one.
                for (prepared, continuation) in batch {
                    do {
                        continuation.resume(returning: try archive.store([prepared]))
                    } catch {
                        continuation.resume(throwing: error)
                    }
                }
            }
        }
    }
}
