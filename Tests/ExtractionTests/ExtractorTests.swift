import Extraction
import Foundation
import NewsdTesting
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
        let html = "<html><body><nav>Menu</nav><div>First line<br>second line</div><p>Third line</p></body></html>"
        #expect(Extractor.extract(Data(html.utf8)).paragraphs == ["First line", "second line", "Third line"])
    }

    @Test func normalisesToNFCAndCollapsesWhitespace() {
        let html = "<p>  Cafe\u{0301}\n\t  au   lait\u{00A0}now </p>"
        #expect(Extractor.extract(Data(html.utf8)).paragraphs == ["Caf\u{00E9} au lait now"])
    }

    @Test func emptyOrTextlessPagesSayWhy() {
        #expect(Extractor.extract(Data()).note == "the page is empty")
        let bare = Extractor.extract(Data("<html><head><title>T</title></head><body><img src=a.png></body></html>".utf8))
        #expect(bare.paragraphs.isEmpty)
        #expect(bare.note == "the page has no text")
    }

    /// A lone word is chrome beside other text, a link alone is a pointer: neither is the text of a page that has more;
    /// a page of one word and nothing else says that word (`a-page-of-one-word` among the fixtures).
    @Test func aLoneWordIsTextOnlyWhenThePageHasNothingElse() {
        let link = Extractor.extract(Data("<html><body><a href=/home>Home</a></body></html>".utf8))
        #expect(link.paragraphs.isEmpty)
        #expect(link.note == "no main text found")
        let twoWords = Extractor.extract(Data("<html><body><div>Advertisement</div><div>Comments</div></body></html>".utf8))
        #expect(twoWords.paragraphs.isEmpty)
        let word = Extractor.extract(Data("<html><body><div>Advertisement</div></body></html>".utf8))
        #expect(word.paragraphs == ["Advertisement"])
    }

    @Test func binaryGarbageGivesAResultNotACrash() {
        var generator = SeededGenerator(seed: 7)
        for _ in 0..<20 {
            let bytes = Data((0..<65_536).map { _ in UInt8(truncatingIfNeeded: generator.next()) })
            let article = Extractor.extract(bytes)
            #expect(article.title == nil)
            #expect(article.paragraphs.allSatisfy { !$0.unicodeScalars.contains { $0.value < 0x20 } })
        }
    }

    @Test func aHundredThousandNestedDivsAreReadWithoutRecursion() {
        let deep =
            String(repeating: "<div>", count: 100_000) + "Deep text at the bottom of it all."
            + String(repeating: "</div>", count: 100_000) + String(repeating: "</span>", count: 100_000)
        let article = Extractor.extract(Data(deep.utf8))
        #expect(article.paragraphs == ["Deep text at the bottom of it all."])
    }

    @Test func aTruncatedPageKeepsWhatArrived() {
        let html = Data(page.utf8)
        let cut = html.prefix(html.count * 2 / 3)
        let article = Extractor.extract(cut)
        #expect(article.paragraphs.first?.hasPrefix("Heavy rain cut the only road") == true)
    }

    @Test func aFiftyMegabytePageIsCutNotSwallowed() {
        let paragraph = Data("<p>The valley road stayed closed for a third day, officials said, and more rain is due.</p>\n".utf8)
        var html = Data("<html><body><article>".utf8)
        html.reserveCapacity(50 << 20 + 1024)
        while html.count < 50 << 20 { html.append(paragraph) }
        let article = Extractor.extract(html)
        #expect(article.note == "the page was cut to its first 8 MiB")
        // Consecutive identical paragraphs are kept once (the last one may be cut short).
        #expect(article.paragraphs.count <= 2)
        #expect(article.paragraphs.first?.hasPrefix("The valley road stayed closed") == true)
    }

    @Test func aPageOfPlainTextCutShortSaysSo() {
        var text = Data()
        var day = 0
        while text.count <= Extractor.maximumBytes {
            day += 1
            text.append(Data("On day \(day) the valley road stayed closed, officials said, and more rain is due.\n".utf8))
        }
        let article = Extractor.extract(text)
        #expect(article.note == "the page was cut to its first 8 MiB")
        #expect(article.paragraphs.first == "On day 1 the valley road stayed closed, officials said, and more rain is due.")
    }

    @Test func encodingsComeFromHTTPThenTheMetaTagThenTheBytes() throws {
        let cyrillic =
            "<html><head><meta charset=windows-1251></head><body><p>\u{041F}\u{0440}\u{0438}\u{0432}\u{0435}\u{0442} мир</p></body></html>"
        let encoded = try #require(cyrillic.data(using: .windowsCP1251))
        #expect(Extractor.extract(encoded).paragraphs == ["Привет мир"])
        // The same bytes with an HTTP charset that says otherwise: HTTP wins.
        let latin = "<html><body><p>Caf\u{00E9} cr\u{00E8}me</p></body></html>"
        let latinBytes = try #require(latin.data(using: .isoLatin1))
        #expect(Extractor.extract(latinBytes, encoding: "iso-8859-1").paragraphs == ["Café crème"])
        // No label at all and bytes that are not UTF-8: windows-1252, curly quotes included.
        let quoted = Data([0x3C, 0x70, 0x3E, 0x93, 0x48, 0x69, 0x94, 0x20, 0x73, 0x68, 0x65, 0x20, 0x73, 0x61, 0x69, 0x64])
        #expect(Extractor.extract(quoted).paragraphs == ["\u{201C}Hi\u{201D} she said"])
        // UTF-8 labelled Latin-1 is the mislabel it almost always is.
        let mislabelled = Data("<meta charset=iso-8859-1><p>Zürich und Genf</p>".utf8)
        #expect(Extractor.extract(mislabelled).paragraphs == ["Zürich und Genf"])
        // A meta charset after the first text still holds for the whole page.
        let late = try #require(
            "<title>Ünïcode</title><meta charset=windows-1252><p>Ünïcode late</p>".data(using: .windowsCP1252))
        let article = Extractor.extract(late)
        #expect(article.title == "Ünïcode")
        #expect(article.paragraphs == ["Ünïcode late"])
    }

    @Test func characterReferencesAreDecoded() {
        let html = "<p>Fish &amp; chips &mdash; &#8220;fresh&#x201D; &copy; caf&eacute; &bogus; AT&T &lt;b&gt;</p>"
        #expect(Extractor.extract(Data(html.utf8)).paragraphs == ["Fish & chips — “fresh” © café &bogus; AT&T <b>"])
    }

    @Test func metadataIsTakenFromJSONLDBeforeOpenGraphAndMeta() {
        let html = """
            <html lang="fr"><head>
            <script type="application/ld+json">{"@context":"https://schema.org","@graph":[{"@type":"WebSite","name":"Site"},
            {"@type":"NewsArticle","headline":"From JSON-LD","author":[{"@type":"Person","name":"A. Writer"}],
            "datePublished":"2026-11-01T08:00:00Z","dateModified":"2026-11-02T09:00:00Z","image":{"url":"/lead.jpg"}}]}</script>
            <meta property="og:title" content="From OpenGraph"><meta name="author" content="Meta Author">
            <meta property="og:url" content="https://site.example/story"><meta property="og:locale" content="en_GB">
            </head><body><p>Body text of the story that is long enough to be the article.</p></body></html>
            """
        let article = Extractor.extract(Data(html.utf8), url: URL(string: "https://site.example/story?ref=feed"))
        #expect(article.title == "From JSON-LD")
        #expect(article.byline == "A. Writer")
        #expect(article.published == "2026-11-01T08:00:00Z")
        #expect(article.modified == "2026-11-02T09:00:00Z")
        #expect(article.imageURL == "https://site.example/lead.jpg")
        #expect(article.canonicalURL == "https://site.example/story")
        #expect(article.language == "en-GB")
    }

    @Test func aSecondArticleOnThePageIsLeftOut() {
        let paragraph =
            "<p>Government forces stepped up an offensive on the enclave on Tuesday, residents and officials said.</p>"
        let other = "<p>An unrelated report about a football match played in another country, with scores and quotes.</p>"
        let html = """
            <html><body><div class="content">
            <article><h1>Offensive on the enclave</h1>\(String(repeating: paragraph, count: 6))</article>
            <article><h1>Football tonight</h1>\(String(repeating: other, count: 4))</article>
            </div></body></html>
            """
        let article = Extractor.extract(Data(html.utf8))
        #expect(article.body.contains("Government forces"))
        #expect(!article.body.contains("football"))
    }
}
