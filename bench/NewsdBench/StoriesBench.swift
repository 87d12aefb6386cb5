import Foundation
import NewsCore
import NewsdTesting

extension NewsdBench {
    /// Files a JSON Lines set of articles (`id`, `title`, `text`, as ECB+'s in the evaluation material) into events
    /// through a real node: each article a page behind one feed, the feed's order shuffled by `seed`; one poll. Writes
    /// `{"<article id>": "<event id>"}` to `output` for the scorer, and prints the time the poll took.
    static func stories(set: URL, output: URL, seed: UInt64) async throws {
        struct Article: Decodable {
            var id: String
            var title: String
            var text: String
        }
        let articles = try String(contentsOf: set, encoding: .utf8).split(separator: "\n").map {
            try JSONDecoder().decode(Article.self, from: Data($0.utf8))
        }
        let server = try await TestHTTPServer.start()
        defer { Task { await server.stop() } }
        for article in articles {
            server.serve(
                "/a/\(article.id).html",
                body: """
                    <html lang="en"><head><title>\(escaped(article.title))</title></head><body><article>
                    <h1>\(escaped(article.title))</h1>\(paragraphs(of: article.text).map { "<p>\(escaped($0))</p>" }.joined())
                    </article></body></html>
                    """)
        }
        var generator = SeededGenerator(seed: seed)
        let items = articles.shuffled(using: &generator).map { article in
            "<item><title>\(escaped(article.title))</title><link>\(server.url("/a/\(article.id).html"))</link></item>"
        }
        server.serve(
            "/feed.xml",
            body: "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Set</title>\(items.joined())</channel></rss>")
        let node = try await TestNode.start(
            feeds: [server.url("/feed.xml")], limits: FetchLimits(maxBodyBytes: 4 << 20, totalTimeout: 60))
        let start = ContinuousClock.now
        let polled = try await node.poll()
        let seconds = (ContinuousClock.now - start) / .seconds(1)
        guard polled.first?.lastResult == "ok" else { fail("the poll failed: \(polled.first?.lastError ?? "no status")") }
        var eventOf: [String: String] = [:]
        for event in try await node.events() {
            for member in event.stories.flatMap(\.members) {
                guard let url = member.articleURL, let name = url.split(separator: "/").last else { continue }
                eventOf[String(name.dropLast(".html".count))] = event.id
            }
        }
        try await node.stop()
        try JSONSerialization.data(withJSONObject: eventOf, options: [.sortedKeys]).write(to: output)
        emit([
            "bench": "stories", "tool": "newsd", "seed": seed, "articles": articles.count, "filed": eventOf.count,
            "events": Set(eventOf.values).count, "poll_s": (seconds * 100).rounded() / 100,
        ])
    }

    /// Paragraphs of about three sentences each.
    private static func paragraphs(of text: String) -> [String] {
        var paragraphs: [String] = []
        var current = ""
        var sentences = 0
        for word in text.split(separator: " ") {
            current += (current.isEmpty ? "" : " ") + word
            if word.hasSuffix(".") { sentences += 1 }
            if sentences == 3 {
                paragraphs.append(current)
                current = ""
                sentences = 0
            }
        }
        if !current.isEmpty { paragraphs.append(current) }
        return paragraphs
    }

    private static func escaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }
}
