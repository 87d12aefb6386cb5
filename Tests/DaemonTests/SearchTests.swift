import Foundation
import NewsCore
import NewsdTesting
import Testing

/// `newsctl search`, run as the real binary.
@Suite(.timeLimit(.minutes(5))) struct SearchTests {
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
            // A query newsd refuses answers with an error and no hits; anything else must decode.
            guard result.status == 0 else { return (result, []) }
            return (result, try JSONCoding.decoder().decode([SearchHit].self, from: Data(result.stdout.utf8)))
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

        // Tags narrow the search; a hidden article leaves it (and the article list) unless asked for.
        let socket = ["--socket", node.config.controlSocket.path]
        let market = server.url("/a/2.html").absoluteString
        let tagged = try await runCommand(newsctl, ["tag", market, "verified", "economy"] + socket)
        #expect(tagged.stdout == "tags    economy, verified\n")
        let (_, verified) = try await search("road", "--tag", "verified")
        #expect(verified.map(\.title) == ["Market reopens"])
        let hidden = try await runCommand(newsctl, ["hide", market] + socket)
        #expect(hidden.status == 0 && hidden.stdout.hasPrefix("hidden\n"), "\(hidden.stderr)")
        let (_, withoutHidden) = try await search("road")
        #expect(withoutHidden.map(\.title) == ["Floods in the valley"])
        let (_, withHidden) = try await search("road", "--hidden")
        #expect(withHidden.count == 2)
        let listed = try await runCommand(newsctl, ["articles", "list"] + socket)
        #expect(!listed.stdout.contains(market) && listed.stdout.contains(server.url("/a/0.html").absoluteString))
        let shown = try await runCommand(newsctl, ["show", market] + socket)
        #expect(shown.stdout.contains("hidden\ntags    economy, verified\n"))
        let badTag = try await runCommand(newsctl, ["tag", market, "two words"] + socket)
        #expect(badTag.status == 1 && badTag.stderr.hasPrefix("newsctl: a tag is 1 to 64 characters"), "\(badTag.stderr)")

        let (malformed, _) = try await search("\"unclosed")
        #expect(malformed.status == 1)
        #expect(malformed.stderr.hasPrefix("newsctl: cannot read the query"))
        let human = try await runCommand(newsctl, ["search", "xylophone", "--socket", node.config.controlSocket.path])
        #expect(human.stdout == "no matches\n")
        try await node.stop()
        await server.stop()
    }
}

/// `newsctl stories`, run as the real binary.
@Suite(.timeLimit(.minutes(5))) struct StoriesCommandTests {
    @Test func copiesOfAReportOnTwoSitesAreOneStory() async throws {
        let newsctl = try #require(builtExecutable("newsctl"))
        let server = try await TestHTTPServer.start()
        let report = [
            "Heavy rain cut the only road into the valley on Friday, leaving three villages without fresh supplies.",
            "Engineers said the water would take at least four days to recede and that the bridge would stay closed.",
            "Residents said bread and fuel were already running short in the upper villages by Friday evening.",
        ]
        server.serve("/wire/floods.html", body: Fixture.page("Floods cut valley road", paragraphs: report))
        server.serve(
            "/local/floods-copy.html",
            body: Fixture.page("Valley road cut by floods", paragraphs: report + ["Reporting by staff."]))
        server.serve(
            "/local/market.html",
            body: Fixture.page("Market reopens", paragraphs: ["Traders returned to the market on the river road."]))
        server.serve("/wire.xml", body: Fixture.rss([(id: "w", link: "/wire/floods.html")]))
        server.serve(
            "/local.xml", body: Fixture.rss([(id: "c", link: "/local/floods-copy.html"), (id: "m", link: "/local/market.html")]))
        let node = try await TestNode.start(feeds: [server.url("/wire.xml"), server.url("/local.xml")])
        _ = try await node.poll()
        let result = try await runCommand(newsctl, ["stories", "--json", "--socket", node.config.controlSocket.path])
        #expect(result.status == 0, "\(result.stderr)")
        let stories = try JSONCoding.decoder().decode([Story].self, from: Data(result.stdout.utf8))
        #expect(stories.count == 1)
        #expect(
            Set(stories.first?.members.compactMap(\.articleURL) ?? []) == [
                server.url("/wire/floods.html").absoluteString, server.url("/local/floods-copy.html").absoluteString,
            ])
        let all = try await runCommand(newsctl, ["stories", "--all", "--json", "--socket", node.config.controlSocket.path])
        #expect(try JSONCoding.decoder().decode([Story].self, from: Data(all.stdout.utf8)).count == 2)

        // Search within the story: "road" is in all three texts, two of them in the story.
        let story = try #require(stories.first?.id)
        let within = try await runCommand(
            newsctl,
            ["search", "road", "--story", String(story.prefix(12)), "--json", "--socket", node.config.controlSocket.path])
        #expect(within.status == 0, "\(within.stderr)")
        let hits = try JSONCoding.decoder().decode([SearchHit].self, from: Data(within.stdout.utf8))
        #expect(Set(hits.map(\.articleURL)) == Set(stories.first?.members.compactMap(\.articleURL) ?? []))
        let everywhere = try await runCommand(newsctl, ["search", "road", "--json", "--socket", node.config.controlSocket.path])
        #expect(try JSONCoding.decoder().decode([SearchHit].self, from: Data(everywhere.stdout.utf8)).count == 3)
        let bad = try await runCommand(newsctl, ["search", "road", "--story", "xyz", "--socket", node.config.controlSocket.path])
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("is not a story id"))
        try await node.stop()
        await server.stop()
    }
}
