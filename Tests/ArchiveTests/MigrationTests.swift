import Foundation
import GRDB
import NewsCore
import NewsdTesting
import Testing

@testable import Archive

@Suite struct MigrationTests {
    /// Stories filed before v11, whose buckets named texts by their hex id, survive the migration to buckets naming
    /// fingerprint rows: no bucket row is lost or left dangling, and a near-copy stored afterwards joins the old story.
    @Test func storiesFiledBeforeV11KeepFilingNearCopies() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("newsd-migration-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("archive.sqlite").path
        let report = (0..<60).map { "word\($0)" }.joined(separator: " ")
        let key = NodeKey()

        // Two unrelated texts filed as v10 did.
        let old = [report, (0..<60).map { "other\($0)" }.joined(separator: " ")].map {
            TextRecord(title: nil, byline: nil, published: nil, language: "en", body: $0)
        }
        var oldBuckets = 0
        do {
            let pool = try DatabasePool(path: path)
            try Schema.migrator.migrate(pool, upTo: "v10")
            try pool.write { db in
                for text in old {
                    try text.insert(db)
                    let fingerprint = MinHash(text: text.body)
                    let packed = fingerprint.values.withUnsafeBufferPointer { Data(buffer: $0) }
                    try db.execute(
                        sql: "INSERT INTO text_fingerprint(textID, shingles, minhash) VALUES (?, ?, ?)",
                        arguments: [text.id, fingerprint.shingles, packed])
                    for band in Set(fingerprint.bands) {
                        try db.execute(sql: "INSERT INTO text_bucket(bucket, textID) VALUES (?, ?)", arguments: [band, text.id])
                        oldBuckets += 1
                    }
                    try db.execute(
                        sql: "INSERT INTO story_member(textID, storyID) VALUES (?, ?)", arguments: [text.id, text.id.hex])
                }
            }
            try pool.close()
        }

        let archive = try Archive(path: path)
        try archive.register(key.record)
        let (buckets, dangling) = try archive.pool.read { db in
            (
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM text_bucket"),
                try Int.fetchOne(
                    db, sql: "SELECT COUNT(*) FROM text_bucket WHERE fingerprint NOT IN (SELECT row FROM text_fingerprint)")
            )
        }
        #expect(buckets == oldBuckets)
        #expect(dangling == 0)

        let page = Data("<p>\(report) and one more line</p>".utf8)
        let (article, capture) = try signedCapture(
            of: page, by: key, url: "https://news.example/copy", fetchedAt: "2026-11-22T01:00:00.000Z")
        let copy = TextRecord(title: nil, byline: nil, published: nil, language: "en", body: report + " and one more line")
        try archive.store(
            Ingest(
                feed: nil, article: article, capture: capture, raw: HashedBytes(page), text: copy,
                extraction: ExtractionRecord(captureID: capture.id, textID: copy.id, extractor: "test/1")))
        let stories = try archive.stories(of: [old[0].id, old[1].id, copy.id])
        #expect(stories[copy.id] == stories[old[0].id])
        #expect(stories[copy.id] == min(old[0].id, copy.id).hex)
        #expect(stories[old[1].id] == old[1].id.hex)
        try archive.close()
    }
}
