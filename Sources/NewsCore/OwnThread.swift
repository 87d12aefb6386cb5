import Foundation

/// Runs `body` on a thread of its own and returns what it returns: long synchronous work (SQLite over the whole
/// archive, filling an archive in a test) must not hold one of the few threads Swift concurrency runs on, where the
/// servers answer.
public func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}
