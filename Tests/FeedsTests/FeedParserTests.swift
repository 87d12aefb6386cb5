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
        #expect(FeedDate.parse("yesterday") == nil)
    }
}
