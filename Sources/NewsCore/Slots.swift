import Synchronization

/// At most a fixed number of holders at once; the others wait their turn, first come, first served.
public final class Slots: Sendable {
    private struct State {
        var free: Int
        var waiting: [CheckedContinuation<Void, Never>] = []
    }

    private let state: Mutex<State>

    /// Slots for `count` holders at once (at least one).
    public init(_ count: Int) { state = Mutex(State(free: max(1, count))) }

    /// Runs `work` once a slot is free, and frees it after.
    public func run<T>(_ work: () async throws -> T) async rethrows -> T {
        await withCheckedContinuation { continuation in
            let free = state.withLock { state in
                guard state.free > 0 else {
                    state.waiting.append(continuation)
                    return false
                }
                state.free -= 1
                return true
            }
            if free { continuation.resume() }
        }
        defer {
            // The slot goes straight to the first in line, if any.
            let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
                guard !state.waiting.isEmpty else {
                    state.free += 1
                    return nil
                }
                return state.waiting.removeFirst()
            }
            next?.resume()
        }
        return try await work()
    }
}
