import Daemon
import Foundation
import NewsCore
import NewsdTesting
import Testing

/// A small deterministic generator (SplitMix64), so a failing run can be replayed from its seed.
private struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Five newsd processes meshed on loopback go through rounds of random ingests, annotations, partitions (nodes
/// down for a round) and kill -9 in the middle of syncs; healed, they all hold the same archive, and verify clean.
///
/// The seed is printed; `NEWSD_CONVERGENCE_SEED=N swift test --filter ConvergenceTests` replays a run.
@Suite(.timeLimit(.minutes(5))) struct ConvergenceTests {
    /// One node: its process (when up), directory, socket and site.
    private final class Node {
        let index: Int
        let directory: URL
        let config: URL
        let socket: String
        let server: TestHTTPServer
        var pages = 1
        var process: ChildProcess?

        init(index: Int, directory: URL, config: URL, server: TestHTTPServer) {
            self.index = index
            self.directory = directory
            self.config = config
            self.socket = directory.appendingPathComponent("data/newsd.sock").path
            self.server = server
        }

        var archivePath: String { directory.appendingPathComponent("data/archive.sqlite").path }
    }

    @Test func fiveNodesConvergeAfterPartitionsAndKills() async throws {
        let newsd = try #require(builtExecutable("newsd"))
        let newsctl = try #require(builtExecutable("newsctl"))
        let seed =
            ProcessInfo.processInfo.environment["NEWSD_CONVERGENCE_SEED"].flatMap { UInt64($0) } ?? UInt64.random(in: 0...999_999)
        print("ConvergenceTests seed: \(seed) (replay with NEWSD_CONVERGENCE_SEED=\(seed))")
        var random = SeededGenerator(state: seed)

        // Five nodes, each with a site of its own, every one a peer of every other.
        let count = 5
        var nodes: [Node] = []
        var identities: [(id: String, port: Int)] = []
        for index in 0..<count {
            let directory = try temporaryDirectory()
            let data = directory.appendingPathComponent("data")
            try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
            identities.append((try NodeIdentity(directory: data).nodeID, freePort()))
            let server = try await TestHTTPServer.start()
            Fixture.serveSite(on: server, pages: 1, etag: "\"1\"")
            nodes.append(
                Node(index: index, directory: directory, config: directory.appendingPathComponent("newsd.toml"), server: server))
        }
        for node in nodes {
            var config = """
                data_dir = "data"
                listen = "127.0.0.1:\(identities[node.index].port)"
                [limits]
                politeness = 0
                [[feed]]
                url = "\(node.server.url("/feed.xml").absoluteString)"

                """
            for other in nodes where other.index != node.index {
                config += """
                    [[peer]]
                    name = "n\(other.index)"
                    url = "http://127.0.0.1:\(identities[other.index].port)"
                    node = "\(identities[other.index].id)"

                    """
            }
            try config.write(to: node.config, atomically: true, encoding: .utf8)
            node.process = try await startManual(newsd, config: node.config)
            let polled = try await runCommand(newsctl, ["poll", "--socket", node.socket])
            #expect(polled.status == 0, "\(polled.stdout)\(polled.stderr)")
        }
        func run(_ node: Node, _ arguments: [String]) async throws -> CommandResult {
            try await runCommand(newsctl, arguments + ["--socket", node.socket])
        }
        func restart(_ node: Node) async throws {
            if node.process == nil { node.process = try await startManual(newsd, config: node.config) }
        }
        func kill(_ node: Node) async {
            guard let process = node.process else { return }
            process.signal(SIGKILL)
            _ = await process.waitForExit()
            node.process = nil
        }

        var kills = 0
        for _ in 0..<6 {
            // Partition: up to two nodes are down for this round.
            let down = Set((0..<Int.random(in: 0...2, using: &random)).map { _ in Int.random(in: 0..<count, using: &random) })
            for node in nodes {
                if down.contains(node.index) { await kill(node) } else { try await restart(node) }
            }
            let up = nodes.filter { node in node.process != nil }
            // Ingest: some nodes' sites publish new pages, and those nodes poll.
            for node in up where Bool.random(using: &random) {
                node.pages += Int.random(in: 1...3, using: &random)
                Fixture.serveSite(on: node.server, pages: node.pages, etag: "\"\(node.pages)\"")
                let polled = try await run(node, ["poll"])
                #expect(polled.status == 0, "\(polled.stdout)\(polled.stderr)")
            }
            // Annotate: some nodes tag, note, hide or show an article they hold.
            for node in up where Bool.random(using: &random) {
                let listed = try await run(node, ["articles", "list", "--hidden", "--json", "--limit", "1000"])
                let articles = try JSONCoding.decoder().decode([ArticleSummary].self, from: Data(listed.stdout.utf8))
                guard let article = articles.randomElement(using: &random)?.url else { continue }
                let change: [String] =
                    switch Int.random(in: 0..<4, using: &random) {
                    case 0: ["tag", article, ["urgent", "verified", "disputed"].randomElement(using: &random)!]
                    case 1: ["tag", article, "verified", "--remove"]
                    case 2: ["note", article, "note \(Int.random(in: 0..<1000, using: &random)) from n\(node.index)"]
                    default: ["hide", article] + (Bool.random(using: &random) ? ["--undo"] : [])
                    }
                #expect(try await run(node, change).status == 0)
            }
            // Sync: each node that is up syncs with every peer; one sync in the round loses a node to kill -9 midway.
            let victim = up.randomElement(using: &random)
            for node in up where node.process != nil {
                let socket = node.socket
                let sync = Task { try await runCommand(newsctl, ["sync", "--socket", socket]) }
                if node === victim {
                    let target = Bool.random(using: &random) ? node : up.randomElement(using: &random)!
                    try await Task.sleep(for: .milliseconds(Int.random(in: 0...40, using: &random)))
                    await kill(target)
                    kills += 1
                }
                _ = try await sync.value
            }
        }

        // Heal: every node up, syncing round after round (a bound, not a wait) until all hold the same.
        for node in nodes { try await restart(node) }
        func state(_ node: Node) throws -> [Set<String>] {
            let file = try ArchiveFile(path: node.archivePath)
            return [
                try file.verifiedBlobHashes(), try file.captureIDs(), try file.verifiedTextIDs(), try file.annotationState(),
            ]
        }
        var rounds = 0
        while try Set(nodes.map(state)).count > 1, rounds < 4 {
            for node in nodes {
                let result = try await run(node, ["sync"])
                #expect(result.status == 0, "n\(node.index): \(result.stdout)\(result.stderr)")
            }
            rounds += 1
        }
        let states = try nodes.map(state)
        #expect(Set(states).count == 1, "seed \(seed): the nodes differ after \(rounds) healing rounds")
        let articles = nodes.reduce(0) { $0 + $1.pages }
        #expect(try ArchiveFile(path: nodes[0].archivePath).count("article") == articles, "seed \(seed)")
        #expect(kills == 6)
        for node in nodes {
            let verify = try await run(node, ["verify"])
            #expect(verify.status == 0, "seed \(seed), n\(node.index): \(verify.stdout)")
            await kill(node)
            await node.server.stop()
            try? FileManager.default.removeItem(at: node.directory)
        }
    }
}
