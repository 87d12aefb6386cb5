import Archive
import Extraction
import Foundation
import NewsCore
import NewsdTesting
import Testing

@testable import Daemon

/// Over a slow link a puller makes the texts of the pages it pulls itself, with the extractor the texts name, instead of
/// fetching them; a text that does not come out the same is fetched, and what is stored is the same either way. Pages
/// come compressed as a whole.
@Suite(.timeLimit(.minutes(3))) struct DerivedTextsTests {
    /// A node's archive: three texts the extractor makes of their pages, and one it does not (another build's, say),
    /// all signed by the node; and the ids of the four.
    private func archiveOfFourTexts() throws -> (directory: URL, texts: Set<String>) {
        let directory = try temporaryDirectory()
        let identity = try NodeIdentity(directory: directory)
        let archive = try Archive(path: directory.appendingPathComponent("archive.sqlite").path)
        try archive.register(identity.key.record)
        var expected = Set<String>()
        for number in 1...4 {
            let page = Data(
                Fixture.page(
                    "Report \(number)",
                    paragraphs: [
                        "The council met on Tuesday to discuss report number \(number) and the roads it names.",
                        "Residents said the works had gone on for months without a word from anyone in charge.",
                    ]
                ).utf8)
            let (article, capture) = try signedCapture(
                of: page, by: identity.key, url: "https://made.example/\(number)", contentType: "text/html; charset=utf-8")
            let made = try #require(Syncer.textMaker.make(capture, page, []))
            let text =
                number < 4 ? made : TextRecord(title: made.title, byline: nil, published: nil, language: nil, body: "Other.")
            try archive.store(
                Ingest(
                    feed: nil, article: article, capture: capture, raw: HashedBytes(page), text: text,
                    extraction: try identity.key.sign(
                        ExtractionRecord(
                            captureID: capture.id, textID: text.id, extractor: Extractor.version,
                            nodeID: identity.nodeID))))
            expected.insert(text.id.hex)
        }
        try archive.close()
        return (directory, expected)
    }

    @Test func aPullerMakesTheTextsItCanAndFetchesTheOthers() async throws {
        let (directory, expected) = try archiveOfFourTexts()
        let source = try await TestNode.start(directory: directory)

        // A new node pulls it all over a link of 1 Mbit/s (slower than making the texts).
        let (laptop, link) = try await TestNode.start(
            pullingFrom: source, over: .even("slow", bitsPerSecond: 1_000_000, roundTrip: .milliseconds(40)))
        defer { link.stop() }
        let peers = try await laptop.sync()
        #expect(peers.first?.lastResult == "ok", "\(peers)")

        let file = try ArchiveFile(path: laptop.archivePath)
        #expect(Set(try file.verifiedTextIDs()) == expected)
        #expect(try await laptop.metric("newsd_sync_texts_made_total") == 3, "three made here")
        #expect(try await laptop.metric("newsd_sync_texts_fetched_total") == 1, "the other one fetched")
        // The pages came as their original bytes in answers compressed as a whole, and are stored compressed.
        #expect(try file.verifiedBlobHashes() == ArchiveFile(path: source.archivePath).verifiedBlobHashes())
        #expect(try file.count("blob WHERE encoding = 'identity'") == 0)
        try await laptop.stop()
        try await source.stop()
    }

    /// A push over a slow link leaves out the texts the peer makes with the same extractor (the push test shows the
    /// peer making them); when one of them does not come out the same, the peer stores nothing of that push and says
    /// so, and the run goes again with its texts.
    @Test func aPushWithATextThePeerCannotMakeGoesAgainWithItsTexts() async throws {
        let (directory, expected) = try archiveOfFourTexts()
        let laptop = try await TestNode.start(directory: directory)
        let office = try await TestNode.start()
        let link = try await laptop.reach(
            office, as: "office", over: .even("slow", bitsPerSecond: 1_000_000, roundTrip: .milliseconds(40)), reachedAs: "laptop"
        )
        defer { link.stop() }

        let peers = try await laptop.sync()
        #expect(peers.first?.lastResult == "ok", "\(peers)")
        let file = try ArchiveFile(path: office.archivePath)
        #expect(Set(try file.verifiedTextIDs()) == expected)
        #expect(try file.verifiedBlobHashes() == ArchiveFile(path: laptop.archivePath).verifiedBlobHashes())
        #expect(try await laptop.metric("newsd_sync_texts_not_made_by_peer_total") == 1, "the office could not make one")
        #expect(try await office.metric("newsd_sync_texts_made_total") == 0, "the run came again with its texts")
        try await laptop.stop()
        try await office.stop()
    }
}
