import Foundation
import NewsCore
import NewsdTesting
import Testing

/// `newsctl search`, run as the real binary.
@Suite struct SearchTests {
    @Test func phrasesPrefixesFiltersAndMalformedQueries() async throws {
        let newsctl = try #require(builtExecutable("newsctl"))
        let server = try await TestHTTPServer.start()
        let stories = [
            ("Floods in the valley", "Heavy floods cut the valley road on Friday, and the river kept rising."),
            ("Ceasefire talks resume", "Negotiators said the ceasefire talks would resume in Zürich next week."),
            ("Market reopens", "Traders returned to the market after the road was cleared."),
        ]
        for (index, story) in stories.enumerated() {
            server.serve("/a/\(index).html", body: Fixture.page(story.0, paragraphs: [story.1]))
        }
        server.serve("/news.xml", body: Fixture.rss([(id: "0", link: "/a/0.html"), (id: "1", link: "/a/1.html")]))
        server.serve("/other.xml", body: Fixture.rss([(id: "2", link: "/a/2.html")]))
        let node = try await TestNode.start(feeds: [server.url("/news.xml"), server.url("/other.xml")])
        _ = try await node.poll()
        func search(_ arguments: String...) async throws -> (CommandResult, [SearchHit]) {
            let result = try await runCommand(
                newsctl, ["search"] + arguments + ["--json", "--socket", node.config.controlSocket.path])
            let hits = (try? JSONCoding.decoder().decode([SearchHit].self, from: Data(result.stdout.utf8))) ?? []
            return (result, hits)
        }

        let (_, prefix) = try await search("flood*")
        #expect(prefix.map(\.title) == ["Floods in the valley"])
        #expect(prefix.first?.snippet.contains("[Floods]") == true || prefix.first?.snippet.contains("[floods]") == true)
        let (_, phrase) = try await search("\"ceasefire talks\"")
        #expect(phrase.map(\.articleURL) == [server.url("/a/1.html").absoluteString])
        let (_, folded) = try await search("zurich")
        #expect(folded.count == 1, "diacritics are folded")
        let (_, road) = try await search("road")
        #expect(road.count == 2)
        let (_, fromOther) = try await search("road", "--feed", server.url("/other.xml").absoluteString)
        #expect(fromOther.map(\.title) == ["Market reopens"])
        let (_, future) = try await search("road", "--since", "2999-01-01")
        #expect(future.isEmpty)

        let (malformed, _) = try await search("\"unclosed")
        #expect(malformed.status == 1)
        #expect(malformed.stderr.hasPrefix("newsctl: cannot read the query"))
        let human = try await runCommand(newsctl, ["search", "xylophone", "--socket", node.config.controlSocket.path])
        #expect(human.stdout == "no matches\n")
        try await node.stop()
        await server.stop()
    }
}
