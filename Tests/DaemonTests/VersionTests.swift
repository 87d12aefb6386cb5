import Foundation
import Hummingbird
import NewsCore
import NewsdTesting
import Testing

/// An article edited after it was archived: a new capture and a new version, the old kept.
@Suite(.timeLimit(.minutes(5))) struct VersionTests {
    @Test func anEditedArticleGetsANewVersionAndShowAndDiffTellWhatChanged() async throws {
        let newsctl = try #require(builtExecutable("newsctl"))
        let server = try await TestHTTPServer.start()
        func publish(_ version: Int, headline: String, paragraphs: [String]) {
            let feed = """
                <rss version="2.0"><channel><title>Edits</title><item><title>\(headline)</title><link>/story.html</link>
                <guid>story</guid><pubDate>Sun, 22 Nov 2026 10:00:00 GMT</pubDate></item></channel></rss>
                """
            server.serve("/feed.xml", body: feed, headers: [.eTag: "\"feed-\(version)\""])
            server.serve(
                "/story.html", body: Fixture.page(headline, paragraphs: paragraphs), headers: [.eTag: "\"page-\(version)\""])
        }
        publish(
            1, headline: "Four killed in shelling", paragraphs: ["Four people were killed when shells hit the market on Sunday."])
        let node = try await TestNode.start(feeds: [server.url("/feed.xml")])
        _ = try await node.poll()
        // The same entry, re-polled with nothing changed: no refetch of the page.
        _ = try await node.poll()
        #expect(server.hitCount("/story.html") == 1)

        publish(
            2, headline: "Six killed in shelling", paragraphs: ["Six people were killed when shells hit the market on Sunday."])
        _ = try await node.poll()
        #expect(server.hitCount("/story.html") == 2)

        let socket = node.config.controlSocket.path
        let url = server.url("/story.html").absoluteString
        let show = try await runCommand(newsctl, ["show", url, "--json", "--socket", socket])
        #expect(show.status == 0, "\(show.stderr)")
        let detail = try JSONCoding.decoder().decode(ArticleDetail.self, from: Data(show.stdout.utf8))
        #expect(detail.captures.count == 2)
        #expect(detail.versions.map(\.title) == ["Four killed in shelling", "Six killed in shelling"])
        #expect(detail.feeds == [server.url("/feed.xml").absoluteString])

        let human = try await runCommand(newsctl, ["show", String(detail.id.prefix(10)), "--socket", socket])
        #expect(human.stdout.contains("2 captures, 2 versions of the text"))
        #expect(human.stdout.contains("Six people were killed"))

        let diff = try await runCommand(newsctl, ["diff", url, "--socket", socket])
        #expect(diff.status == 0, "\(diff.stderr)")
        #expect(diff.stdout.contains("[-Four-] {+Six+} killed in shelling"))
        #expect(diff.stdout.contains("[-Four-] {+Six+} people were killed"))

        // The same through `newsctl articles`: the list, and show and diff under it.
        let list = try await runCommand(newsctl, ["articles", "list", "--json", "--socket", socket])
        #expect(list.status == 0, "\(list.stderr)")
        let articles = try JSONCoding.decoder().decode([ArticleSummary].self, from: Data(list.stdout.utf8))
        #expect(articles.map(\.url) == [url])
        #expect(articles.first?.title == "Six killed in shelling")
        #expect(articles.first?.captures == 2 && articles.first?.versions == 2)
        let listed = try await runCommand(newsctl, ["articles", "--socket", socket])
        #expect(listed.stdout.contains("Six killed in shelling") && listed.stdout.contains("2 captures, 2 versions"))
        let none = try await runCommand(newsctl, ["articles", "list", "--since", "2099-01-01", "--socket", socket])
        #expect(none.stdout == "no articles\n")
        #expect(try await runCommand(newsctl, ["articles", "show", url, "--socket", socket]).stdout.contains("Six people"))
        #expect(try await runCommand(newsctl, ["articles", "diff", url, "--socket", socket]).stdout.contains("{+Six+}"))

        let missing = try await runCommand(newsctl, ["show", "https://nowhere.example/x", "--socket", socket])
        #expect(missing.status == 1)
        #expect(missing.stderr == "newsctl: no article https://nowhere.example/x\n")
        try await node.stop()
        await server.stop()
    }

    @Test func aChangedPageWithTheSameTextIsANewCaptureButNotANewVersion() async throws {
        let server = try await TestHTTPServer.start()
        func publish(_ version: Int, footer: String) {
            let feed = """
                <rss version="2.0"><channel><title>Edits</title><item><title>Talks resume</title><link>/story.html</link>
                <guid>story</guid><description>Revision \(version)</description></item></channel></rss>
                """
            server.serve("/feed.xml", body: feed, headers: [.eTag: "\"feed-\(version)\""])
            // The same article; only the page's chrome (a footer the extractor leaves out) differs.
            let page = Fixture.page("Talks resume", paragraphs: ["Negotiators met again in Amman on Monday morning."])
                .replacingOccurrences(of: "© Test site", with: footer)
            server.serve("/story.html", body: page, headers: [.eTag: "\"page-\(version)\""])
        }
        publish(1, footer: "© Test site 2025")
        let node = try await TestNode.start(feeds: [server.url("/feed.xml")])
        _ = try await node.poll()
        publish(2, footer: "© Test site 2026")
        _ = try await node.poll()
        #expect(server.hitCount("/story.html") == 2)
        let newsctl = try #require(builtExecutable("newsctl"))
        let show = try await runCommand(
            newsctl, ["show", server.url("/story.html").absoluteString, "--json", "--socket", node.config.controlSocket.path])
        let detail = try JSONCoding.decoder().decode(ArticleDetail.self, from: Data(show.stdout.utf8))
        #expect(detail.captures.count == 2)
        #expect(Set(detail.captures.map(\.blobHash)).count == 2, "two different pages")
        #expect(detail.versions.count == 1, "one text")
        try await node.stop()
        await server.stop()
    }

    @Test func wordDiff() {
        let changes = WordDiff.changes(from: "the rebels took the town", to: "the opposition fighters took the old town")
        #expect(WordDiff.render(changes) == "the [-rebels-] {+opposition fighters+} took the {+old+} town")
        #expect(WordDiff.changes(from: "same", to: "same") == [.same("same")])
        #expect(WordDiff.render(WordDiff.changes(from: "", to: "new text")) == "{+new text+}")
        // The title and the paragraphs stay on lines of their own.
        let paragraphs = WordDiff.changes(
            from: "Four killed\nShells hit the market.\n\nThe council met.",
            to: "Six killed\nShells hit the market.\n\nThe council met late.")
        #expect(
            WordDiff.render(paragraphs)
                == "[-Four-] {+Six+} killed\nShells hit the market.\n\nThe council [-met.-] {+met late.+}",
            "\(WordDiff.render(paragraphs))")
    }
}
