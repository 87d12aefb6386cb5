import Feeds
import Foundation
import Testing

private func fixture(_ name: String) throws -> Data {
    try Data(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/\(name)"))
}

@Suite struct FeedParserTests {
    @Test func rss2EntriesWithRelativeLinksDatesAndIdentity() throws {
        let feed = try FeedParser.parse(try fixture("rss2.xml"), url: URL(string: "https://news.example/feeds/main.xml")!)
        #expect(feed.format == .rss)
        #expect(feed.title == "Fixture & Co")
        #expect(feed.warnings == 0)
        #expect(feed.entries.count == 3)
        let first = feed.entries[0]
        #expect(first.id == "urn:fixture:1")
        #expect(first.link?.absoluteString == "https://news.example/2026/11/first.html")
        #expect(first.published == Date(timeIntervalSince1970: 1_795_338_900))
        #expect(first.author == "A. Writer")
        #expect(first.summary == "<p>Summary <b>one</b></p>")
        #expect(first.content == "<p>Full text one</p>")
        // No guid: the link is the identity. Two-digit year and missing seconds are tolerated.
        #expect(feed.entries[1].id == "https://news.example/2026/11/second.html")
        #expect(feed.entries[1].published == Date(timeIntervalSince1970: 1_795_338_000))
        // Neither: a stable hash of title and date.
        #expect(feed.entries[2].id.hasPrefix("sha256:"))
        #expect(feed.entries[2].link == nil)
    }

    /// An empty or blank declared identity is none: the entry is known by its link, or its title and date.
    @Test func anEmptyGuidOrIdIsNoIdentity() throws {
        let rss = """
            <rss version="2.0"><channel><title>T</title>
            <item><title>One</title><guid></guid></item>
            <item><title>Two</title><guid>  </guid><link>https://example.org/two</link></item>
            <item rdf:about=""><title>Three</title></item>
            </channel></rss>
            """
        let atom = """
            <feed xmlns="http://www.w3.org/2005/Atom"><title>T</title>
            <entry><id></id><title>Four</title></entry><entry><id> </id><title>Five</title></entry></feed>
            """
        // An RDF item whose rdf:about starts with NUL bytes (libxml2 reads it as empty), as a fuzzer found.
        let rdf = """
            <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/">
            <channel rdf:about="https://rdf.example/"><title>R</title></channel>
            <item rdf:about="\u{0}\u{0}https://rdf.example/1"><title>Six</title></item></rdf:RDF>
            """
        let url = URL(string: "https://example.org/feed.xml")!
        let entries =
            try FeedParser.parse(Data(rss.utf8), url: url).entries + FeedParser.parse(Data(atom.utf8), url: url).entries
            + FeedParser.parse(Data(rdf.utf8), url: url).entries
        #expect(entries.count == 6)
        #expect(entries.allSatisfy { !$0.id.trimmingCharacters(in: .whitespaces).isEmpty })
        #expect(entries[1].id == "https://example.org/two")
        #expect(entries[0].id.hasPrefix("sha256:") && entries[3].id.hasPrefix("sha256:"))
    }

    @Test func atomResolvesXMLBaseAndPrefersAlternateLinks() throws {
        let feed = try FeedParser.parse(try fixture("atom.xml"), url: URL(string: "https://atom.example/feed.atom")!)
        #expect(feed.format == .atom)
        #expect(feed.entries.count == 2)
        #expect(feed.entries[0].link?.absoluteString == "https://atom.example/blog/posts/one.html")
        #expect(feed.entries[0].author == "Jo Reporter")
        #expect(feed.entries[0].published == Date(timeIntervalSince1970: 1_795_161_600))
        #expect(feed.entries[0].updated == Date(timeIntervalSince1970: 1_795_246_200.25))
        #expect(feed.entries[1].link?.absoluteString == "https://other.example/x/two.html")
        #expect(feed.entries[1].updated != nil)
    }

    @Test func malformedFeedKeepsWhatCanBeRecoveredAndSaysSo() throws {
        let feed = try FeedParser.parse(try fixture("broken.xml"), url: URL(string: "https://b.example/rss")!)
        #expect(feed.warnings > 0)
        #expect(feed.entries.map(\.link?.absoluteString).contains("https://b.example/1"))
        #expect(feed.entries.count >= 2)
    }

    @Test func billionLaughsIsNotExpanded() throws {
        let feed = try FeedParser.parse(try fixture("billion-laughs.xml"), url: URL(string: "https://laughs.example/rss")!)
        #expect(feed.entries.count == 1)
        #expect((feed.entries[0].title ?? "").count < 100)
    }

    @Test func externalEntitiesAreNeverRead() throws {
        let hostname = (try? String(contentsOfFile: "/etc/hostname", encoding: .utf8))?.trimmingCharacters(
            in: .whitespacesAndNewlines)
        let feed = try FeedParser.parse(try fixture("xxe.xml"), url: URL(string: "https://xxe.example/rss")!)
        #expect(feed.entries.count == 1)
        let title = feed.entries[0].title ?? ""
        #expect(title.hasPrefix("Leak:"))
        if let hostname, !hostname.isEmpty { #expect(!title.contains(hostname)) }
    }

    @Test(arguments: ["", "not xml at all", "<html><body>a web page</body></html>", "\u{0}\u{1}\u{2}garbage"])
    func nonFeedsAreClearErrors(_ text: String) {
        #expect(throws: FeedParseError.self) { try FeedParser.parse(Data(text.utf8), url: URL(string: "https://x.example/")!) }
    }

    @Test func datesInTheCommonForms() {
        #expect(FeedDate.parse("Sun, 22 Nov 2026 10:15:00 GMT") == Date(timeIntervalSince1970: 1_795_342_500))
        #expect(FeedDate.parse("Sun, 22 Nov 2026 05:15:00 EST") == Date(timeIntervalSince1970: 1_795_342_500))
        #expect(FeedDate.parse("2026-11-22T10:15:00Z") == Date(timeIntervalSince1970: 1_795_342_500))
        #expect(FeedDate.parse("2026-11-22T11:15:00+01:00") == Date(timeIntervalSince1970: 1_795_342_500))
        #expect(FeedDate.parse("2026-11-22 10:15:00") == Date(timeIntervalSince1970: 1_795_342_500))
        #expect(FeedDate.parse("2026-11-22t10:15:00.250z") == Date(timeIntervalSince1970: 1_795_342_500.25))
        #expect(FeedDate.parse("2026-11-22T10:15:00+0100") == Date(timeIntervalSince1970: 1_795_338_900))
        #expect(FeedDate.parse("2026-11-22") == Date(timeIntervalSince1970: 1_795_305_600))
        #expect(FeedDate.parse("sun, 22 nov 2026 10:15 +0000") == Date(timeIntervalSince1970: 1_795_342_500))
        #expect(FeedDate.parse("22 November 2026 10:15:00 UT") == Date(timeIntervalSince1970: 1_795_342_500))
        #expect(FeedDate.parse("1999-02-30T00:00:00Z") != nil, "lenient about day overflow, as browsers are")
        #expect(FeedDate.parse("2026-13-01T00:00:00Z") == nil)
        #expect(FeedDate.parse("yesterday") == nil)
        #expect(FeedDate.parse("") == nil)
    }
}

@Suite struct FeedFormatsTests {
    @Test func jsonFeedOneAndOnePointOne() throws {
        let feed = try FeedParser.parse(try fixture("jsonfeed.json"), url: URL(string: "https://json.example/feed.json")!)
        #expect(feed.format == .json)
        #expect(feed.title == "JSON fixture")
        #expect(feed.entries.map(\.id).prefix(2) == ["1", "2"])
        #expect(feed.entries[0].link?.absoluteString == "https://json.example/posts/1")
        #expect(feed.entries[0].author == "Ana")
        #expect(feed.entries[0].content == "<p>Hi</p>")
        #expect(feed.entries[0].enclosures.map(\.absoluteString) == ["https://json.example/1.jpg"])
        #expect(feed.entries[1].link?.absoluteString == "https://elsewhere.example/2")
        #expect(feed.entries[2].id.hasPrefix("sha256:"))
        #expect(feed.entries[2].published == Date(timeIntervalSince1970: 1_795_244_400))
        #expect(throws: FeedParseError.self) { try FeedParser.parse(Data(#"{"a": 1}"#.utf8), url: URL(string: "https://x/")!) }
    }

    /// JSON allows DEL raw and any control character escaped; a JSON Feed's titles are text like any other format's.
    @Test func jsonFeedTitlesAreTextWithoutControlCharactersOrRunsOfSpace() throws {
        let json = """
            {"version": "https://jsonfeed.org/version/1.1", "title": "  Feed\\u0007  of\\t\\tnews ",
             "items": [{"id": "1", "url": "/a", "title": "O\u{7F}\u{7F}\u{7F}ne\\u0001 two\\u0085"},
                       {"id": "2", "url": "/b", "title": " \\u0000 \u{7F} "}]}
            """
        let feed = try FeedParser.parse(Data(json.utf8), url: URL(string: "https://json.example/feed.json")!)
        #expect(feed.title == "Feed of news")
        #expect(feed.entries.map(\.title) == ["One two", nil])
    }

    @Test func rss091MislabelledLatin1IsReadAsWindows1252WithScheduleHints() throws {
        let feed = try FeedParser.parse(try fixture("rss091-latin1.xml"), url: URL(string: "http://latin.example/rss")!)
        #expect(feed.title == "Café news")
        #expect(feed.entries.first?.title == "\u{201C}Quoted\u{201D} café")
        #expect(feed.ttl == 90)
        #expect(feed.skipHours == [0, 1])
        #expect(feed.skipDays == ["sunday"])
    }

    @Test func encodingFallbacks() throws {
        let url = URL(string: "http://u.example/rss")!
        // No declaration, not UTF-8: windows-1252.
        let cp1252 = try FeedParser.parse(try fixture("undeclared-cp1252.xml"), url: url)
        #expect(cp1252.entries.first?.title == "Résumé")
        // No declaration, a charset header naming latin1, bytes that are UTF-8: the header is wrong.
        let mislabelled = try FeedParser.parse(
            try fixture("utf8-undeclared.xml"), url: url, contentType: "text/xml; charset=ISO-8859-1")
        #expect(mislabelled.title == "Zürich")
        // A charset header that is right is followed.
        let labelled = try FeedParser.parse(
            try fixture("undeclared-cp1252.xml"), url: url, contentType: "application/rss+xml; charset=\"windows-1252\"")
        #expect(labelled.title == "Naïve")
    }

    @Test func rss10RDF() throws {
        let feed = try FeedParser.parse(try fixture("rss10.rdf"), url: URL(string: "https://rdf.example/rss")!)
        #expect(feed.format == .rdf)
        #expect(feed.title == "RDF fixture")
        #expect(feed.entries.count == 1)
        #expect(feed.entries[0].id == "https://rdf.example/1")
        #expect(feed.entries[0].author == "R. D. F.")
        #expect(feed.entries[0].published == Date(timeIntervalSince1970: 1_795_161_600))
    }

    @Test func atom03AndMediaRSS() throws {
        let old = try FeedParser.parse(try fixture("media-atom03.xml"), url: URL(string: "https://old.example/atom")!)
        #expect(old.format == .atom)
        #expect(old.entries.first?.link?.absoluteString == "https://old.example/e1")
        #expect(old.entries.first?.published == Date(timeIntervalSince1970: 1_117_620_000))
        #expect(old.entries.first?.updated == Date(timeIntervalSince1970: 1_117_706_400))
        let media = try FeedParser.parse(try fixture("media-rss.xml"), url: URL(string: "https://m.example/rss")!)
        #expect(media.entries.first?.published == Date(timeIntervalSince1970: 1_795_161_600))
        #expect(
            media.entries.first?.enclosures.map(\.absoluteString) == [
                "https://m.example/audio.mp3", "https://m.example/big.jpg", "https://m.example/small.jpg",
                "https://m.example/thumb.jpg",
            ])
    }
}
