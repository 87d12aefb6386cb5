import Foundation
import NewsCore
import NewsdTesting
import Testing

private let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

/// `newsctl feeds …` and `newsctl poll FEED`, run as the real binary against a running node.
@Suite(.timeLimit(.minutes(5))) struct FeedsCommandTests {
    @Test func addListRemoveExportImportAndPollOne() async throws {
        let binary = try #require(builtExecutable("newsctl"))
        let server = try await TestHTTPServer.start()
        Fixture.serveSite(on: server, pages: 2)
        server.serve("/other.xml", body: Fixture.rss([(id: "o", link: "/a/1.html")]))
        server.serve("/page.html", body: "<html><body>not a feed</body></html>")
        let declared = server.url("/other.xml")
        let node = try await TestNode.start(feeds: [declared])
        let socket = node.config.controlSocket.path
        func newsctl(_ arguments: String...) async throws -> CommandResult {
            try await runCommand(binary, arguments + ["--socket", socket])
        }

        let added = try await newsctl(
            "feeds", "add", server.url("/feed.xml").absoluteString, "--category", "Region/North", "--json")
        #expect(added.status == 0, "\(added.stderr)")
        let feed = try JSONCoding.decoder().decode(FeedStatus.self, from: Data(added.stdout.utf8))
        #expect(feed.origin == "user")
        #expect(feed.category == "Region/North")
        #expect(feed.lastResult == "ok")
        #expect(feed.articles == 2)

        let duplicate = try await newsctl("feeds", "add", server.url("/feed.xml").absoluteString)
        #expect(duplicate.status == 1)
        #expect(duplicate.stderr == "newsctl: \(server.url("/feed.xml").absoluteString) is already a feed\n")
        let missing = try await newsctl("feeds", "add", server.url("/nothing.xml").absoluteString)
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("answered HTTP 404"))
        let notFeed = try await newsctl("feeds", "add", server.url("/page.html").absoluteString)
        #expect(notFeed.status == 1)
        #expect(notFeed.stderr.contains("not a feed"))
        let notURL = try await newsctl("feeds", "add", "feed.xml")
        #expect(notURL.status == 1)
        #expect(notURL.stderr == "newsctl: feed.xml is not an http or https URL\n")

        let list = try await newsctl("feeds", "list", "--json")
        let feeds = try JSONCoding.decoder().decode([FeedStatus].self, from: Data(list.stdout.utf8))
        #expect(feeds.map(\.url) == [declared.absoluteString, server.url("/feed.xml").absoluteString])

        let before = server.hitCount("/other.xml")
        let one = try await newsctl("poll", server.url("/feed.xml").absoluteString, "--json")
        #expect(one.status == 0, "\(one.stderr)")
        #expect(server.hitCount("/other.xml") == before, "polling one feed leaves the others alone")

        let opml = try await newsctl("feeds", "export")
        #expect(opml.status == 0)
        #expect(opml.stdout.contains("<outline text=\"Region\""))
        #expect(opml.stdout.contains("xmlUrl=\"\(server.url("/feed.xml").absoluteString)\""))
        // The site the feed names as its own goes along as htmlUrl.
        #expect(opml.stdout.contains("htmlUrl=\"https://test.example/\""))

        let removeDeclared = try await newsctl("feeds", "remove", declared.absoluteString)
        #expect(removeDeclared.status == 1)
        #expect(removeDeclared.stderr.contains("declared in the config file"))
        let removed = try await newsctl("feeds", "remove", server.url("/feed.xml").absoluteString)
        #expect(removed.status == 0, "\(removed.stderr)")
        #expect(try await node.status().feeds.map(\.url) == [declared.absoluteString])

        // The export, imported into another node, brings the feed and its folder along.
        let other = try await TestNode.start()
        let file = other.directory.appendingPathComponent("feeds.opml")
        try opml.stdout.write(to: file, atomically: true, encoding: .utf8)
        let imported = try await runCommand(binary, ["feeds", "import", file.path, "--socket", other.config.controlSocket.path])
        #expect(imported.stdout == "added 2 feeds, skipped 0 already present\n", "\(imported.stderr)")
        let otherFeeds = try await other.status().feeds
        #expect(Set(otherFeeds.map(\.url)) == [declared.absoluteString, server.url("/feed.xml").absoluteString])
        #expect(otherFeeds.first { $0.url.hasSuffix("/feed.xml") }?.category == "Region/North")
        let listedThere = try await runCommand(binary, ["feeds", "list", "--json", "--socket", other.config.controlSocket.path])
        let there = try JSONCoding.decoder().decode([FeedStatus].self, from: Data(listedThere.stdout.utf8))
        #expect(there.first { $0.url.hasSuffix("/feed.xml") }?.site == "https://test.example/")

        try await other.stop()
        try await node.stop()
        await server.stop()
    }

    @Test func feedsParsePrintsEntriesWithoutADaemon() async throws {
        let newsctl = try #require(builtExecutable("newsctl"))
        let result = try await runCommand(
            newsctl, ["feeds", "parse", fixtures.appendingPathComponent("site/feed.xml").path, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        struct Parsed: Decodable {
            struct Entry: Decodable {
                var id: String
                var title: String?
                var link: String?
            }
            var format: String
            var entries: [Entry]
        }
        let parsed = try JSONCoding.decoder().decode(Parsed.self, from: Data(result.stdout.utf8))
        #expect(parsed.format == "atom")
        #expect(parsed.entries.map(\.id) == ["urn:fixture:clinic", "urn:fixture:ferry"])
        #expect(parsed.entries.first?.link?.hasSuffix("Fixtures/site/pages/clinic.html") == true)

        let bad = try await runCommand(
            newsctl, ["feeds", "parse", fixtures.appendingPathComponent("site/pages/clinic.html").path])
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("not a feed"))
    }
}

