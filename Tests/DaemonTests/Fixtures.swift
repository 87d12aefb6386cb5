import Archive
import Daemon
import Foundation
import Hummingbird
import NewsCore
import NewsdTesting
import Testing

/// Feeds and pages these tests serve, written for them.
enum Fixture {
    static func rss(_ items: [(id: String, link: String)]) -> String {
        let entries = items.map { item in
            "<item><title>Story \(item.id)</title><link>\(item.link)</link><guid>\(item.id)</guid>"
                + "<pubDate>Sun, 22 Nov 2026 10:00:00 GMT</pubDate></item>"
        }
        return """
            <?xml version="1.0" encoding="UTF-8"?>
            <rss version="2.0"><channel><title>Test feed</title><link>https://test.example/</link>
            \(entries.joined(separator: "\n"))
            </channel></rss>
            """
    }

    static func page(_ title: String, paragraphs: [String]) -> String {
        """
        <html lang="en"><head><title>\(title)</title></head><body>
        <nav>Home · World · About</nav>
        <article><h1>\(title)</h1>\(paragraphs.map { "<p>\($0)</p>" }.joined())</article>
        <footer>© Test site</footer></body></html>
        """
    }

    /// Serves a feed at `/feed.xml` (with an ETag) linking to `count` pages at `/a/N.html`.
    static func serveSite(on server: TestHTTPServer, pages count: Int, etag: String = "\"v1\"") {
        let items = (1...count).map { (id: "story-\($0)", link: "/a/\($0).html") }
        server.serve("/feed.xml", body: rss(items), headers: [.contentType: "application/rss+xml", .eTag: etag])
        for number in 1...count {
            server.serve(
                "/a/\(number).html",
                body: page(
                    "Story \(number)", paragraphs: ["Paragraph one of story \(number).", "Paragraph two of story \(number)."]),
                headers: [.contentType: "text/html; charset=utf-8"])
        }
    }
}

extension Fixture {
    /// `words` 8-byte words from a xorshift generator at `state`: bytes that do not compress.
    static func noise(words: Int, state: inout UInt64) -> Data {
        var page = [UInt64](repeating: 0, count: words)
        for word in page.indices {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            page[word] = state
        }
        return page.withUnsafeBytes { Data($0) }
    }

    /// Archives `count` articles of `words` 8-byte words that do not compress in `directory`, as the node whose key is
    /// there, a few hundred to a commit.
    static func fill(_ directory: URL, articles count: Int, words: Int) throws {
        let identity = try NodeIdentity(directory: directory)
        let archive = try Archive(path: directory.appendingPathComponent("archive.sqlite").path)
        try archive.register(identity.key.record)
        var state: UInt64 = 42
        var batch: [PreparedIngest] = []
        for index in 0..<count {
            let bytes = noise(words: words, state: &state)
            let (article, capture) = try signedCapture(of: bytes, by: identity.key, url: "https://filled.example/\(index)")
            batch.append(
                try archive.prepare(
                    Ingest(feed: nil, article: article, capture: capture, raw: HashedBytes(bytes), text: nil, extraction: nil)))
            if batch.count == 256 || index == count - 1 {
                try archive.store(batch)
                batch.removeAll()
            }
        }
        try archive.close()
    }
}

/// Starts `newsd` on `config` as a process of its own (one that can be killed), syncing only when asked, and waits
/// until it serves.
func startManual(_ newsd: URL, config: URL) async throws -> ChildProcess {
    let daemon = try ChildProcess(newsd, ["--config", config.path, "--manual"])
    try #require(await daemon.waitForLine(containing: "ready") != nil, "newsd did not start: \(daemon.stderrLines)")
    return daemon
}
