import Feeds
import Foundation
import NewsCore
import Testing

@Suite struct OPMLTests {
    private func subscription(_ url: String, category: String?, site: String? = nil) -> OPML.Subscription {
        OPML.Subscription(
            feed: FeedConfig(url: URL(string: url)!, title: "Feed \(url.suffix(6))", category: category),
            site: site.map { URL(string: $0)! })
    }

    @Test func nestedFoldersAreNestedOutlinesOnceEachAndComeBackTheSame() throws {
        let subscriptions = [
            subscription("https://a.example/feed.xml", category: "Region/North", site: "https://a.example/"),
            subscription("https://b.example/feed.xml", category: "Region/South"),
            subscription("https://c.example/feed.xml", category: "Region"),
            subscription("https://d.example/feed.xml", category: nil, site: "https://d.example/home"),
        ]
        let document = OPML.export(subscriptions)
        // One "Region" folder holding both subfolders, not the same top-level outline twice.
        #expect(document.components(separatedBy: "<outline text=\"Region\"").count == 2)
        #expect(document.contains("htmlUrl=\"https://a.example/\""))
        let back = try OPML.parse(Data(document.utf8))
        #expect(Set(back.map(\.feed.url)) == Set(subscriptions.map(\.feed.url)))
        for original in subscriptions {
            let read = try #require(back.first { $0.feed.url == original.feed.url })
            #expect(read.feed.category == original.feed.category)
            #expect(read.site == original.site)
            #expect(read.feed.title == original.feed.title)
        }
    }

    @Test func anOPML2CategoryAttributeFilesAFeedOutsideAnyFolder() throws {
        let document = """
            <?xml version="1.0"?>
            <opml version="2.0"><head><title>Lists</title></head><body>
              <outline text="Tagged" xmlUrl="https://t.example/rss" category="/Syria/Daraa,/Other" htmlUrl="https://t.example/"/>
              <outline text="Folder">
                <outline text="In folder" xmlUrl="https://f.example/rss" category="/Ignored"/>
              </outline>
              <outline text="Bad site" xmlUrl="https://s.example/rss" htmlUrl="javascript:alert(1)"/>
            </body></opml>
            """
        let read = try OPML.parse(Data(document.utf8))
        #expect(read.map(\.feed.category) == ["Syria/Daraa", "Folder", nil])
        #expect(read.map(\.site?.absoluteString) == ["https://t.example/", nil, nil])
    }
}
