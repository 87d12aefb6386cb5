import Foundation
import NewsCore
import NewsdTesting
import Testing

private let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

/// The real `newsd` and `newsctl` binaries, as a user runs them.
@Suite(.timeLimit(.minutes(5))) struct ProcessTests {
    let newsd = builtExecutable("newsd")
    let newsctl = builtExecutable("newsctl")

    @Test func newsctlStatusReportsARunningDaemonAndSIGTERMStopsIt() async throws {
        let newsd = try #require(newsd, "newsd is built beside the tests")
        let newsctl = try #require(newsctl)
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.appendingPathComponent("newsd.toml")
        try """
        data_dir = "data"
        listen = "127.0.0.1:0"
        [[feed]]
        url = "\(fixtures.appendingPathComponent("site/feed.xml").path)"
        title = "Fixture site"
        """.write(to: config, atomically: true, encoding: .utf8)

        let daemon = try ChildProcess(newsd, ["--config", config.path])
        let ready = await daemon.waitForLine(containing: "ready")
        try #require(ready != nil, "newsd did not start: \(daemon.stderrLines)")
        let socket = directory.appendingPathComponent("data/newsd.sock").path

        // Waits for the start-up poll (joining it) and reports the feed.
        let poll = try await runCommand(newsctl, ["poll", "--socket", socket, "--json"])
        #expect(poll.status == 0, "\(poll.stderr)")

        let result = try await runCommand(newsctl, ["status", "--config", config.path, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let status = try JSONCoding.decoder().decode(StatusReport.self, from: Data(result.stdout.utf8))
        #expect(status.version == newsdVersion)
        #expect(status.counts.feeds == 1)
        #expect(status.counts.articles == 2)
        #expect(status.counts.captures == 3, "two pages and the feed document")
        #expect(status.counts.texts == 2)
        #expect(status.counts.blobs == 3)
        #expect(status.counts.capturesLastDay == 3)
        #expect(status.counts.capturedBytesLastDay > 0)
        #expect(status.feeds.first?.title == "Fixture site")
        // The start-up poll stored the articles; newsctl poll then found the file unchanged, or joined that poll.
        #expect(["ok", "not-modified"].contains(status.feeds.first?.lastResult))
        #expect(status.feeds.first?.lastError == nil)
        #expect(status.dataBytes > 0)
        #expect(status.peers.isEmpty)

        let human = try await runCommand(newsctl, ["status", "--socket", socket])
        #expect(human.status == 0)
        #expect(human.stdout.contains("2 articles, 3 captures"))
        #expect(human.stdout.contains("growth   3 captures"))
        #expect(human.stdout.contains("Fixture site"))

        let permissions = try FileManager.default.attributesOfItem(atPath: socket)[.posixPermissions] as? Int
        #expect(permissions == 0o660)

        daemon.signal(SIGTERM)
        #expect(await daemon.waitForExit() == 0)
        #expect(daemon.stderrLines.allSatisfy { !$0.hasPrefix("<3>") && !$0.hasPrefix("<2>") })
    }

    @Test func newsctlWithoutADaemonSaysSoAndFails() async throws {
        let newsctl = try #require(newsctl)
        let result = try await runCommand(newsctl, ["status", "--socket", "/tmp/newsd-no-such-dir/newsd.sock"])
        #expect(result.status != 0)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr == "newsctl: newsd is not running (no control socket at /tmp/newsd-no-such-dir/newsd.sock)\n")
    }

    @Test func newsctlFindsTheSocketFromItsOptionTheEnvironmentTheConfigTheSystemPathOrDataDirectory() async throws {
        let newsctl = try #require(newsctl)
        let node = try await TestNode.start()
        let socket = node.config.controlSocket.path
        let elsewhere = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: elsewhere) }
        func status(_ arguments: [String] = [], environment: [String: String] = [:]) async throws -> CommandResult {
            try await runCommand(
                newsctl, ["status", "--json"] + arguments, environment: ["NEWSD_SOCKET": ""].merging(environment) { $1 },
                directory: elsewhere)
        }
        func answered(_ result: CommandResult) throws -> Bool {
            guard result.status == 0 else { return false }
            return try JSONCoding.decoder().decode(StatusReport.self, from: Data(result.stdout.utf8)).nodeID == node.nodeID
        }
        // Nothing says where: data/newsd.sock under the current directory, which is not there yet (unless the system's
        // socket is).
        let systemSocket = "/run/newsd/newsd.sock"
        let systemHasOne = FileManager.default.fileExists(atPath: systemSocket)
        if !systemHasOne {
            let none = try await status()
            #expect(none.status == 1)
            #expect(none.stderr == "newsctl: newsd is not running (no control socket at data/newsd.sock)\n")
        }
        #expect(try answered(try await status(["--socket", socket])))
        #expect(try answered(try await status(environment: ["NEWSD_SOCKET": socket])))
        let config = elsewhere.appendingPathComponent("newsd.toml")
        try "control_socket = \"\(socket)\"\n".write(to: config, atomically: true, encoding: .utf8)
        #expect(try answered(try await status(["--config", config.path])))
        // The option wins over the environment.
        #expect(try answered(try await status(["--socket", socket], environment: ["NEWSD_SOCKET": "/nonexistent.sock"])))
        try FileManager.default.createSymbolicLink(
            at: elsewhere.appendingPathComponent("data"), withDestinationURL: node.directory)
        if !systemHasOne {
            #expect(try answered(try await status()))
            // The system's socket, where there is one (here a link to the node's), with no data/ here.
            if getuid() == 0, !FileManager.default.fileExists(atPath: "/run/newsd") {
                try FileManager.default.removeItem(at: elsewhere.appendingPathComponent("data"))
                try FileManager.default.createDirectory(atPath: "/run/newsd", withIntermediateDirectories: true)
                defer { try? FileManager.default.removeItem(atPath: "/run/newsd") }
                try FileManager.default.createSymbolicLink(atPath: systemSocket, withDestinationPath: socket)
                #expect(try answered(try await status()))
            }
        }
        try await node.stop()
    }

    @Test func aSecondDaemonOnTheSameDataDirectoryRefusesToStart() async throws {
        let newsd = try #require(newsd)
        let node = try await TestNode.start()
        let config = node.directory.appendingPathComponent("second.toml")
        try "data_dir = \".\"\nlisten = \"\"\n".write(to: config, atomically: true, encoding: .utf8)
        let result = try await runCommand(newsd, ["--config", config.path])
        #expect(result.status != 0)
        #expect(result.stderr.contains("another newsd is already running"))
        // The running node's socket was not taken over.
        #expect(try await node.status().nodeID == node.nodeID)
        try await node.stop()
    }

    @Test func aPermanentMoveIsLoggedAndShownWithTheFeed() async throws {
        let newsd = try #require(builtExecutable("newsd"))
        let newsctl = try #require(builtExecutable("newsctl"))
        let server = try await TestHTTPServer.start()
        Fixture.serveSite(on: server, pages: 1)
        server.redirect("/old.xml", to: "/feed.xml", status: .permanentRedirect)
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.appendingPathComponent("newsd.toml")
        let old = server.url("/old.xml").absoluteString
        try "data_dir = \"data\"\nlisten = \"\"\n[[feed]]\nurl = \"\(old)\"\n".write(
            to: config, atomically: true, encoding: .utf8)
        let daemon = try await startManual(newsd, config: config)
        let socket = directory.appendingPathComponent("data/newsd.sock").path
        let polled = try await runCommand(newsctl, ["poll", "--socket", socket])
        #expect(polled.status == 0, "\(polled.stderr)")
        let logged = await daemon.waitForLine(containing: "feed moved permanently")
        #expect(logged?.contains("to=\(server.url("/feed.xml").absoluteString)") == true, "\(logged ?? "")")
        #expect(logged?.contains("status=308") == true)
        let shown = try await runCommand(newsctl, ["feeds", "show", old, "--socket", socket])
        #expect(shown.stdout.contains("moved permanently (308)"), "\(shown.stdout)")
        #expect(shown.stdout.contains("\(old) → \(server.url("/feed.xml").absoluteString)"))
        let byNewLocation = try await runCommand(
            newsctl, ["feeds", "show", server.url("/feed.xml").absoluteString, "--socket", socket])
        #expect(byNewLocation.status == 0)
        let unknown = try await runCommand(newsctl, ["feeds", "show", "https://nowhere.example/", "--socket", socket])
        #expect(unknown.stderr == "newsctl: https://nowhere.example/ is not a feed\n")
        daemon.signal(SIGTERM)
        #expect(await daemon.waitForExit() == 0)
        await server.stop()
    }

    @Test func sighupAppliesNewLimitsAndProxyToTheNextPoll() async throws {
        let newsd = try #require(builtExecutable("newsd"))
        let newsctl = try #require(builtExecutable("newsctl"))
        let server = try await TestHTTPServer.start()
        let paragraphs = (0..<400).map { "Paragraph \($0) of a long report that makes the page some forty kilobytes." }
        server.serve("/big.html", body: Fixture.page("Long report", paragraphs: paragraphs))
        server.serve("/feed.xml", body: Fixture.rss([(id: "big", link: server.url("/big.html").absoluteString)]))
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.appendingPathComponent("newsd.toml")
        func write(_ extra: String) throws {
            try "data_dir = \"data\"\nlisten = \"\"\n\(extra)[[feed]]\nurl = \"\(server.url("/feed.xml"))\"\n".write(
                to: config, atomically: true, encoding: .utf8)
        }
        let socket = directory.appendingPathComponent("data/newsd.sock").path
        func poll() async throws -> FeedStatus? {
            let result = try await runCommand(newsctl, ["poll", "--json", "--socket", socket])
            return try JSONCoding.decoder().decode([FeedStatus].self, from: Data(result.stdout.utf8)).first
        }
        // A proxy where nothing listens: the poll fails through it.
        try write("proxy = \"http://127.0.0.1:9\"\n[limits]\nmax_body_bytes = 10000\n")
        let daemon = try await startManual(newsd, config: config)
        let proxied = try await poll()
        #expect(proxied?.lastResult == "error", "\(String(describing: proxied))")
        #expect(server.hitCount("/feed.xml") == 0, "the request went to the proxy, not the site")
        // No proxy, and a 10 KB limit: the feed arrives, its 40 KB article is refused.
        try write("[limits]\nmax_body_bytes = 10000\n")
        daemon.signal(SIGHUP)
        #expect(await daemon.waitForLine(containing: "configuration reloaded") != nil)
        let limited = try await poll()
        #expect(limited?.lastError?.contains("body larger than the 10000-byte limit") == true, "\(String(describing: limited))")
        // A larger limit: the article is stored.
        try write("[limits]\nmax_body_bytes = 1000000\n")
        daemon.signal(SIGHUP)
        #expect(await daemon.waitForLine(containing: "configuration reloaded") != nil)
        let stored = try await poll()
        #expect(stored?.lastResult == "ok", "\(String(describing: stored))")
        #expect(stored?.articles == 1)
        daemon.signal(SIGTERM)
        #expect(await daemon.waitForExit() == 0)
        await server.stop()
    }

    @Test func aBadConfigNamesTheFileLineAndKey() async throws {
        let newsd = try #require(newsd)
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.appendingPathComponent("bad.toml")
        try "poll_interval = 60\n[[feed]]\nurl = \n".write(to: config, atomically: true, encoding: .utf8)
        let syntax = try await runCommand(newsd, ["--config", config.path, "--check-config"])
        #expect(syntax.status != 0)
        #expect(syntax.stderr.contains("\(config.path):3:"))

        try "[[feed]]\nurl = \"gopher://old.example/\"\n".write(to: config, atomically: true, encoding: .utf8)
        let value = try await runCommand(newsd, ["--config", config.path, "--check-config"])
        #expect(value.status != 0)
        #expect(value.stderr.contains("\(config.path):2: key feed[1].url"))

        try "pol_interval = 60\n".write(to: config, atomically: true, encoding: .utf8)
        let typo = try await runCommand(newsd, ["--config", config.path, "--check-config"])
        #expect(typo.status != 0)
        #expect(typo.stderr.contains("\(config.path):1: key pol_interval: unknown key"))
    }
}

