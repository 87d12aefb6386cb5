import Extraction
import Foundation
import Testing

private let page = """
    <!DOCTYPE html>
    <html lang="en-GB"><head>
    <title>Fallback title | Site</title>
    <meta property="og:title" content="Floods cut the valley road">
    <meta name="author" content="Sam Field">
    <meta property="article:published_time" content="2026-11-20T07:00:00Z">
    <link rel="canonical" href="https://site.example/floods">
    <script>var tracking = "should never appear";</script>
    <style>.x { color: red }</style>
    </head><body>
    <header><nav><a href="/">Home</a><a href="/world">World news menu</a></nav></header>
    <div class="cookie-banner">We use cookies to improve your experience.</div>
    <main><article>
      <h1>Floods cut the valley road</h1>
      <p>Heavy rain cut the only road into the valley on Friday, leaving three villages without supplies.</p>
      <figure><img src="a.jpg"><figcaption>The road near the bridge.</figcaption></figure>
      <figure><img src="a.jpg"><figcaption>The road near the bridge.</figcaption></figure>
      <p>Engineers said the water would take days to recede.\u{00AD}\u{200B}</p>
      <div class="share-tools">Share this story on social media</div>
      <ul><li>Two bridges closed</li><li>One school used as a shelter</li></ul>
    </article></main>
    <aside class="most-read"><h2>Most read</h2><p>Unrelated popular story</p></aside>
    <footer>© 2026 Site. All rights reserved.</footer>
    </body></html>
    """

@Suite struct ExtractorTests {
    @Test func keepsTheArticleAndDropsTheChrome() {
        let article = Extractor.extract(Data(page.utf8), url: URL(string: "https://site.example/floods?x=1"))
        #expect(article.title == "Floods cut the valley road")
        #expect(article.byline == "Sam Field")
        #expect(article.published == "2026-11-20T07:00:00Z")
        #expect(article.language == "en-GB")
        #expect(article.canonicalURL == "https://site.example/floods")
        #expect(
            article.paragraphs == [
                "Heavy rain cut the only road into the valley on Friday, leaving three villages without supplies.",
                "Engineers said the water would take days to recede.",
                "Two bridges closed",
                "One school used as a shelter",
            ])
        for chrome in ["tracking", "cookies", "World news menu", "Share this story", "Most read", "All rights reserved"] {
            #expect(!article.body.contains(chrome), "\(chrome) leaked into the text")
        }
    }

    @Test func withoutAnArticleElementTheBodyIsUsed() {
        let html = "<html><body><nav>Menu</nav><div>First line<br>second line</div><p>Third</p></body></html>"
        #expect(Extractor.extract(Data(html.utf8)).paragraphs == ["First line", "second line", "Third"])
    }

    @Test func normalisesToNFCAndCollapsesWhitespace() {
        let html = "<p>  Cafe\u{0301}\n\t  au   lait\u{00A0}now </p>"
        #expect(Extractor.extract(Data(html.utf8)).paragraphs == ["Caf\u{00E9} au lait now"])
    }

    @Test func hostileInputGivesAnEmptyResultNotACrash() {
        #expect(Extractor.extract(Data()).paragraphs.isEmpty)
        #expect(Extractor.extract(Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 31) })).title == nil)
        let deep = String(repeating: "<div>", count: 100_000) + "deep text" + String(repeating: "</div>", count: 100_000)
        let article = Extractor.extract(Data(deep.utf8))
        #expect(article.paragraphs.count <= 1)
        #expect(Extractor.extract(Data("<html><body></body></html>".utf8)).paragraphs.isEmpty)
    }
}
