import Foundation
import Hummingbird
import NewsCore
import NewsdTesting
import Testing

@Suite(.timeLimit(.minutes(5))) struct PollingTests {
    @Test func pollArchivesPagesWithCorrectHashesAndA304AddsNothing() async throws {
        let server = try await TestHTTPServer.start()
        Fixture.serveSite(on: server, pages: 3)
        let node = try await TestNode.start(feeds: [server.url("/feed.xml")])

        let first = try await node.poll()
        #expect(first.map(\.lastResult) == ["ok"])
        #expect(first.first?.articles == 3)

        let file = try ArchiveFile(path: node.archivePath)
        let blobs = try file.verifiedBlobHashes()
        #expect(blobs.count == 4, "three pages and the feed document")
        #expect(try file.verifiedTextIDs().count == 3)
        #expect(try file.count("capture") == 4, "three pages and the feed document")
        let changes = try file.count("change")

        let second = try await node.poll()
        #expect(second.map(\.lastResult) == ["not-modified"])
        #expect(try file.verifiedBlobHashes() == blobs)
        #expect(try file.count("change") == changes)
        #expect(try file.count("capture") == 4)
        for page in 1...3 { #expect(server.hitCount("/a/\(page).html") == 1) }
        #expect(server.hitCount("/feed.xml") == 2)

        try await node.stop()
        await server.stop()
    }

    @Test func aFeedThatChangesOnlyFetchesItsNewArticles() async throws {
        let server = try await TestHTTPServer.start()
        Fixture.serveSite(on: server, pages: 2)
        let node = try await TestNode.start(feeds: [server.url("/feed.xml")])
        _ = try await node.poll()
        Fixture.serveSite(on: server, pages: 3, etag: "\"v2\"")
        let feeds = try await node.poll()
        #expect(feeds.first?.lastResult == "ok")
        #expect(feeds.first?.articles == 3)
        #expect(server.hitCount("/a/1.html") == 1)
        #expect(server.hitCount("/a/3.html") == 1)
        try await node.stop()
        await server.stop()
    }

    @Test func badFeedsShowAsErrorsWhileTheOthersKeepPolling() async throws {
        let server = try await TestHTTPServer.start()
        Fixture.serveSite(on: server, pages: 1)
        server.serve("/broken.xml", body: "this is <not a feed")
        server.serve("/big-page-feed.xml", body: Fixture.rss([(id: "big", link: "/big.html")]))
        server.serve("/big.html", body: String(repeating: "x", count: 2 << 20))
        let urls = ["/missing.xml", "/broken.xml", "/big-page-feed.xml", "/feed.xml"].map(server.url)
        let node = try await TestNode.start(feeds: urls, limits: FetchLimits(maxBodyBytes: 1 << 20, totalTimeout: 20))

        let feeds = try await node.poll()
        let byPath = Dictionary(uniqueKeysWithValues: feeds.map { (URL(string: $0.url)!.path, $0) })
        #expect(byPath["/missing.xml"]?.lastResult == "error")
        #expect(byPath["/missing.xml"]?.lastError?.contains("404") == true)
        #expect(byPath["/broken.xml"]?.lastResult == "error")
        #expect(byPath["/broken.xml"]?.lastError?.contains("not a feed") == true)
        #expect(byPath["/big-page-feed.xml"]?.lastResult == "error")
        #expect(byPath["/big-page-feed.xml"]?.lastError?.contains("limit") == true)
        #expect(byPath["/feed.xml"]?.lastResult == "ok")
        #expect(byPath["/missing.xml"]?.errorCount == 1)

        // The daemon is still up, reports the same, and keeps polling: the errors count up, the good feed stays good.
        let again = try await node.poll()
        #expect(again.filter { $0.lastResult == "error" }.count == 3)
        #expect(again.first { $0.url.hasSuffix("/missing.xml") }?.errorCount == 2)
        let status = try await node.status()
        #expect(status.feeds.count == 4)
        // The good feed's page and document, and, once each however often polled, the documents that a
        // broken feed and the feed with a too large page served: what a server said is evidence.
        #expect(status.counts.captures == 4)
        #expect(try ArchiveFile(path: node.archivePath).count("capture") == 4)

        try await node.stop()
        await server.stop()
    }
}

@Suite(.timeLimit(.minutes(5))) struct ActivityTests {
    @Test func statusSaysWhatTheDaemonIsDoing() async throws {
        let server = try await TestHTTPServer.start()
        let (arrived, arrival) = AsyncStream<Void>.makeStream()
        let (released, release) = AsyncStream<Void>.makeStream()
        let body = Fixture.rss([])
        server.route("/held.xml") { _ in
            arrival.yield()
            for await _ in released { break }
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: body)))
        }
        let node = try await TestNode.start(feeds: [server.url("/held.xml")])
        #expect(try await node.status().activity == "idle")
        let poll = Task { try await node.poll() }
        for await _ in arrived { break }
        #expect(try await node.status().activity == "polling 1 feed")
        release.yield()
        _ = try await poll.value
        #expect(try await node.status().activity == "idle")
        try await node.stop()
        await server.stop()
    }
}
