import Foundation
import GRDB
import GRDBSQLite
import Synchronization

/// Copies the WAL into the database on a connection and a thread of its own, so that the writer never stops for long.
///
/// SQLite's automatic checkpoint runs inside the commit that crosses the threshold: every 64 MiB of WAL, one commit
/// copied 64 MiB and synced the database file while every ingest waiting on the writer stood still (a third of the
/// writer's time when storing pages as fast as they come). Here the commit that crosses the threshold wakes a thread
/// which checkpoints beside the writer. That alone would never let the WAL start over while the writer keeps writing:
/// SQLite rewinds the WAL only once every frame is in the database, and the writer adds frames while the thread copies.
/// So once the thread is done, the next commit copies what was added meanwhile itself if that is little (the thread
/// goes once more otherwise), and the transaction after it starts the WAL over: a stop of 30–50 ms here, most of it the
/// database file's sync, where the whole checkpoint took 100–150 ms. Should the WAL still reach
/// four times the threshold, commits checkpoint inline as SQLite would, so the WAL stays bounded.
final class Checkpointer: Sendable {
    /// WAL frames (pages) after which a checkpoint starts.
    private let threshold: Int32
    private let path: String
    private let configuration: Configuration
    private let state = Mutex(State())
    private let wake = DispatchSemaphore(value: 0)
    private let exited = DispatchSemaphore(value: 0)
    private let observe: @Sendable (Event) -> Void

    /// A commit with the frames then in the WAL, or a checkpoint with the frames it left copied, as tests follow them.
    enum Event: Equatable, Sendable {
        case committed(frames: Int32)
        case copiedBeside(frames: Int32)
        case copiedInline(frames: Int32)
    }

    private struct State {
        var phase = Phase.idle
        var started = false
        var stopped = false
    }

    private enum Phase {
        case idle
        case copying
        /// The thread has copied the WAL up to this frame.
        case copied(Int32)
    }

    /// How long a commit at the bound waits for readers of older snapshots: a search takes milliseconds; a long export
    /// is not waited for (the commit after tries again).
    static let readerWaitMilliseconds: Int32 = 100
    /// How long a commit at the bound goes on trying to copy the WAL while the thread or readers keep it busy: long
    /// enough for the thread's copy and a search, short of stalling ingest behind a long export (the commit after
    /// tries again).
    static let boundWaitMilliseconds = 1000
    /// The writer's own busy timeout, given back after a commit at the bound.
    private var busyMilliseconds: Int32 {
        if case .timeout(let seconds) = configuration.busyMode { Int32(seconds * 1000) } else { 0 }
    }

    init(path: String, configuration: Configuration, threshold: Int32, observe: @escaping @Sendable (Event) -> Void) {
        self.path = path
        self.configuration = configuration
        self.threshold = threshold
        self.observe = observe
    }

    /// Makes the writer's commits report to this checkpointer instead of checkpointing themselves.
    func attach(to writer: Database) {
        sqlite3_wal_hook(writer.sqliteConnection, walHook, Unmanaged.passUnretained(self).toOpaque())
    }

    private enum Action {
        case none, inline, wake(startThread: Bool)
    }

    /// Called by the writer after each commit with the frames now in the WAL.
    fileprivate func committed(frames: Int32, writer: OpaquePointer?, schema: UnsafePointer<CChar>?) {
        observe(.committed(frames: frames))
        let action = state.withLock { state -> Action in
            if frames >= threshold * 4 { return .inline }
            if state.stopped { return .none }
            switch state.phase {
            case .copying: return .none
            case .copied(let copied) where frames < copied:
                // The WAL started over: the thread had copied all of it before the writer's next transaction began.
                state.phase = .idle
                return .none
            case .copied(let copied) where frames - copied <= threshold / 16:
                state.phase = .idle
                return .inline
            case .idle where frames < threshold: return .none
            case .idle, .copied:
                state.phase = .copying
                defer { state.started = true }
                return .wake(startThread: !state.started)
            }
        }
        switch action {
        case .none: break
        case .inline:
            // Below the bound, a passive copy that fails harmlessly (busy) if the thread is copying right now; a later
            // commit tries again. At the bound, the commit copies everything and waits for readers of older snapshots to
            // finish, so that the next transaction starts the WAL over: with readers coming and going all the time, a
            // passive copy alone let it grow on. SQLite answers busy at once while the thread holds the checkpoint lock,
            // so the commit tries again until the thread is done, for at most ``boundWaitMilliseconds``: giving up at
            // once let one more transaction grow the WAL past its bound.
            guard frames >= threshold * 4 else {
                var copied: Int32 = 0
                if sqlite3_wal_checkpoint_v2(writer, schema, SQLITE_CHECKPOINT_PASSIVE, nil, &copied) == SQLITE_OK {
                    observe(.copiedInline(frames: copied))
                }
                return
            }
            sqlite3_busy_timeout(writer, Self.readerWaitMilliseconds)
            defer { sqlite3_busy_timeout(writer, busyMilliseconds) }
            let deadline = ContinuousClock.now + .milliseconds(Self.boundWaitMilliseconds)
            var copied: Int32 = 0
            while true {
                let result = sqlite3_wal_checkpoint_v2(writer, schema, SQLITE_CHECKPOINT_RESTART, nil, &copied)
                if result == SQLITE_OK {
                    observe(.copiedInline(frames: copied))
                    break
                }
                guard result == SQLITE_BUSY, ContinuousClock.now < deadline else { break }
                usleep(1000)
            }
        case .wake(let startThread):
            if startThread { Thread { self.run() }.start() }
            wake.signal()
        }
    }

    /// Ends the thread, once the copy in progress is done; commits after this checkpoint inline once the WAL
    /// reaches four times the threshold.
    func stop() {
        let running = state.withLock { state in
            defer { state.stopped = true }
            return state.started && !state.stopped
        }
        guard running else { return }
        wake.signal()
        exited.wait()
    }

    private func run() {
        var connection = try? DatabaseQueue(path: path, configuration: configuration)
        while true {
            wake.wait()
            guard !state.withLock({ $0.stopped }) else { break }
            // Busy when a commit checkpoints inline at the same moment: the thread goes again on the next request.
            let copied = (try? connection?.writeWithoutTransaction { db in try db.checkpoint(.passive) })
                .map { Int32($0.checkpointedFrameCount) }
            state.withLock { state in state.phase = copied.map { .copied($0) } ?? .idle }
            if let copied { observe(.copiedBeside(frames: copied)) }
        }
        try? connection?.close()
        connection = nil
        exited.signal()
    }
}

/// sqlite3_wal_hook's callback: hands the commit to the ``Checkpointer`` registered with it.
private func walHook(
    context: UnsafeMutableRawPointer?, writer: OpaquePointer?, schema: UnsafePointer<CChar>?, frames: Int32
) -> Int32 {
    guard let context else { return SQLITE_OK }
    Unmanaged<Checkpointer>.fromOpaque(context).takeUnretainedValue().committed(
        frames: frames, writer: writer, schema: schema)
    return SQLITE_OK
}