/// `newsctl config check` and `newsctl peers list`, run as the real binary.
@Suite(.timeLimit(.minutes(5))) struct ConfigAndPeersCommandTests {
    @Test func configCheckNeedsNoDaemonAndNamesTheLine() async throws {
        let newsctl = try #require(builtExecutable("newsctl"))
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("newsd.toml")
        try "listen = \"127.0.0.1:9\"\n[[peer]]\nname = \"b\"\nurl = \"http://127.0.0.1:9\"\n".write(
            to: file, atomically: true, encoding: .utf8)
        let good = try await runCommand(newsctl, ["config", "check", file.path])
        #expect(good.status == 0)
        #expect(good.stdout.hasPrefix("\(file.path): ok, 0 feeds, 1 peers"))
        try "poll_interval = -5\n".write(to: file, atomically: true, encoding: .utf8)
        let bad = try await runCommand(newsctl, ["config", "check", file.path])
        #expect(bad.status == 1)
        #expect(bad.stderr == "newsctl: \(file.path):1: key poll_interval: must be a positive number of seconds\n")
    }

    @Test func peersListShowsEachPeersSyncState() async throws {
        let newsctl = try #require(builtExecutable("newsctl"))
        let a = try await TestNode.start()
        let b = try await TestNode.start(peers: [
            a.asPeer("a"), PeerConfig(name: "gone", url: URL(string: "http://127.0.0.1:9")!, node: NodeKey().record.id.hex),
        ])
        try await a.allow(b, as: "b")
        _ = try await b.sync()
        let result = try await runCommand(newsctl, ["peers", "list", "--json", "--socket", b.config.controlSocket.path])
        #expect(result.status == 0, "\(result.stderr)")
        let peers = try JSONCoding.decoder().decode([PeerStatus].self, from: Data(result.stdout.utf8))
        #expect(peers.map(\.name) == ["a", "gone"])
        #expect(peers[0].lastResult == "ok")
        #expect(peers[0].cursor > 0)
        #expect(peers[1].lastResult == "error")
        #expect(peers[1].lastError?.contains("unreachable") == true)
        try await b.stop()
        try await a.stop()
    }
}
