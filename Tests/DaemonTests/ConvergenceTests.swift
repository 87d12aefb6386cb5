import Daemon
import Foundation
import NewsCore
import NewsdTesting
import Testing

/// Five newsd processes meshed on loopback go through rounds of random ingests (hundreds of articles), annotations
/// (two nodes at once on the same article, in conflict), partitions (nodes down for a round), and syncs all at once
/// with a kill -9 that is checked to fall while one is under way; healed, they all hold the same archive, and verify
/// clean.
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
        var pages = 40
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
        var random = SeededGenerator(seed: seed)

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
            Fixture.serveSite(on: server, pages: 40, etag: "\"40\"")
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
        var killedMidSync = 0
        var conflicts = 0
        // Eight rounds, and more (up to sixteen) until three kills have fallen mid-sync.
        var round = 0
        while round < 8 || (killedMidSync < 3 && round < 16) {
            round += 1
            // Partition: up to two nodes are down for this round.
            let down = Set((0..<Int.random(in: 0...2, using: &random)).map { _ in Int.random(in: 0..<count, using: &random) })
            for node in nodes {
                if down.contains(node.index) { await kill(node) } else { try await restart(node) }
            }
            let up = nodes.filter { node in node.process != nil }
            // Ingest: some nodes' sites publish new pages, and those nodes poll.
            for node in up where Bool.random(using: &random) {
                node.pages += Int.random(in: 10...30, using: &random)
                Fixture.serveSite(on: node.server, pages: node.pages, etag: "\"\(node.pages)\"")
                let polled = try await run(node, ["poll"])
                #expect(polled.status == 0, "\(polled.stdout)\(polled.stderr)")
            }
            // Annotate: two nodes change the same article they both hold, in conflict (one tags, the other takes the
            // tag off; both write a note; one hides, the other shows), and others make changes of their own.
            func held(by node: Node) async throws -> [String] {
                let listed = try await run(node, ["articles", "list", "--hidden", "--json", "--limit", "100000"])
                #expect(listed.status == 0, "\(listed.stderr)")
                return try JSONCoding.decoder().decode([ArticleSummary].self, from: Data(listed.stdout.utf8)).map(\.url)
            }
            let pair = up.shuffled(using: &random).prefix(2)
            if pair.count == 2,
                let shared = Set(try await held(by: pair.first!)).intersection(try await held(by: pair.last!))
                    .sorted().randomElement(using: &random)
            {
                let conflicting: [[String]] =
                    switch Int.random(in: 0..<3, using: &random) {
                    case 0: [["tag", shared, "disputed"], ["tag", shared, "disputed", "--remove"]]
                    case 1:
                        [["note", shared, "seen by n\(pair.first!.index)"], ["note", shared, "seen by n\(pair.last!.index)"]]
                    default: [["hide", shared], ["hide", shared, "--undo"]]
                    }
                for (node, change) in zip(pair, conflicting) {
                    let result = try await run(node, change)
                    #expect(result.status == 0, "\(change): \(result.stderr)")
                }
                conflicts += 1
            }
            for node in up where Bool.random(using: &random) {
                guard let article = try await held(by: node).randomElement(using: &random) else { continue }
                let change: [String] =
                    switch Int.random(in: 0..<4, using: &random) {
                    case 0: ["tag", article, ["urgent", "verified", "disputed"].randomElement(using: &random)!]
                    case 1: ["tag", article, "verified", "--remove"]
                    case 2: ["note", article, "note \(Int.random(in: 0..<1000, using: &random)) from n\(node.index)"]
                    default: ["hide", article] + (Bool.random(using: &random) ? ["--undo"] : [])
                    }
                #expect(try await run(node, change).status == 0)
            }
            // Sync: every node that is up syncs with every peer, all at once; while they do, one node (the victim's own
            // or one of its peers) is killed. The kill counts as mid-sync only if the victim's sync failed for it: its
            // command still running at the kill is not enough (the answer may have been on its way).
            guard let victim = up.randomElement(using: &random) else { continue }
            let target = Bool.random(using: &random) ? victim : up.randomElement(using: &random)!
            let delay = Duration.milliseconds(Int.random(in: 5...80, using: &random))
            let syncing = up.map { node in
                let socket = node.socket
                return (node, Task { try await runCommand(newsctl, ["sync", "--socket", socket]) })
            }
            let victimSync = syncing.first { $0.0 === victim }!.1
            let finished = Task { _ = try? await victimSync.value }
            let before = await withTaskGroup(of: Bool.self) { group in
                group.addTask {
                    await finished.value
                    return true
                }
                group.addTask {
                    try? await Task.sleep(for: delay)
                    return false
                }
                defer { group.cancelAll() }
                return await group.next() ?? true
            }
            if !before {
                await kill(target)
                kills += 1
            }
            for (node, sync) in syncing {
                let result = try await sync.value
                if node === victim, !before, result.status != 0 { killedMidSync += 1 }
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
        #expect(killedMidSync >= 3, "seed \(seed): \(killedMidSync) of \(kills) kills fell mid-sync")
        #expect(conflicts >= 3, "seed \(seed): \(conflicts) conflicting annotations")
        for node in nodes {
            let verify = try await run(node, ["verify"])
            #expect(verify.status == 0, "seed \(seed), n\(node.index): \(verify.stdout)")
            await kill(node)
            await node.server.stop()
            try? FileManager.default.removeItem(at: node.directory)
        }
    }
}
