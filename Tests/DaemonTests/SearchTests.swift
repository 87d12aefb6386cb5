import Foundation
import NewsCore
import NewsdTesting
import Testing

/// `newsctl search`, run as the real binary.
@Suite(.timeLimit(.minutes(5))) struct SearchTests {
    @Test func variantsFindTheOtherSpellingsTheArchiveHoldsAndSayWhichTheyUsed() async throws {
        let newsctl = try #require(builtExecutable("newsctl"))
        let server = try await TestHTTPServer.start()
        let stories = [
            ("Shelling in Deraa", "Shelling hit al-Balad in Deraa overnight, residents said."),
            ("Talks in Daraa", "Elders from al-Balaad met officers in Daraa on Sunday."),
            ("Curfew in the old town", "The curfew in el-Balad was lifted, a resident of Dar'aa said."),
            ("Unrelated", "Doha hosted a meeting about trade and ports."),
        ]
        for (index, story) in stories.enumerated() {
            server.serve("/v/\(index).html", body: Fixture.page(story.0, paragraphs: [story.1]))
        }
        server.serve("/feed.xml", body: Fixture.rss((0..<stories.count).map { (id: "\($0)", link: "/v/\($0).html") }))
        let node = try await TestNode.start(feeds: [server.url("/feed.xml")])
        _ = try await node.poll()
        func search(_ arguments: String...) async throws -> (stderr: String, titles: Set<String>) {
            let result = try await runCommand(
                newsctl, ["search"] + arguments + ["--json", "--socket", node.config.controlSocket.path])
            #expect(result.status == 0, "\(result.stderr)")
            let hits = try JSONCoding.decoder().decode([SearchHit].self, from: Data(result.stdout.utf8))
            return (result.stderr, Set(hits.compactMap(\.title)))
        }
        #expect(try await search("Deraa").titles == ["Shelling in Deraa"])
        let deraa = try await search("Deraa", "--variants")
        // Dar'aa is indexed as two words: "daraa" written as two is a variant too.
        #expect(deraa.titles == ["Shelling in Deraa", "Talks in Daraa", "Curfew in the old town"])
        #expect(deraa.stderr == "variants: Deraa: daraa, dar aa\n", "a word of another length or first letter is no variant")
        // A decomposed diacritic stays in its word, as the index keeps it: "Dara\u{301}a" is one word, "daraa".
        let decomposed = try await search("Dara\u{301}a", "--variants")
        #expect(decomposed.titles == ["Shelling in Deraa", "Talks in Daraa", "Curfew in the old town"], "\(decomposed)")
        let balad = try await search("al-Balad", "--variants")
        #expect(balad.titles == ["Shelling in Deraa", "Talks in Daraa", "Curfew in the old town"])
        #expect(balad.stderr == "variants: Balad: balaad\n")
        let none = try await search("Doha", "--variants")
        #expect(none.titles == ["Unrelated"] && none.stderr == "variants: no other spellings in the archive\n")
        try await node.stop()
        await server.stop()
    }

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
        #expect(malformed.stderr == "newsctl: the query has a \" that is not closed: \"unclosed\n")
        let (dangling, _) = try await search("road AND")
        #expect(dangling.status == 1)
        #expect(
            dangling.stderr
                == "newsctl: cannot read the query \"road AND\": check its quotes, parentheses and operators (AND, OR, NOT, NEAR)\n"
        )
        let human = try await runCommand(newsctl, ["search", "xylophone", "--socket", node.config.controlSocket.path])
        #expect(human.stdout == "no matches\n")
        try await node.stop()
        await server.stop()
    }
}

