import Archive
import Foundation
import GRDB
import NewsCore
import Testing

private func temporaryArchive() throws -> (Archive, String) {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("newsd-archive-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let path = directory.appendingPathComponent("archive.sqlite").path
    return (try Archive(path: path), path)
}

private func sampleIngest(url: String = "https://news.example/a", page: String = "<p>hello</p>") -> Ingest {
    let raw = Data(page.utf8)
    let article = ArticleRecord(url: url)
    let capture = CaptureRecord(
        articleID: article.id, url: url, finalURL: url, fetchedAt: "2026-11-22T01:00:00.000Z", status: 200,
        contentType: "text/html", etag: nil, lastModified: nil, blobHash: ContentHash(of: raw), size: raw.count, nodeID: "node-a")
    let text = TextRecord(title: "A", byline: nil, published: nil, language: "en", body: "hello")
    let extraction = ExtractionRecord(captureID: capture.id, textID: text.id, extractor: "test/1")
    return Ingest(feed: nil, article: article, capture: capture, raw: raw, text: text, extraction: extraction)
}

@Suite struct ArchiveTests {
    @Test func canonicalEncodingIsStableAndDocumented() {
        let text = TextRecord(title: "Quote \" and \\ / é", byline: nil, published: nil, language: "en", body: "line\nnext\u{1}")
        let encoded = String(decoding: Canonical.encode(text, omitting: ["id"]), as: UTF8.self)
        #expect(encoded == #"{"body":"line\nnext\u0001","language":"en","title":"Quote \" and \\ / é"}"#)
        #expect(text.id == ContentHash(of: Data(encoded.utf8)))
        #expect(text.isIntact)
    }

    @Test func storingIsIdempotentAndLogsEachRecordOnce() throws {
        let (archive, path) = try temporaryArchive()
        let ingest = sampleIngest()
        #expect(try archive.store(ingest) == 4)
        #expect(try archive.store(ingest) == 0)
        let changes = try archive.changes(since: 0, limit: 100)
        #expect(changes.map(\.item.kind) == ["article", "capture", "text", "extraction"])
        #expect(changes.map(\.seq) == [1, 2, 3, 4])
        try archive.close()
        // The file itself holds the bytes under their SHA-256.
        let db = try DatabaseQueue(path: path)
        let rows = try db.read { try Row.fetchAll($0, sql: "SELECT hash, data FROM blob") }
        #expect(rows.count == 1)
        #expect(rows[0]["hash"] as String == ContentHash(of: rows[0]["data"] as Data).hex)
    }

    @Test func bytesThatDoNotMatchTheCaptureAreRefused() throws {
        let (archive, _) = try temporaryArchive()
        var ingest = sampleIngest()
        ingest.raw = Data("tampered".utf8)
        #expect(throws: IntegrityError.self) { try archive.store(ingest) }
        #expect(try archive.counts().blobs == 0)
        #expect(try archive.counts().captures == 0)
    }

    @Test func applyRefusesTheWholeBatchAndKeepsTheCursor() throws {
        let (archive, _) = try temporaryArchive()
        let good = sampleIngest()
        var forged = sampleIngest(url: "https://news.example/b")
        forged.text?.body = "altered after hashing"
        let items: [ArchiveItem] = [.article(forged.article!), .text(forged.text!)]
        #expect(throws: IntegrityError.self) {
            try archive.apply(items, blobs: [], from: "peer", url: "http://127.0.0.1:1", epoch: "e", cursor: 9)
        }
        // A capture whose blob is neither stored nor supplied is refused too.
        #expect(throws: IntegrityError.self) {
            try archive.apply([.capture(good.capture)], blobs: [], from: "peer", url: "http://127.0.0.1:1", epoch: "e", cursor: 9)
        }
        #expect(try archive.cursor(peer: "peer").cursor == 0)
        #expect(try archive.counts().articles == 0)
        #expect(try archive.lastSequence() == 0)
        try archive.apply(
            [.article(good.article!), .capture(good.capture)], blobs: [good.raw], from: "peer", url: "http://127.0.0.1:1",
            epoch: "e",
            cursor: 2)
        #expect(try archive.cursor(peer: "peer") == PeerCursor(epoch: "e", cursor: 2))
        #expect(try archive.counts().captures == 1)
    }

    @Test func aNewDatabaseHasANewEpoch() throws {
        let (first, _) = try temporaryArchive()
        let (second, _) = try temporaryArchive()
        #expect(!first.epoch.isEmpty)
        #expect(first.epoch != second.epoch)
    }
}
