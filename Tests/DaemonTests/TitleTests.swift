import Foundation
import NewsCore
import NewsdTesting
import Testing

/// Titles of pages that have none.
@Suite(.timeLimit(.minutes(5))) struct TitleTests {
    @Test func aPageWithoutATitleTakesItsFeedItemsTitleAndOnlyNeitherIsUntitled() async throws {
        let newsctl = try #require(builtExecutable("newsctl"))
        let server = try await TestHTTPServer.start()
        server.serve(
            "/feed.xml",
            body: """
                <?xml version="1.0"?><rss version="2.0"><channel><title>Bare pages</title>
                <item><title>Curfew lifted in Daraa</title><link>\(server.url("/named.html"))</link></item>
                <item><link>\(server.url("/nameless.html"))</link></item>
                </channel></rss>
                """)
        let paragraph = "The curfew imposed on the old town was lifted on Tuesday morning, residents said by telephone."
        for path in ["/named.html", "/nameless.html"] {
            server.serve(
                path,
                body: "<html><body><div><p>\(paragraph)</p><p>\(paragraph) Shops opened again (\(path)).</p></div></body></html>")
        }
        let node = try await TestNode.start(feeds: [server.url("/feed.xml")])
        _ = try await node.poll()
        let socket = node.config.controlSocket.path
        func run(_ arguments: [String]) async throws -> Data {
            let result = try await runCommand(newsctl, arguments + ["--json", "--socket", socket])
            #expect(result.status == 0, "\(result.stderr)")
            return Data(result.stdout.utf8)
        }
        let named = try JSONCoding.decoder().decode(
            ArticleDetail.self, from: try await run(["show", server.url("/named.html").absoluteString]))
        #expect(named.versions.last?.title == nil, "the page itself has no title")
        #expect(named.entryTitle == "Curfew lifted in Daraa")
        let shown = try await runCommand(newsctl, ["show", server.url("/named.html").absoluteString, "--socket", socket])
        #expect(shown.stdout.split(separator: "\n").dropFirst().first == "Curfew lifted in Daraa")
        let articles = try JSONCoding.decoder().decode([ArticleSummary].self, from: try await run(["articles"]))
        #expect(Set(articles.map(\.title)) == ["Curfew lifted in Daraa", nil])
        let hits = try JSONCoding.decoder().decode([SearchHit].self, from: try await run(["search", "curfew"]))
        #expect(Set(hits.map(\.title)) == ["Curfew lifted in Daraa", nil])
        let nameless = try await runCommand(newsctl, ["show", server.url("/nameless.html").absoluteString, "--socket", socket])
        #expect(nameless.stdout.split(separator: "\n").dropFirst().first == "(untitled)")
        try await node.stop()
        await server.stop()
    }
}
