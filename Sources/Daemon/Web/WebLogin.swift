import Foundation
import NewsCore
import Synchronization

/// The web interface's password and the sessions it opened: random tokens in an HttpOnly, SameSite=Strict cookie, kept
/// in memory for twelve hours (a restart logs everyone out). Five wrong passwords in a minute close the door for the
/// rest of that minute.
final class WebLogin: Sendable {
    /// The session cookie's name.
    static let cookie = "newsd_session"
    /// How long a session lasts.
    static let lifetime = Duration.seconds(12 * 3600)

    private let password: WebPassword
    private let sessions = Mutex<[String: ContinuousClock.Instant]>([:])
    private let failures = Mutex<[ContinuousClock.Instant]>([])

    init(password: WebPassword) { self.password = password }

    /// Paths anyone may ask for: the login form and what it is styled with.
    static func isOpen(_ path: String) -> Bool { path == "/login" || path.hasPrefix("/static/") }

    /// Whether `token` names a session that has not expired.
    func isSession(_ token: String?) -> Bool {
        guard let token else { return false }
        return sessions.withLock { sessions in
            guard let expiry = sessions[token] else { return false }
            guard expiry > .now else {
                sessions[token] = nil
                return false
            }
            return true
        }
    }

    /// A new session's token if `password` is right; `nil` if it is not, or too many were wrong in the last minute.
    /// The hash is checked on a thread of its own (it takes about a tenth of a second).
    func open(password given: String) async throws -> String? {
        let now = ContinuousClock.now
        let tooMany = failures.withLock { failures in
            failures.removeAll { now - $0 > .seconds(60) }
            return failures.count >= 5
        }
        guard !tooMany else {
            throw WebError(.tooManyRequests, "Too many wrong passwords: wait a minute.")
        }
        let password = self.password
        let right = await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: password.matches(given)) }.start()
        }
        guard right else {
            failures.withLock { $0.append(.now) }
            return nil
        }
        let token = WebGuard.randomToken()
        sessions.withLock { sessions in
            sessions = sessions.filter { $0.value > .now }
            sessions[token] = .now + Self.lifetime
        }
        return token
    }

    /// Ends the session `token` names.
    func close(_ token: String?) {
        guard let token else { return }
        _ = sessions.withLock { $0.removeValue(forKey: token) }
    }
}
