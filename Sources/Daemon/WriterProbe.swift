import Archive
import Foundation
import Synchronization

/// Checks, on a thread of its own, that the archive's writer still takes and gives back the write lock: the watchdog's
/// pings go out only while it does, so that a stalled writer (or a transaction that never ends) has systemd restart
/// newsd instead of it looking alive while nothing can be stored.
final class WriterProbe: Sendable {
    private let archive: Archive
    private let wake = DispatchSemaphore(value: 0)
    private let state = Mutex((lastAnswer: ContinuousClock.Instant?.none, asked: false, stopped: false))

    init(archive: Archive) {
        self.archive = archive
        Thread { [self] in run() }.start()
    }

    /// Asks for a check, unless one is under way (a stalled one stays under way).
    func ask() {
        let start = state.withLock { state -> Bool in
            defer { state.asked = true }
            return !state.asked
        }
        if start { wake.signal() }
    }

    /// Whether a check finished after `instant`.
    func answered(since instant: ContinuousClock.Instant) -> Bool {
        state.withLock { $0.lastAnswer.map { $0 >= instant } ?? false }
    }

    /// Ends the thread after the check under way, if any.
    func stop() {
        state.withLock { $0.stopped = true }
        wake.signal()
    }

    private func run() {
        while true {
            wake.wait()
            if state.withLock({ $0.stopped }) { return }
            let answered = (try? archive.takeWriteLock()) != nil
            state.withLock { state in
                if answered { state.lastAnswer = .now }
                state.asked = false
            }
        }
    }
}
