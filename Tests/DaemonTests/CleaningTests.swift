import Archive
import Extraction
import Foundation
import NewsCore
import NewsdTesting
import Testing

/// A page of the Deraa Today fixture site: its masthead and copyright lines sit in the same container as the article,
/// with no class or tag that tells them apart; only seeing them on every page of the site does.
private func deraaPage(_ number: Int) -> String {
    let paragraphs = (1...4).map { paragraph in
        "<p>Report \(number), paragraph \(paragraph): government forces and opposition fighters exchanged fire in the "
            + "old city on day \(number), residents said, as talks on a ceasefire stalled for the \(paragraph)th time.</p>"
    }
    return """
        <html><head><title>Report \(number)</title></head><body><div id="page">
        <p>Deraa Today, news from the south of Syria, every day, in Arabic and in English, since 2011.</p>
        <h1>Report \(number)</h1>\(paragraphs.joined())
        <p>Copyright Deraa Today, 2021. All rights reserved, reproduction in whole or in part is forbidden.</p>
        </div></body></html>
        """
}

@Suite(.timeLimit(.minutes(5))) struct CleaningTests {
    @Test func theArchiveLearnsASitesTemplateAndLeavesItOut() async throws {
        let newsctl = try #require(builtExecutable("newsctl"))
        let server = try await TestHTTPServer.start()
        func publish(_ count: Int) {
            for number in 1...count { server.serve("/r/\(number).html", body: deraaPage(number)) }
            server.serve(
                "/feed.xml", body: Fixture.rss((1...count).map { (id: "r\($0)", link: "/r/\($0).html") }),
                headers: [.eTag: "\"\(count)\""])
        }
        publish(3)
        let node = try await TestNode.start(feeds: [server.url("/feed.xml")])
        let socket = node.config.controlSocket.path
        _ = try await node.poll()
        func text(_ number: Int) async throws -> String {
            let show = try await runCommand(
                newsctl, ["show", server.url("/r/\(number).html").absoluteString, "--json", "--socket", socket])
            #expect(show.status == 0, "\(show.stderr)")
            return try JSONCoding.decoder().decode(ArticleDetail.self, from: Data(show.stdout.utf8)).versions.last?.body ?? ""
        }
        // The first pages of a site: nothing learnt yet, so the masthead is taken for text.
        #expect(try await text(1).contains("Deraa Today, news from the south"))

        // Three pages seen: the fourth is cleaned with the template, the article kept whole.
        publish(4)
        _ = try await node.poll()
        let fourth = try await text(4)
        #expect(!fourth.contains("Deraa Today, news from the south"))
        #expect(!fourth.contains("All rights reserved"))
        #expect(fourth.contains("Report 4, paragraph 1") && fourth.contains("Report 4, paragraph 4"))

        // Cleaning an early article again applies what was learnt since; the old text stays beside the new.
        let again = try await runCommand(
            newsctl, ["reextract", server.url("/r/1.html").absoluteString, "--json", "--socket", socket])
        #expect(again.status == 0, "\(again.stderr)")
        let report = try JSONCoding.decoder().decode(ReextractReport.self, from: Data(again.stdout.utf8))
        #expect(report.captures == 1 && report.newTexts == 1)
        #expect(!(try await text(1)).contains("Deraa Today, news from the south"))
        try await node.stop()
        await server.stop()
    }

    @Test func reextractAddsTextsBesideThoseOfAnOlderExtractor() async throws {
        let newsctl = try #require(builtExecutable("newsctl"))
        // An archive whose texts an older extractor made, chrome and all.
        let directory = try temporaryDirectory()
        let archive = try Archive(path: directory.appendingPathComponent("archive.sqlite").path)
        let key = NodeKey()
        try archive.register(key.record)
        var urls: [String] = []
        for number in 1...3 {
            let url = "https://deraa.example/r/\(number).html"
            urls.append(url)
            let raw = Data(deraaPage(number).utf8)
            let (article, capture) = try signedCapture(
                of: raw, by: key, url: url, fetchedAt: Canonical.timestamp(Date()), contentType: "text/html; charset=utf-8")
            let old = TextRecord(
                title: "Report \(number)", byline: nil, published: nil, language: nil, body: "Home World About Report \(number)")
            try archive.store(
                Ingest(
                    feed: nil, article: article, capture: capture, raw: HashedBytes(raw), text: old,
                    extraction: ExtractionRecord(captureID: capture.id, textID: old.id, extractor: "newsd-extract/1")))
        }
        try archive.close()

        let node = try await TestNode.start(directory: directory)
        let socket = node.config.controlSocket.path
        func reextractAll() async throws -> ReextractReport {
            let result = try await runCommand(newsctl, ["reextract", "--all", "--json", "--socket", socket])
            #expect(result.status == 0, "\(result.stderr)")
            return try JSONCoding.decoder().decode(ReextractReport.self, from: Data(result.stdout.utf8))
        }
        let first = try await reextractAll()
        #expect(first.extractor == Extractor.version)
        #expect(first.captures == 3 && first.newTexts == 3 && first.noText == 0)
        // Everything is cleaned by this extractor now: a second run has nothing to do.
        #expect(try await reextractAll().captures == 0)

        let show = try await runCommand(newsctl, ["show", urls[0], "--json", "--socket", socket])
        let detail = try JSONCoding.decoder().decode(ArticleDetail.self, from: Data(show.stdout.utf8))
        // The new text is this node's, signed; the old one, from before extractions were signed, is shown apart.
        #expect(detail.versions.map(\.extractor) == [Extractor.version])
        #expect(detail.versions.map(\.extractedBy) == [node.nodeID])
        #expect(detail.otherTexts.map(\.extractor) == ["newsd-extract/1"])
        #expect(detail.otherTexts.map(\.extractedBy) == [nil])
        #expect(detail.versions.last?.body.contains("Report 1, paragraph 1") == true)
        // The run learnt the site's template from the three pages: cleaning one again now leaves the masthead out.
        let one = try await runCommand(newsctl, ["reextract", urls[0], "--json", "--socket", socket])
        #expect(one.status == 0, "\(one.stderr)")
        let cleaned = try await runCommand(newsctl, ["show", urls[0], "--json", "--socket", socket])
        let current = try JSONCoding.decoder().decode(ArticleDetail.self, from: Data(cleaned.stdout.utf8))
        #expect(current.versions.last?.body.hasPrefix("Report 1, paragraph 1") == true)

        let human = try await runCommand(newsctl, ["reextract", "--all", "--socket", socket])
        #expect(human.stdout == "\(Extractor.version): 0 pages cleaned again, 0 new texts, 0 unchanged, 0 without text\n")
        let unknown = try await runCommand(newsctl, ["reextract", "https://nowhere.example/x", "--socket", socket])
        #expect(unknown.status == 1)
        #expect(unknown.stderr == "newsctl: no article https://nowhere.example/x\n")
        let both = try await runCommand(newsctl, ["reextract", urls[0], "--all", "--socket", socket])
        #expect(both.status != 0)
        let verify = try await runCommand(newsctl, ["verify", "--socket", socket])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        #expect(verify.stdout.contains("3 texts are unverified"), "\(verify.stdout)")
        // Every text this extractor made comes out the same when made again, template and all; the older extractor's
        // cannot be made here.
        let again = try await runCommand(newsctl, ["verify", "--reextract", "--json", "--socket", socket])
        #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
        let report = try JSONCoding.decoder().decode(VerifyReport.self, from: Data(again.stdout.utf8))
        #expect(report.reextracted == 4, "three texts, and the one made again without the masthead")
        #expect(report.notReextracted == 3)
        try await node.stop()
    }

    @Test func newsctlExtractCleansAPageWithoutADaemon() async throws {
        let newsctl = try #require(builtExecutable("newsctl"))
        let page = Data(deraaPage(7).utf8)
        let fromStdin = try await runCommand(newsctl, ["extract"], input: page)
        #expect(fromStdin.status == 0, "\(fromStdin.stderr)")
        #expect(fromStdin.stdout.hasPrefix("Deraa Today, news from the south"))
        #expect(fromStdin.stdout.contains("Report 7, paragraph 4"))

        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("page.html")
        try page.write(to: file)
        let json = try await runCommand(newsctl, ["extract", file.path, "--url", "https://deraa.example/r/7.html", "--json"])
        #expect(json.status == 0, "\(json.stderr)")
        struct Output: Decodable {
            var extractor: String
            var article: ExtractedParagraphs
        }
        struct ExtractedParagraphs: Decodable {
            var title: String?
            var paragraphs: [String]
        }
        let output = try JSONDecoder().decode(Output.self, from: Data(json.stdout.utf8))
        #expect(output.extractor == Extractor.version)
        #expect(output.article.title == "Report 7")
        #expect(output.article.paragraphs.count == 6)

        let empty = try await runCommand(newsctl, ["extract"], input: Data("<html><body><img src=x></body></html>".utf8))
        #expect(empty.status == 2)
        #expect(empty.stdout.isEmpty)
        #expect(empty.stderr == "newsctl: the page has no text\n")
        let missing = try await runCommand(newsctl, ["extract", "/nonexistent/page.html"])
        #expect(missing.status == 1)
        #expect(missing.stderr == "newsctl: cannot read /nonexistent/page.html\n")
    }
}
