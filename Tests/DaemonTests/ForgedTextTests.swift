import Archive
import Daemon
import Extraction
import Foundation
import NewsCore
import NewsdTesting
import Sync
import Testing

/// A text is shown as the capturing node's only if that node signed its extraction.
@Suite(.timeLimit(.minutes(3))) struct ForgedTextTests {
    /// A peer whose change log holds `items`, in one page.
    private func liar(_ items: [ArchiveItem], key: NodeKey = NodeKey()) async throws -> FakePeer {
        let peer = try await FakePeer.start(key: key)
        let changes = ([.node(key.record)] + items).enumerated().map { Change(seq: Int64($0.offset + 1), item: $0.element) }
        peer.answer(
            "/v1/changes",
            bytes: try JSONEncoder().encode(
                ChangesPage(nodeID: "liar", epoch: "e1", last: Int64(changes.count), more: false, changes: changes)))
        return peer
    }

    @Test func anotherNodesTextIsNeverShownAsTheCapturingNodesAndReextractionCatchesIt() async throws {
        let newsctl = try #require(builtExecutable("newsctl"))
        let server = try await TestHTTPServer.start()
        Fixture.serveSite(on: server, pages: 1)
        let a = try await TestNode.start(feeds: [server.url("/feed.xml")])
        _ = try await a.poll()
        let url = server.url("/a/1.html").absoluteString
        func show(_ node: TestNode) async throws -> ArticleDetail {
            let result = try await runCommand(newsctl, ["show", url, "--json", "--socket", node.config.controlSocket.path])
            #expect(result.status == 0, "\(result.stderr)")
            return try JSONCoding.decoder().decode(ArticleDetail.self, from: Data(result.stdout.utf8))
        }
        let original = try await show(a)
        let captureID = try #require(original.captures.first?.id)
        let capture = try #require(ContentHash(hex: captureID))
        #expect(original.versions.map(\.extractedBy) == [a.nodeID])

        // B holds A's capture and text.
        let b = try await TestNode.start(peers: [a.asPeer("a")])
        try await a.allow(b, as: "b")
        #expect(try await b.sync().first?.lastResult == "ok")

        let forged = TextRecord(
            title: "Story 1", byline: nil, published: nil, language: "en", body: "The ceasefire was never broken, officials said."
        )
        // One liar claims A made its text: the signature is not A's, and nothing of that page is stored.
        let impostorKey = NodeKey()
        let claimed = try impostorKey.sign(
            ExtractionRecord(captureID: capture, textID: forged.id, extractor: Extractor.version, nodeID: a.nodeID))
        let impostor = try await liar([.text(forged), .extraction(claimed)], key: impostorKey)
        try await b.allow(impostor.asPeer("impostor"))
        let refused = try await b.sync().first { $0.name == "impostor" }
        #expect(refused?.lastResult == "error")
        #expect(refused?.lastError?.contains("does not carry a valid signature of node \(a.nodeID.prefix(16))") == true)

        // Another signs its own text of A's capture, and one more sends one no node signed: both are taken, for what
        // they are.
        let otherKey = NodeKey()
        let owned = try otherKey.sign(
            ExtractionRecord(
                captureID: capture, textID: forged.id, extractor: Extractor.version, nodeID: otherKey.record.id.hex))
        let other = try await liar([.text(forged), .extraction(owned)], key: otherKey)
        let unsignedText = TextRecord(
            title: "Story 1", byline: nil, published: nil, language: "en", body: "Nothing happened in Deraa that day.")
        let unsigned = try await liar([
            .text(unsignedText),
            .extraction(ExtractionRecord(captureID: capture, textID: unsignedText.id, extractor: Extractor.version)),
        ])
        try await b.allow(other.asPeer("other"))
        try await b.allow(unsigned.asPeer("unsigned"))
        let synced = try await b.sync()
        #expect(synced.first { $0.name == "other" }?.lastResult == "ok", "\(synced)")
        #expect(synced.first { $0.name == "unsigned" }?.lastResult == "ok", "\(synced)")

        let detail = try await show(b)
        #expect(detail.versions.map(\.textID) == original.versions.map(\.textID), "the current text is still A's")
        #expect(Set(detail.otherTexts.map(\.textID)) == [forged.id.hex, unsignedText.id.hex])
        #expect(detail.otherTexts.first { $0.textID == forged.id.hex }?.extractedBy == otherKey.record.id.hex)
        #expect(detail.otherTexts.first { $0.textID == unsignedText.id.hex }?.extractedBy == nil)
        let human = try await runCommand(newsctl, ["show", url, "--socket", b.config.controlSocket.path])
        #expect(human.stdout.contains("extracted by the capturing node"), "\(human.stdout)")
        #expect(human.stdout.contains("2 texts by other nodes or unverified"), "\(human.stdout)")
        #expect(!human.stdout.contains("never broken"))

        // Search says who made each text.
        let search = try await runCommand(newsctl, ["search", "ceasefire", "--json", "--socket", b.config.controlSocket.path])
        let hits = try JSONCoding.decoder().decode([SearchHit].self, from: Data(search.stdout.utf8))
        #expect(hits.map(\.provenance) == [TextProvenance(extractedBy: otherKey.record.id.hex, byCapturingNode: false)])

        // Every signature holds, but cleaning the page again shows both texts are not what it says.
        #expect(try await runCommand(newsctl, ["verify", "--socket", b.config.controlSocket.path]).status == 0)
        let check = try await runCommand(
            newsctl, ["verify", "--reextract", "--json", "--socket", b.config.controlSocket.path])
        #expect(check.status == 1)
        let report = try JSONCoding.decoder().decode(VerifyReport.self, from: Data(check.stdout.utf8))
        #expect(Set(report.problems.map(\.id)) == [forged.id.hex, unsignedText.id.hex], "\(report.problems)")
        #expect(report.reextracted == 1, "A's own text comes out the same")

        for peer in [impostor, other, unsigned] { await peer.stop() }
        try await b.stop()
        try await a.stop()
        await server.stop()
    }

    @Test func olderUnsignedExtractionsAreSignedOnlyWhenThePageGivesTheirTextAgain() async throws {
        // An archive from before extractions were signed: one text the extractor makes of its page, one it does not.
        let directory = try temporaryDirectory()
        let identity = try NodeIdentity(directory: directory)
        let archive = try Archive(path: directory.appendingPathComponent("archive.sqlite").path)
        try archive.register(identity.key.record)
        var captures: [ContentHash] = []
        for (number, honest) in [(1, true), (2, false)] {
            let page = Data(
                Fixture.page("Report \(number)", paragraphs: ["Paragraph one of report \(number).", "The end."]).utf8)
            let (article, capture) = try signedCapture(
                of: page, by: identity.key, url: "https://older.example/\(number)", contentType: "text/html; charset=utf-8")
            let made = try #require(Extractor.extract(page).records(capture: capture.id, node: "")?.text)
            let text =
                honest ? made : TextRecord(title: made.title, byline: nil, published: nil, language: nil, body: "Made up.")
            try archive.store(
                Ingest(
                    feed: nil, article: article, capture: capture, raw: HashedBytes(page), text: text,
                    extraction: ExtractionRecord(captureID: capture.id, textID: text.id, extractor: Extractor.version)))
            captures.append(capture.id)
        }
        try archive.close()

        let node = try await TestNode.start(directory: directory)
        let checked = try await node.event(in: node.startEvents) {
            if case .olderExtractionsSigned = $0 { return true }
            return false
        }
        #expect(checked == .olderExtractionsSigned(1))
        let file = try ArchiveFile(path: node.archivePath)
        #expect(try file.count("extraction") == 3, "two older ones, and the signed one beside the first")
        let newsctl = try #require(builtExecutable("newsctl"))
        let verify = try await runCommand(newsctl, ["verify", "--json", "--socket", node.config.controlSocket.path])
        let report = try JSONCoding.decoder().decode(VerifyReport.self, from: Data(verify.stdout.utf8))
        #expect(report.unverifiedExtractions == 2)
        #expect(report.isClean)
        // Once done, never again.
        try await node.stop(removingData: false)
        let again = try await TestNode.start(directory: directory)
        #expect(try ArchiveFile(path: again.archivePath).count("extraction") == 3)
        try await again.stop()
    }
}
