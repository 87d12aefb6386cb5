import Foundation
import Hummingbird
import NewsCore
import NewsdTesting
import Synchronization
import Testing

private let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

/// Servers that misbehave on purpose: each outcome is asserted, and a good feed beside them keeps working.
@Suite(.timeLimit(.minutes(5))) struct MisbehavingServerTests {
    private func status(_ feeds: [FeedStatus], _ path: String) -> FeedStatus? {
        feeds.first { URL(string: $0.url)?.path == path }
    }

    @Test func validatorsEtagAndLastModifiedAndABogus304() async throws {
        let server = try await TestHTTPServer.start()
        Fixture.serveSite(on: server, pages: 1)
        let body = Fixture.rss([(id: "lm", link: "/a/1.html")])
        server.route("/last-modified.xml") { request in
            let stamp = "Sat, 21 Nov 2026 10:00:00 GMT"
            if request.headers[.ifModifiedSince] == stamp { return Response(status: .notModified) }
            return Response(status: .ok, headers: [.lastModified: stamp], body: .init(byteBuffer: ByteBuffer(string: body)))
        }
        server.route("/always-304.xml") { _ in Response(status: .notModified) }
        let node = try await TestNode.start(feeds: ["/feed.xml", "/last-modified.xml", "/always-304.xml"].map(server.url))
        _ = try await node.poll()
        let second = try await node.poll()
        #expect(status(second, "/feed.xml")?.lastResult == "not-modified")
        #expect(status(second, "/last-modified.xml")?.lastResult == "not-modified")
        #expect(status(second, "/always-304.xml")?.lastResult == "error")
        #expect(status(second, "/always-304.xml")?.lastError == "HTTP 304 to a request without validators")
        try await node.stop()
        await server.stop()
    }

    @Test func permanentRedirectsMoveTheFeedAndTemporaryOnesDoNot() async throws {
        let server = try await TestHTTPServer.start()
        Fixture.serveSite(on: server, pages: 1)
        server.redirect("/old.xml", to: "/feed.xml", status: .movedPermanently)
        server.redirect("/chain.xml", to: "/chain-2.xml", status: .permanentRedirect)
        server.redirect("/chain-2.xml", to: "/feed.xml", status: .movedPermanently)
        server.redirect("/temporary.xml", to: "/feed.xml", status: .found)
        server.redirect("/mixed.xml", to: "/mixed-2.xml", status: .movedPermanently)
        server.redirect("/mixed-2.xml", to: "/feed.xml", status: .temporaryRedirect)
        let node = try await TestNode.start(feeds: ["/old.xml", "/chain.xml", "/temporary.xml", "/mixed.xml"].map(server.url))
        let feeds = try await node.poll()
        #expect(feeds.allSatisfy { $0.lastResult == "ok" }, "\(feeds.map(\.lastError))")
        #expect(status(feeds, "/old.xml")?.location == server.url("/feed.xml").absoluteString)
        #expect(status(feeds, "/chain.xml")?.location == server.url("/feed.xml").absoluteString)
        #expect(status(feeds, "/temporary.xml")?.location == nil)
        #expect(status(feeds, "/mixed.xml")?.location == nil, "one temporary hop makes the move temporary")
        // The move is shown with the feed: from, to, the status that moved it, when.
        let moves = try #require(status(feeds, "/chain.xml")?.moves)
        #expect(moves.map(\.from) == [server.url("/chain.xml").absoluteString])
        #expect(moves.map(\.to) == [server.url("/feed.xml").absoluteString])
        #expect(moves.map(\.status) == [301])
        #expect(status(feeds, "/temporary.xml")?.moves == [])
        _ = try await node.poll()
        #expect(server.hitCount("/old.xml") == 1, "a moved feed is fetched at its new location")
        #expect(server.hitCount("/temporary.xml") == 2)
        try await node.stop()
        await server.stop()
    }

    @Test func aRedirectToALocalFileIsRefusedWithASentence() async throws {
        let server = try await TestHTTPServer.start()
        server.redirect("/feed.xml", to: "file:///etc/passwd", status: .found)
        let node = try await TestNode.start(feeds: [server.url("/feed.xml")])
        let feeds = try await node.poll()
        #expect(feeds.first?.lastResult == "error")
        #expect(
            feeds.first?.lastError
                == "the server redirected to a file: URL, which is not followed (only http and https redirects are)")
        #expect(try await node.status().counts.captures == 0)
        try await node.stop()
        await server.stop()
    }

    @Test func retryAfterIsObeyedAndFailuresBackOff() async throws {
        let server = try await TestHTTPServer.start()
        Fixture.serveSite(on: server, pages: 1)
        server.serve("/busy.xml", body: "slow down", status: .tooManyRequests, headers: [.retryAfter: "7200"])
        let date = "Wed, 21 Oct 2099 07:28:00 GMT"
        server.serve("/down.xml", body: "maintenance", status: .serviceUnavailable, headers: [.retryAfter: date])
        server.serve("/gone.xml", body: "oops", status: .internalServerError)
        let node = try await TestNode.start(feeds: ["/busy.xml", "/down.xml", "/gone.xml", "/feed.xml"].map(server.url))
        let before = Date()
        let feeds = try await node.poll()
        let busy = try #require(status(feeds, "/busy.xml"))
        #expect(busy.lastResult == "error")
        #expect(busy.lastError == "HTTP 429, retry after 7200 s")
        #expect(try #require(busy.nextPollAt) >= before.addingTimeInterval(7199))
        // A Retry-After far in the future is capped at a day.
        let down = try #require(status(feeds, "/down.xml"))
        #expect(try #require(down.nextPollAt) <= Date().addingTimeInterval(86401))
        #expect(try #require(down.nextPollAt) >= before.addingTimeInterval(86399))
        // A plain failure retries after about a minute, then longer: never disabled.
        let gone = try #require(status(feeds, "/gone.xml"))
        #expect(try #require(gone.nextPollAt) <= Date().addingTimeInterval(73))
        let again = try await node.poll()
        let second = try #require(status(again, "/gone.xml"))
        #expect(second.errorCount == 2)
        #expect(try #require(second.nextPollAt) >= Date().addingTimeInterval(90))
        #expect(status(again, "/feed.xml")?.lastResult == "not-modified")
        try await node.stop()
        await server.stop()
    }

    @Test func endlessHugeAndSlowBodiesStopAtTheirLimits() async throws {
        let server = try await TestHTTPServer.start()
        Fixture.serveSite(on: server, pages: 1)
        // Bounded for the test's sake: 1 GiB would take the client far past any limit.
        server.stream("/endless.xml", chunks: 16_384, chunkSize: 64 << 10)
        server.serve("/huge.xml", bytes: Data(count: 30 << 20))
        server.stream("/slow.xml", chunks: 600, chunkSize: 10, pause: .milliseconds(100))
        // The slow feed sends 100 bytes a second; three seconds below 1,000 end it, and leave a loaded machine's
        // stalls of a second or two to the others.
        let limits = FetchLimits(maxBodyBytes: 16 << 20, totalTimeout: 20, lowSpeedBytes: 1000, lowSpeedTime: 3)
        let node = try await TestNode.start(
            feeds: ["/endless.xml", "/huge.xml", "/slow.xml", "/feed.xml"].map(server.url), limits: limits)
        // Each stops at its own limit: the size cap, or the low-speed limit ("too slow", not the whole transfer's 20 s,
        // whose message is "timed out"), whatever the machine's load makes of the poll's wall time.
        let feeds = try await node.poll()
        #expect(status(feeds, "/endless.xml")?.lastError == "body larger than the 16777216-byte limit")
        #expect(status(feeds, "/huge.xml")?.lastError == "body larger than the 16777216-byte limit")
        #expect(status(feeds, "/slow.xml")?.lastError?.contains("too slow") == true)
        #expect(status(feeds, "/feed.xml")?.lastResult == "ok")
        try await node.stop()
        await server.stop()
    }

    @Test func gzipCharsetsBrokenXMLAndHostileDocuments() async throws {
        let server = try await TestHTTPServer.start()
        Fixture.serveSite(on: server, pages: 1)
        server.serve(
            "/gzip.xml", bytes: try Data(contentsOf: fixtures.appendingPathComponent("feed.xml.gz")),
            headers: [.contentEncoding: "gzip", .contentType: "application/rss+xml"])
        let utf8 =
            "<rss version=\"2.0\"><channel><title>Zürich Zeitung</title><item><title>x</title><link>/a/1.html</link></item></channel></rss>"
        server.serve("/wrong-charset.xml", body: utf8, headers: [.contentType: "application/rss+xml; charset=iso-8859-1"])
        server.serve(
            "/broken.xml",
            body: "<rss><channel><title>Broken</title><item><title>One</title><link>/a/1.html</link></item><item><title>Two")
        // The parser's hostile fixtures, their links pointed at this server (tests reach loopback only).
        func hostile(_ name: String, link: String) throws -> String {
            try String(contentsOf: fixtures.appendingPathComponent("../../FeedsTests/Fixtures/\(name)"), encoding: .utf8)
                .replacingOccurrences(of: link, with: "/a/1.html")
        }
        server.serve("/laughs.xml", body: try hostile("billion-laughs.xml", link: "https://laughs.example/1"))
        server.serve("/xxe.xml", body: try hostile("xxe.xml", link: "https://xxe.example/1"))
        let node = try await TestNode.start(
            feeds: ["/gzip.xml", "/wrong-charset.xml", "/broken.xml", "/laughs.xml", "/xxe.xml"].map(server.url))
        let feeds = try await node.poll()
        #expect(status(feeds, "/gzip.xml")?.lastResult == "ok")
        #expect(status(feeds, "/gzip.xml")?.title == "Compressed feed")
        #expect(status(feeds, "/wrong-charset.xml")?.title == "Zürich Zeitung")
        let broken = try #require(status(feeds, "/broken.xml"))
        #expect(broken.lastResult == "ok")
        #expect(broken.warnings > 0)
        #expect(status(feeds, "/laughs.xml")?.title == "Laughs")
        #expect(status(feeds, "/xxe.xml")?.title == "XXE")
        #expect(feeds.allSatisfy { $0.lastResult == "ok" }, "\(feeds.map(\.lastError))")
        // Several feeds, one article: the same URL through several feeds is one article with several
        // memberships. (libxml2 stops reading the billion-laughs item at the entity, so it yields no link.)
        #expect(try await node.status().counts.articles == 1)
        let members = feeds.filter { !$0.url.hasSuffix("/laughs.xml") }
        #expect(members.allSatisfy { $0.articles == 1 }, "\(feeds.map { ($0.url, $0.articles) })")
        try await node.stop()
        await server.stop()
    }

    @Test func connectionCapsAndPolitenessAreHonoured() async throws {
        let server = try await TestHTTPServer.start()
        for number in 1...4 {
            let body = Fixture.rss([])
            server.route("/f\(number).xml") { _ in
                try? await Task.sleep(for: .milliseconds(50))
                return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: body)))
            }
        }
        let urls = (1...4).map { server.url("/f\($0).xml") }
        let node = try await TestNode.start(feeds: urls) { config in
            config.maxPerHost = 1
            config.politeness = 0.2
        }
        let pollStarted = ContinuousClock.now
        _ = try await node.poll()
        #expect(server.mostConcurrentRequests == 1)
        let starts = (1...4).flatMap { server.arrivals("/f\($0).xml") }.sorted()
        #expect(starts.count == 4)
        // The fourth request to the host cannot leave before three politeness delays have passed.
        // (Arrival gaps themselves are not measured: a request's latency varies under load.)
        #expect(try #require(starts.last) >= pollStarted + .milliseconds(3 * 200))
        try await node.stop()
        await server.stop()
    }

    /// Polls a feed of twelve pages, each answered once `together` are asked for at the same time (or after 5 s, when
    /// they never are), on a node set up by `configure`, and checks that all were stored; returns the most requests
    /// the server had open at once.
    private func pollPagesAnsweredTogether(_ together: Int, configure: (inout NewsdConfig) -> Void) async throws -> Int {
        let server = try await TestHTTPServer.start()
        let pages = 12
        server.serve(
            "/many.xml",
            body: Fixture.rss((1...pages).map { (id: "p\($0)", link: server.url("/many/\($0).html").absoluteString) }))
        let open = Mutex(0)
        for number in 1...pages {
            server.route("/many/\(number).html") { _ in
                open.withLock { $0 += 1 }
                for _ in 0..<500 where open.withLock({ $0 }) < together { try? await Task.sleep(for: .milliseconds(10)) }
                let body = Fixture.page("Page \(number)", paragraphs: ["Text of page \(number) of the many."])
                return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: body)))
            }
        }
        let node = try await TestNode.start(feeds: [server.url("/many.xml")], configure: configure)
        let feeds = try await node.poll()
        #expect(feeds.first?.lastResult == "ok")
        #expect(try await node.status().counts.articles == pages)
        try await node.stop()
        await server.stop()
        return server.mostConcurrentRequests
    }

    @Test func aFeedsArticlesAreFetchedSideBySideUpToTheHostsCap() async throws {
        // The feed document's request came alone; its articles three at a time, never more.
        #expect(try await pollPagesAnsweredTogether(3) { $0.maxPerHost = 3 } == 3)
    }

    @Test func aFeedsArticlesAreFetchedNoMoreAtOnceThanTheConnectionCap() async throws {
        // Pages waiting to be stored do not hold a connection, but no more than the cap are ever fetched at once.
        #expect(
            try await pollPagesAnsweredTogether(2) { config in
                config.maxConnections = 2
                config.maxPerHost = 8
            } == 2)
    }

    @Test func aFeedSendsItsOwnUserAgentAndHeaders() async throws {
        let server = try await TestHTTPServer.start()
        let body = Fixture.rss([])
        // A members' feed whose articles, on the same host, want the same token; a link to another host must not get it.
        let other = try await TestHTTPServer.start()
        let members = Fixture.rss([
            (id: "m1", link: server.url("/members/1.html").absoluteString),
            (id: "m2", link: other.url("/elsewhere.html").absoluteString),
        ])
        server.route("/members/1.html") { request in
            guard request.headers[.authorization] == "Bearer token-1" else { return Response(status: .forbidden) }
            return Response(
                status: .ok, body: .init(byteBuffer: ByteBuffer(string: Fixture.page("Members", paragraphs: ["For members."]))))
        }
        other.route("/elsewhere.html") { request in
            guard request.headers[.authorization] == nil else { return Response(status: .forbidden) }
            return Response(
                status: .ok, body: .init(byteBuffer: ByteBuffer(string: Fixture.page("Elsewhere", paragraphs: ["Public."]))))
        }
        server.route("/members.xml") { request in
            guard request.headers[.userAgent] == "field-kit/2", request.headers[.authorization] == "Bearer token-1" else {
                return Response(status: .forbidden)
            }
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: members)))
        }
        server.route("/ua.xml") { request in
            request.headers[.userAgent] == "newsd-test-agent"
                ? Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: body))) : Response(status: .forbidden)
        }
        let node = try await TestNode.start(feeds: [server.url("/members.xml"), server.url("/ua.xml")]) { config in
            config.userAgent = "newsd-test-agent"
            config.feeds[0].userAgent = "field-kit/2"
            config.feeds[0].headers = ["Authorization": "Bearer token-1"]
        }
        let feeds = try await node.poll()
        #expect(feeds.map(\.lastResult) == ["ok", "ok"], "\(feeds.map(\.lastError))")
        #expect(try await node.status().counts.articles == 2)
        try await node.stop()
        await server.stop()
        await other.stop()
    }

    @Test func aFeedIsFetchedThroughItsProxy() async throws {
        // The test server plays the proxy: a host that does not exist is reachable only through it.
        let proxy = try await TestHTTPServer.start()
        proxy.serve("/feed.xml", body: Fixture.rss([]))
        let node = try await TestNode.start(feeds: [URL(string: "http://feeds.invalid/feed.xml")!]) { config in
            config.feeds[0].proxy = "http://127.0.0.1:\(proxy.port)"
        }
        let feeds = try await node.poll()
        #expect(feeds.first?.lastResult == "ok", "\(String(describing: feeds.first?.lastError))")
        #expect(proxy.hitCount("/feed.xml") == 1)
        try await node.stop()
        await proxy.stop()
    }
}
