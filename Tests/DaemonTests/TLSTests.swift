import Foundation
import NewsCore
import NewsdTesting
import Testing

/// Sync over TLS with the node's own certificate, its key pinned by the peer.
@Suite(.timeLimit(.minutes(5))) struct TLSTests {
    @Test func peersSyncOverTLSOnlyWithTheRightPin() async throws {
        let server = try await TestHTTPServer.start()
        Fixture.serveSite(on: server, pages: 3)
        let a = try await TestNode.start(feeds: [server.url("/feed.xml")]) { $0.tls = true }
        _ = try await a.poll()
        let pin = try #require(try await a.status().tlsPin)
        #expect(PeerConfig.isPin(pin))
        #expect(a.syncURL.scheme == "https")
        let keyMode =
            try FileManager.default.attributesOfItem(atPath: a.directory.appendingPathComponent("tls.key").path)[
                .posixPermissions] as? Int
        #expect(keyMode == 0o600)

        // `newsctl status` shows the pin; `newsctl peers add https://… --pin` takes it, and the sync goes through,
        // both ways.
        let newsctl = try #require(builtExecutable("newsctl"))
        let shown = try await runCommand(newsctl, ["status", "--socket", a.config.controlSocket.path])
        #expect(shown.stdout.contains("tls pin  \(pin)"), "\(shown.stdout)")
        let b = try await TestNode.start()
        let added = try await runCommand(
            newsctl,
            [
                "peers", "add", a.syncURL.absoluteString, "--node", a.nodeID, "--pin", pin, "--name", "a", "--socket",
                b.config.controlSocket.path,
            ])
        #expect(added.status == 0, "\(added.stderr)")
        try await a.allow(b, as: "b")
        let synced = try await b.sync()
        #expect(synced.first?.lastResult == "ok", "\(synced)")
        #expect(try ArchiveFile(path: b.archivePath).captureIDs() == ArchiveFile(path: a.archivePath).captureIDs())

        // Another key's pin, no pin (the certificate is its own authority), or plain HTTP: refused before anything
        // is sent.
        let wrongPin = "sha256//" + Data(repeating: 7, count: 32).base64EncodedString()
        let attempts = [
            (PeerConfig(name: "a", url: a.syncURL, node: a.nodeID, pin: wrongPin), "public key does not match pinned"),
            (PeerConfig(name: "a", url: a.syncURL, node: a.nodeID), "SSL certificate problem: self-signed certificate"),
            (
                PeerConfig(
                    name: "a", url: URL(string: a.syncURL.absoluteString.replacingOccurrences(of: "https:", with: "http:"))!,
                    node: a.nodeID), "Empty reply from server"
            ),
        ]
        for (peer, reason) in attempts {
            let c = try await TestNode.start(peers: [peer])
            try await a.allow(c, as: "c")
            let result = try await c.sync().first
            #expect(result?.lastResult == "error", "\(peer)")
            // Refused by the TLS layer, before a request went out.
            #expect(result?.lastError?.hasPrefix("peer unreachable: ") == true && result?.lastError?.contains(reason) == true)
            #expect(try ArchiveFile(path: c.archivePath).count("capture") == 0)
            try await c.stop()
        }

        // The certificate and key stay across restarts: peers' pins keep working.
        try await a.stop(removingData: false)
        let again = try await TestNode.start(directory: a.directory) { $0.tls = true }
        #expect(try await again.status().tlsPin == pin)
        try await again.stop()
        try await b.stop()
        await server.stop()
    }
}
