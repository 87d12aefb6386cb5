import Foundation
import NewsCore
import NewsdTesting
import Testing

/// Real nodes on loopback, each archiving its own feed, peered along the edges of a topology; syncing round after
/// round, every node ends with the same blobs, captures, texts and annotations, and captures keep their capturing node's
/// signature.
@Suite(.timeLimit(.minutes(5))) struct TopologyTests {
    /// Starts `count` nodes, each with a site of its own, peers them along `edges` (both ways), syncs until nothing
    /// changes, and checks that all hold the same archive.
    private func converge(nodes count: Int, edges: [(Int, Int)]) async throws {
        var servers: [TestHTTPServer] = []
        var nodes: [TestNode] = []
        for index in 0..<count {
            let server = try await TestHTTPServer.start()
            Fixture.serveSite(on: server, pages: 2 + index)
            servers.append(server)
            let node = try await TestNode.start(feeds: [server.url("/feed.xml")])
            _ = try await node.poll()
            // Each node tags one of its articles and notes another, with newsctl.
            let socket = ["--socket", node.config.controlSocket.path]
            for arguments in [
                ["tag", server.url("/a/1.html").absoluteString, "from-n\(index)"],
                ["note", server.url("/a/2.html").absoluteString, "seen by n\(index)"],
            ] {
                let result = try await runCommand(try #require(builtExecutable("newsctl")), arguments + socket)
                #expect(result.status == 0, "\(result.stderr)")
            }
            nodes.append(node)
        }
        for (from, to) in edges {
            try await nodes[from].allow(nodes[to], as: "n\(to)")
            try await nodes[to].allow(nodes[from], as: "n\(from)")
        }
        func state(_ node: TestNode) throws -> [Set<String>] {
            let file = try ArchiveFile(path: node.archivePath)
            return [
                try file.verifiedBlobHashes(), try file.captureIDs(), try file.verifiedTextIDs(), try file.annotationState(),
            ]
        }
        // Each round moves everything at least one hop; as many rounds as nodes is a bound, not a wait.
        var rounds = 0
        while try Set(nodes.map(state)).count > 1, rounds < count {
            for node in nodes {
                let peers = try await node.sync()
                #expect(peers.allSatisfy { $0.lastResult == "ok" }, "\(peers.compactMap(\.lastError))")
            }
            rounds += 1
        }
        let states = try nodes.map(state)
        #expect(Set(states).count == 1, "nodes differ after \(rounds) rounds")
        let expectedCaptures = (0..<count).reduce(0) { $0 + 2 + $1 + 1 }  // each site's pages and its feed document
        #expect(states[0][1].count == expectedCaptures)
        #expect(states[0][3].count == 2 * count)
        for node in nodes {
            let verify = try await runCommand(
                try #require(builtExecutable("newsctl")), ["verify", "--socket", node.config.controlSocket.path])
            #expect(verify.status == 0, "\(verify.stdout)")
        }
        for node in nodes { try await node.stop() }
        for server in servers { await server.stop() }
    }

    @Test func chain() async throws {
        try await converge(nodes: 3, edges: [(0, 1), (1, 2)])
    }

    @Test func star() async throws {
        try await converge(nodes: 4, edges: [(0, 1), (0, 2), (0, 3)])
    }

    @Test func ring() async throws {
        try await converge(nodes: 3, edges: [(0, 1), (1, 2), (2, 0)])
    }
}
