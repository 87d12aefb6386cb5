import Foundation
import NewsCore
import NewsdTesting
import Testing

/// Silent edits: a page changed while its feed entry stayed the same is caught by the revisit schedule, stored as a new
/// capture and version, and listed by `newsctl edits` with its word diff; revisits stay within their daily budget.
@Suite(.timeLimit(.minutes(5))) struct RevisitTests {
    @Test func aHeadlineChangedAndAParagraphRemovedWithoutAWordFromTheFeedAreCaught() async throws {
        let newsctl = try #require(builtExecutable("newsctl"))
        let server = try await TestHTTPServer.start()
        Fixture.serveSite(on: server, pages: 2)
        // Two revisits, both due at once: the schedule counts from the first capture.
        let node = try await TestNode.start(feeds: [server.url("/feed.xml")]) { $0.revisitAfter = [0, 0] }
        let socket = node.config.controlSocket.path
        // Polling one feed stores its articles; polling them all (newsctl poll) also revisits those due.
        let polled = try await runCommand(newsctl, ["poll", server.url("/feed.xml").absoluteString, "--socket", socket])
        #expect(polled.status == 0, "\(polled.stderr)")
        #expect(try await node.status().revisits?.waiting == 2)

        // The site edits story 1 in place: a new headline, its second paragraph gone; the feed says nothing (304).
        server.serve(
            "/a/1.html", body: Fixture.page("Story 1: toll revised", paragraphs: ["Paragraph one of story 1."]),
            headers: [.contentType: "text/html; charset=utf-8"])
        _ = try await node.poll()
        let first = try #require(try await node.status().revisits)
        #expect(first.requestsToday == 2 && first.changedToday == 1 && first.waiting == 2)

        let listed = try await runCommand(newsctl, ["edits", "--json", "--socket", socket])
        #expect(listed.status == 0, "\(listed.stderr)")
        let edits = try JSONCoding.decoder().decode([ArticleEdits].self, from: Data(listed.stdout.utf8))
        let edited = try #require(edits.first)
        #expect(edits.count == 1 && edited.url == server.url("/a/1.html").absoluteString)
        let change = try #require(edited.changes.first)
        #expect(edited.changes.count == 1 && change.from == 1 && change.to == 2 && change.titleChanged)
        func runs(_ open: String, _ close: String) -> String {
            change.diff.components(separatedBy: open).dropFirst().compactMap { $0.components(separatedBy: close).first }
                .joined(separator: " ")
        }
        #expect(runs("{+", "+}").contains("toll revised"), "\(change.diff)")
        #expect(runs("[-", "-]").contains("Paragraph two"), "\(change.diff)")
        let text = try await runCommand(newsctl, ["edits", "--socket", socket])
        #expect(text.stdout.contains("(headline changed)") && text.stdout.contains("version 1 → 2"), "\(text.stdout)")
        let later = try await runCommand(newsctl, ["edits", "--since", "2999-01-01", "--socket", socket])
        #expect(later.stdout.contains("no article changed"))

        // The second revisit finds both pages as they are: nothing new, and nothing left to revisit.
        _ = try await node.poll()
        let second = try #require(try await node.status().revisits)
        #expect(second.requestsToday == 4 && second.changedToday == 1 && second.waiting == 0)
        #expect(server.hitCount("/a/1.html") == 3 && server.hitCount("/a/2.html") == 3)
        try await node.stop()
        await server.stop()
    }

    @Test func revisitsStayWithinTheDailyBudget() async throws {
        let server = try await TestHTTPServer.start()
        Fixture.serveSite(on: server, pages: 3)
        let node = try await TestNode.start(feeds: [server.url("/feed.xml")]) { config in
            config.revisitAfter = [0]
            config.revisitBudget = 2
        }
        _ = try await node.poll()
        _ = try await node.poll()
        _ = try await node.poll()
        let status = try #require(try await node.status().revisits)
        #expect(status.requestsToday == 2 && status.waiting == 1, "the third waits for tomorrow")
        #expect((1...3).map { server.hitCount("/a/\($0).html") }.reduce(0, +) == 3 + 2)
        try await node.stop()
        await server.stop()
    }
}