/// SIGHUP, sent to the real `newsd`.
@Suite(.timeLimit(.minutes(5))) struct ReloadTests {
    @Test func sighupAddsAndRemovesFeedsAndABadConfigKeepsTheOldOne() async throws {
        let newsd = try #require(builtExecutable("newsd"))
        let newsctl = try #require(builtExecutable("newsctl"))
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.appendingPathComponent("newsd.toml")
        let first = fixtures.appendingPathComponent("site/feed.xml").path
        let second = fixtures.appendingPathComponent("../../FeedsTests/Fixtures/atom.xml").standardizedFileURL.path
        func write(_ feeds: [String], extra: String = "") throws {
            let body = feeds.map { "[[feed]]\nurl = \"\($0)\"\n" }.joined()
            try "data_dir = \"data\"\nlisten = \"\"\n\(extra)\(body)".write(to: config, atomically: true, encoding: .utf8)
        }
        func feeds() async throws -> [String] {
            let socket = directory.appendingPathComponent("data/newsd.sock").path
            let result = try await runCommand(newsctl, ["feeds", "list", "--json", "--socket", socket])
            #expect(result.status == 0, "\(result.stderr)")
            return try JSONCoding.decoder().decode([FeedStatus].self, from: Data(result.stdout.utf8)).map {
                URL(string: $0.url)!.path
            }
        }
        try write([first])
        let daemon = try ChildProcess(newsd, ["--config", config.path, "--manual"])
        #expect(await daemon.waitForLine(containing: "ready") != nil)
        #expect(try await feeds() == [first])

        try write([first, second])
        daemon.signal(SIGHUP)
        #expect(await daemon.waitForLine(containing: "configuration reloaded") != nil)
        #expect(try await feeds() == [first, second])

        try write([first], extra: "poll_interval = \"often\"\n")
        daemon.signal(SIGHUP)
        let refused = await daemon.waitForLine(containing: "configuration not reloaded")
        #expect(refused?.contains("newsd.toml:3: key poll_interval") == true, "\(refused ?? "")")
        #expect(try await feeds() == [first, second])

        try write([second])
        daemon.signal(SIGHUP)
        #expect(await daemon.waitForLine(containing: "configuration reloaded") != nil)
        #expect(try await feeds() == [second])

        // A peer added to the file is a peer after the reload.
        let node = String(repeating: "ab", count: 32)
        try write([second], extra: "[[peer]]\nname = \"field\"\nurl = \"http://127.0.0.1:9\"\nnode = \"\(node)\"\n")
        daemon.signal(SIGHUP)
        #expect(await daemon.waitForLine(containing: "configuration reloaded") != nil)
        let peers = try await runCommand(
            newsctl, ["peers", "list", "--json", "--socket", directory.appendingPathComponent("data/newsd.sock").path])
        let listed = try JSONCoding.decoder().decode([PeerStatus].self, from: Data(peers.stdout.utf8))
        #expect(listed.map(\.name) == ["field"] && listed.map(\.node) == [node], "\(listed)")
        daemon.signal(SIGTERM)
        #expect(await daemon.waitForExit() == 0)
    }
}