/// The words researchers type, punctuation and all.
@Suite(.timeLimit(.minutes(5))) struct SearchWordsTests {
    @Test func wordsWithPunctuationFindWhatTheySayAndOperatorsStillWork() async throws {
        let newsctl = try #require(builtExecutable("newsctl"))
        let server = try await TestHTTPServer.start()
        let stories = [
            ("Old town shelled", "Shelling hit al-Balad, the old town, as Assad's forces advanced on Tuesday."),
            ("Prices", "Bread prices rose 70% since the U.S. sanctions, traders said."),
            ("Anniversary", "Twenty-five years after 9/11, the memorial drew thousands."),
        ]
        for (index, story) in stories.enumerated() {
            server.serve("/p/\(index).html", body: Fixture.page(story.0, paragraphs: [story.1]))
        }
        server.serve("/feed.xml", body: Fixture.rss(stories.indices.map { (id: "\($0)", link: "/p/\($0).html") }))
        let node = try await TestNode.start(feeds: [server.url("/feed.xml")])
        _ = try await node.poll()
        func titles(_ query: String) async throws -> [String?] {
            let result = try await runCommand(
                newsctl, ["search", query, "--json", "--socket", node.config.controlSocket.path])
            #expect(result.status == 0, "\(query): \(result.stderr)")
            guard result.status == 0 else { return [] }
            return try JSONCoding.decoder().decode([SearchHit].self, from: Data(result.stdout.utf8)).map(\.title)
        }
        #expect(try await titles("al-Balad") == ["Old town shelled"])
        #expect(try await titles("Assad's forces") == ["Old town shelled"])
        #expect(try await titles("70%") == ["Prices"])
        #expect(try await titles("U.S.") == ["Prices"])
        #expect(try await titles("9/11") == ["Anniversary"])
        #expect(try await titles("title:prices") == ["Prices"])
        // Operators written as operators still are.
        #expect(try await titles("bread OR memorial").count == 2)
        #expect(try await titles("prices NOT bread").isEmpty)
        #expect(try await titles("NEAR(shelling town, 5)") == ["Old town shelled"])
        #expect(try await titles("memor*") == ["Anniversary"])
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
        let result = try await runCommand(
            newsctl, ["stories", "--copies", "--json", "--socket", node.config.controlSocket.path])
        #expect(result.status == 0, "\(result.stderr)")
        let stories = try JSONCoding.decoder().decode([Story].self, from: Data(result.stdout.utf8))
        #expect(stories.count == 1)
        #expect(
            Set(stories.first?.members.compactMap(\.articleURL) ?? []) == [
                server.url("/wire/floods.html").absoluteString, server.url("/local/floods-copy.html").absoluteString,
            ])
        let all = try await runCommand(
            newsctl, ["stories", "--copies", "--all", "--json", "--socket", node.config.controlSocket.path])
        #expect(try JSONCoding.decoder().decode([Story].self, from: Data(all.stdout.utf8)).count == 2)

        // The copies are one event, holding that one copy group; the market report is an event of its own.
        let listed = try await runCommand(newsctl, ["stories", "--json", "--socket", node.config.controlSocket.path])
        #expect(listed.status == 0, "\(listed.stderr)")
        let events = try JSONCoding.decoder().decode([Event].self, from: Data(listed.stdout.utf8))
        #expect(events.count == 1)
        #expect(events.first?.stories.map(\.id) == stories.map(\.id))
        #expect(events.first?.size == 2 && events.first?.sources == ["127.0.0.1"])
        let timeline = try await runCommand(
            newsctl, ["story", String(events.first?.id.prefix(10) ?? ""), "--socket", node.config.controlSocket.path])
        #expect(timeline.status == 0, "\(timeline.stderr)")
        #expect(timeline.stdout.contains(server.url("/local/floods-copy.html").absoluteString))
        #expect(timeline.stdout.contains("[A]") && !timeline.stdout.contains("[B]"))
        let unknown = try await runCommand(newsctl, ["story", "00000000", "--socket", node.config.controlSocket.path])
        #expect(unknown.status != 0 && unknown.stderr.contains("no event has the id 00000000"))

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

        // Within the event, the same two; a WARC export of the event holds their two captures.
        let event = try #require(events.first?.id)
        let inEvent = try await runCommand(
            newsctl,
            ["search", "road", "--event", String(event.prefix(12)), "--json", "--socket", node.config.controlSocket.path])
        #expect(inEvent.status == 0, "\(inEvent.stderr)")
        #expect(
            Set(try JSONCoding.decoder().decode([SearchHit].self, from: Data(inEvent.stdout.utf8)).map(\.articleURL))
                == Set(hits.map(\.articleURL)))
        let badEvent = try await runCommand(
            newsctl, ["search", "road", "--event", "xyz", "--socket", node.config.controlSocket.path])
        #expect(badEvent.status == 1 && badEvent.stderr.contains("is not an event id"))
        let warc = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: warc) }
        let exported = try await runCommand(
            newsctl,
            [
                "export", "--warc", warc.appendingPathComponent("event.warc").path, "--event", String(event.prefix(12)),
                "--socket", node.config.controlSocket.path,
            ])
        #expect(exported.status == 0, "\(exported.stderr)")
        let records =
            try String(contentsOf: warc.appendingPathComponent("event.warc"), encoding: .utf8)
            .components(separatedBy: "WARC-Type: response").count - 1
        #expect(records == 2)
        try await node.stop()
        await server.stop()
    }
}
