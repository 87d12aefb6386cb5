import Foundation
import Hummingbird
import HummingbirdTLS
import Logging
import NewsCore
import ServiceLifecycle
import Synchronization

extension Daemon {
    /// The web interface at `web_listen`, when it is set. Refusing the address is not fatal: archiving goes on, and
    /// `newsctl status` says why the interface is off.
    func webServer() throws -> (any Service)? {
        guard let listen = config.webListen else { return nil }
        guard let address = HostPort(listen) else { throw DaemonError("web_listen address \(listen) is not HOST:PORT") }
        let webGuard = WebGuard(
            listeningOn: address.host, password: config.webPassword.flatMap(WebPassword.init), secure: tls != nil)
        let state = web
        let logger = self.logger
        let readiness = self.readiness
        let application = Application(
            router: webRoutes(guard: webGuard),
            server: try tls.map { try .tls(.http1(), tlsConfiguration: $0.configuration) } ?? .http1(),
            configuration: .init(address: .hostname(address.host, port: address.port), serverName: "newsd"),
            onServerRunning: { channel in
                let host = address.host.contains(":") ? "[\(address.host)]" : address.host
                let url = "\(webGuard.secure ? "https" : "http")://\(host):\(channel.localAddress?.port ?? address.port)/"
                state.set(url)
                logger.notice("web interface", metadata: ["url": "\(url)"])
                readiness.webSettled()
            }, logger: quietLogger())
        return WebService(application: application, address: listen, state: state, readiness: readiness, logger: logger)
    }
}

/// Runs the web interface; if it cannot listen, says so and waits for the daemon to stop rather than stopping it.
private struct WebService<Server: Service>: Service {
    let application: Server
    let address: String
    let state: WebState
    let readiness: Readiness
    let logger: Logger

    func run() async throws {
        do {
            try await application.run()
        } catch {
            let reason = "off: cannot listen on \(address) (\(error))"
            state.set(reason)
            logger.warning("web interface \(reason)")
            readiness.webSettled()
            try? await gracefulShutdown()
        }
    }
}

/// Where the web interface is served (its URL), or why it is off.
final class WebState: Sendable {
    private let text = Mutex<String?>(nil)

    /// The URL while it is served, or `off: …` with the reason; `nil` when it is not configured or not up yet.
    var current: String? { text.withLock { $0 } }

    func set(_ value: String) { text.withLock { $0 = value } }
}
