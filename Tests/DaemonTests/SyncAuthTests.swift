import Fetching
import Foundation
import NewsCore
import NewsdTesting
import Synchronization
import Testing

@testable import Sync

/// The sync server lets in only signed, fresh, first-seen requests of the nodes it knows.
@Suite(.timeLimit(.minutes(5))) struct SyncAuthTests {
    /// Sends `GET target` to `node`'s sync server with `headers`.
    private func get(_ node: TestNode, _ target: String, headers: [(String, String)]) async throws -> FetchResponse {
        try await Fetcher().fetch(
            FetchRequest(url: URL(string: node.syncURL.absoluteString + target)!, headers: headers.map { ($0.0, $0.1) }))
    }

    @Test func unknownUnsignedStaleReplayedAndMisdirectedRequestsAreRefused() async throws {
        let a = try await TestNode.start()
        let b = try await TestNode.start()
        try await a.allow(b, as: "b")
        let bKey = try NodeKey(rawRepresentation: Data(contentsOf: b.directory.appendingPathComponent("node.key")))
        let target = "/v1/changes?since=0"
        func signed(_ key: NodeKey, target: String = target, to node: String? = nil, at date: Date = Date()) throws -> [(
            String, String
        )] {
            try SyncAuth.requestHeaders(method: "GET", target: target, body: Data(), key: key, to: node ?? a.nodeID, now: date)
        }

        // A node A does not know, however well it signs: 403 and nothing else.
        let stranger = try await get(a, target, headers: try signed(NodeKey()))
        #expect(stranger.status == 403)
        #expect(stranger.body.isEmpty)
        #expect(try await get(a, target, headers: []).status == 403)
        #expect(try await get(a, "/v1/info", headers: []).status == 403)

        // B, properly: 200, and the answer is signed by A for this very request.
        let headers = try signed(bKey)
        let ok = try await get(a, target, headers: headers)
        #expect(ok.status == 200)
        #expect(
            SyncAuth.problem(
                withAnswer: 200, header: { ok.header($0) }, body: ok.body, nonce: headers.last!.1, from: a.nodeID) == nil)
        #expect(
            SyncAuth.problem(withAnswer: 200, header: { ok.header($0) }, body: ok.body, nonce: "other", from: a.nodeID) != nil)
        // An answer from A taken for one from B is told apart.
        let misattributed = SyncAuth.problem(
            withAnswer: 200, header: { ok.header($0) }, body: ok.body, nonce: headers.last!.1, from: b.nodeID)
        #expect(misattributed == "the answer comes from node \(a.nodeID.prefix(16)), not \(b.nodeID.prefix(16))")
        #expect(
            SyncAuth.problem(
                withAnswer: 200, header: { ok.header($0) }, body: ok.body + Data("x".utf8), nonce: headers.last!.1, from: a.nodeID
            )
                == "the answer's signature is not valid")

        // The same request again: a replay.
        let replay = try await get(a, target, headers: headers)
        #expect(replay.status == 401)
        #expect(String(decoding: replay.body, as: UTF8.self) == "the request was seen before")
        // Signed for another path, another node, or too long ago.
        let moved = try await get(a, "/v1/changes?since=5", headers: try signed(bKey))
        #expect(moved.status == 401)
        #expect(String(decoding: moved.body, as: UTF8.self) == "the request's signature is not valid")
        #expect(try await get(a, target, headers: try signed(bKey, to: b.nodeID)).status == 401)
        let stale = try await get(a, target, headers: try signed(bKey, at: Date().addingTimeInterval(-3600)))
        #expect(stale.status == 401)
        #expect(String(decoding: stale.body, as: UTF8.self).contains("from this node's clock"))
        // B's id with another key.
        var impostor = try signed(NodeKey())
        impostor[0].1 = b.nodeID
        #expect(try await get(a, target, headers: impostor).status == 401)
        try await b.stop()
        try await a.stop()
    }

    @Test func aPeerIsOnlyTrustedAsTheNodeItWasAddedAs() async throws {
        let a = try await TestNode.start()
        let c = try await TestNode.start()
        // B thinks A's URL belongs to C: A answers, and the answer is not C's.
        let b = try await TestNode.start(peers: [PeerConfig(name: "c", url: a.syncURL, node: c.nodeID)])
        try await a.allow(b, as: "b")
        // A refuses a request signed for another node; nothing of A reaches B.
        let peers = try await b.sync()
        #expect(peers.first?.lastResult == "error")
        #expect(peers.first?.lastError?.contains("401") == true)
        #expect(try await b.status().counts.lastSequence == 1, "only B's own node record")
        try await b.stop()
        try await c.stop()
        try await a.stop()
    }

    @Test func newsctlPeersAddAndRemoveDecideWhoSyncs() async throws {
        let newsctl = try #require(builtExecutable("newsctl"))
        let server = try await TestHTTPServer.start()
        Fixture.serveSite(on: server, pages: 2)
        let a = try await TestNode.start(feeds: [server.url("/feed.xml")])
        _ = try await a.poll()
        let b = try await TestNode.start()
        func ctl(_ node: TestNode, _ arguments: [String]) async throws -> CommandResult {
            try await runCommand(newsctl, arguments + ["--socket", node.config.controlSocket.path])
        }
        // B adds A; A does not know B yet.
        let added = try await ctl(b, ["peers", "add", a.syncURL.absoluteString, "--node", a.nodeID, "--name", "a"])
        #expect(added.status == 0, "\(added.stderr)")
        #expect(added.stdout.hasPrefix("added peer a ("))
        var synced = try await b.sync()
        #expect(synced.first?.lastError?.contains("403") == true)

        // A adds B: now B pulls everything.
        #expect(try await ctl(a, ["peers", "add", b.syncURL.absoluteString, "--node", b.nodeID, "--name", "b"]).status == 0)
        let one = try await ctl(b, ["sync", "a", "--json"])
        #expect(one.status == 0, "\(one.stdout)\(one.stderr)")
        synced = try JSONCoding.decoder().decode([PeerStatus].self, from: Data(one.stdout.utf8))
        #expect(synced.map(\.lastResult) == ["ok"])
        let nobody = try await ctl(b, ["sync", "nobody"])
        #expect(nobody.status == 1)
        #expect(nobody.stderr == "newsctl: nobody is not a peer\n")
        #expect(try await b.status().counts.articles == 2)
        let list = try await ctl(b, ["peers", "list", "--json"])
        let peers = try JSONCoding.decoder().decode([PeerStatus].self, from: Data(list.stdout.utf8))
        #expect(peers.map(\.node) == [a.nodeID])

        // A removes B: B is a stranger again.
        let removed = try await ctl(a, ["peers", "remove", "b", "--json"])
        #expect(removed.status == 0)
        #expect(try JSONDecoder().decode([String: String].self, from: Data(removed.stdout.utf8)) == ["removed": "b"])
        let refused = try await ctl(b, ["sync"])
        #expect(refused.status == 1, "a failed sync is a failed command")
        synced = try await b.sync()
        #expect(synced.first?.lastError?.contains("403") == true)

        let badID = try await ctl(b, ["peers", "add", "http://127.0.0.1:9", "--node", "abc"])
        #expect(badID.status == 1)
        #expect(badID.stderr.contains("node id"))
        let unknown = try await ctl(a, ["peers", "remove", "nobody"])
        #expect(unknown.stderr == "newsctl: no peer nobody\n")
        try await b.stop()
        try await a.stop()
        await server.stop()
    }
}

