import Feeds
import Foundation
import Testing

/// One fixture per kind of feed that other parsers read and newsd once did not.
@Suite struct FeedConformanceTests {
    private func parse(_ name: String, at url: String) throws -> ParsedFeed {
        let data = try Data(
            contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/\(name)"))
        return try FeedParser.parse(data, url: URL(string: url)!)
    }

    @Test func aPermalinkGuidOrAnAtomStyleLinkIsTheArticlesLink() throws {
        let feed = try parse("guid-links.xml", at: "https://guid.example/rss")
        #expect(
            feed.entries.map(\.link?.absoluteString) == [
                "https://guid.example/2026/permalink.html", "https://guid.example/2026/explicit.html", nil,
                "https://guid.example/2026/link.html", "https://guid.example/2026/href.html", nil,
            ])
        #expect(feed.entries[2].id == "https://guid.example/2026/opaque")
    }

    @Test func anAtomEntryWithoutALinkTakesItsIdWhenThatIsAURL() throws {
        let feed = try parse("atom-id-links.xml", at: "https://ids.example/feed.atom")
        #expect(
            feed.entries.map(\.link?.absoluteString) == [
                "https://ids.example/2026/a.html", "https://ids.example/2026/b.html", nil, "https://ids.example/2026/link.html",
            ])
    }

    @Test func itemsBesideOrWithoutAChannelAndUpperCaseDocumentsAreRead() throws {
        let rss090 = try parse("rss090-no-channel.xml", at: "https://rss090.example/rss")
        #expect(rss090.format == .rdf)
        #expect(rss090.entries.map(\.title) == ["RSS 0.90 item without a channel", "Second"])
        let rootItems = try parse("rss-items-in-root.xml", at: "https://rootitems.example/rss")
        #expect(rootItems.entries.map(\.link?.absoluteString) == ["https://rootitems.example/1"])
        let upper = try parse("uppercase-rss.xml", at: "https://upper.example/rss")
        #expect(upper.title == "Upper case")
        #expect(upper.entries.map(\.title) == ["Shouted item"])
        #expect(upper.entries.map(\.link?.absoluteString) == ["https://upper.example/1"])
    }

    @Test func cdfChannelsAndTheirNestedChannels() throws {
        let feed = try parse("cdf.xml", at: "https://cdf.example/channel.cdf")
        #expect(feed.format == .cdf)
        #expect(feed.title == "CDF channel")
        #expect(feed.link?.absoluteString == "https://cdf.example/")
        #expect(feed.entries.map(\.title) == ["First CDF item", "Nested item"])
        #expect(
            feed.entries.map(\.link?.absoluteString) == ["https://cdf.example/one.html", "https://cdf.example/sub/two.html"])
        #expect(feed.entries[0].updated == Date(timeIntervalSince1970: 1_795_161_600))
        #expect(feed.entries[0].summary == "What it is about")
    }

    @Test func bareAmpersandsHTMLReferencesAndDeclaredEntitiesLoseNoCharacter() throws {
        let feed = try parse("doctype-entities.xml", at: "https://entities.example/rss")
        #expect(feed.title == "Daraa & Deraa Monitor")
        #expect(feed.entries.count == 2)
        // Undeclared, external and commented-out entities stay as written; nothing is read from the DTD's URL or the file.
        #expect(feed.entries[0].title == "Tom & Jerry été — ABC AT&T &unknown; &outside; &fake;")
        #expect(feed.entries[0].link?.absoluteString == "https://entities.example/?a=1&b=2")
        #expect(feed.entries[1].title == "Fish & chips")
        #expect(try parse("billion-laughs.xml", at: "https://laughs.example/rss").entries[0].title?.count ?? 0 < 100)
    }

    @Test func base64AndEscapedAtomTextIsDecodedAndTitlesAreText() throws {
        let old = try parse("atom03-base64.xml", at: "https://atom03.example/atom")
        #expect(old.title == "Deraa and Daraa")
        #expect(old.entries.map(\.title) == ["Al-Balad under siege", "Escaped markup & more"])
        #expect(old.entries[0].content == "<p>Body</p>")
        let types = try parse("atom-text-types.xml", at: "https://types.example/atom")
        #expect(types.title == "History of the <blink> tag")
        #expect(types.entries.map(\.title) == ["Plain <b> stays", "Bold été", "Decoded title"])
    }

    @Test func titlesAreTextOnALineWithoutControlCharacters() throws {
        let document = "<rss><channel><title>Up\u{7F}da&#127;ted\u{85}news</title></channel></rss>"
        let feed = try FeedParser.parse(Data(document.utf8), url: URL(string: "https://controls.example/rss")!)
        #expect(feed.title == "Updated news")
    }

    @Test func xmlBaseOnFeedsEntriesAndLinksResolvesAsRFC3986Says() throws {
        let feed = try parse("xml-base.xml", at: "https://base.example/feeds/atom.xml")
        #expect(
            feed.entries.map(\.link?.absoluteString) == [
                "https://base.example/news/2026/one.html", "https://base.example/top.html",
                "https://elsewhere.example/a/b/?q=1#frag",
            ])
        #expect(feed.entries[0].enclosures.map(\.absoluteString) == ["https://base.example/news/2026/media/one.mp3"])
    }
}