@Suite(.timeLimit(.minutes(5))) struct SyncBackoffTests {
    @Test func aFailingPeerBacksOffAndIsPulledAtOnceWhenItComesBack() async throws {
        let a = try await TestNode.start()
        let c = try await TestNode.start()
        let b = try await TestNode.start(peers: [a.asPeer("a"), c.asPeer("c")], syncInterval: 0.2)
        // B may have tried A before A let it in; A reaching B ends any backoff.
        try await a.allow(b, as: "b")
        _ = try await a.sync()
        // C does not know B yet: B's pulls from it fail, and it is not tried again while A is pulled round after round.
        func rounds(_ count: Int) async throws {
            let seen = Mutex(0)
            _ = try await b.event(within: 20) { event in
                guard case .synced(let peer) = event, peer.name == "a" else { return false }
                return seen.withLock { seen in
                    seen += 1
                    return seen >= count
                }
            }
        }
        func statusOfC() async throws -> PeerStatus? { try await b.status().peers.first { $0.name == "c" } }
        try await rounds(2)
        let failed = try await statusOfC()
        #expect(failed?.lastResult == "error")
        #expect(failed?.lastError?.contains("403") == true)
        try await rounds(3)
        // Not tried again before its backoff (30 s less a fifth of jitter) ran out: on a loaded machine three rounds of
        // A can take longer than that, and then a retry is right.
        let retried = try await statusOfC()?.lastSyncAt
        let failedAt = try #require(failed?.lastSyncAt)
        #expect(retried == failedAt || (retried ?? .distantPast).timeIntervalSince(failedAt) >= 24)

        // C comes back: it lets B in and reaches B itself, and B pulls from it at once, backoff or not.
        try await c.allow(b, as: "b")
        let back = Task {
            try await b.event(within: 29) { event in
                if case .synced(let peer) = event { return peer.name == "c" && peer.lastResult == "ok" }
                return false
            }
        }
        _ = try await c.sync()
        _ = try await back.value
        try await b.stop()
        try await c.stop()
        try await a.stop()
    }
}

/// The gate reports every request it lets in, however many.
@Suite(.timeLimit(.minutes(2))) struct GateContactTests {
    @Test func aMillionContactsAreReportedWithoutTheHandlerGrowing() async throws {
        let gate = SyncGate(key: NodeKey(), peers: [])
        let count = Mutex(0)
        gate.onContact { _ in count.withLock { $0 += 1 } }
        // Each read of a function value kept in a Mutex used to wrap it in one more thunk: it overflowed the stack
        // after some 170,000 (a daemon that had served that many sync requests).
        // (Each call then walked the whole chain: the loop checks for the time limit's cancellation.)
        for _ in 0..<1_000_000 {
            try Task.checkCancellation()
            await gate.contacted(by: "node")
        }
        #expect(count.withLock { $0 } == 1_000_000)
    }
}
