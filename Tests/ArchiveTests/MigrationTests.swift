import Foundation
import GRDB
import NewsCore
import NewsdTesting
import Testing

@testable import Archive

/// Writes an archive file at `path` as newsd up to schema `version` made it, with `fill`'s rows.
private func oldArchive(at path: String, upTo version: String, _ fill: (Database) throws -> Void) throws {
    let pool = try DatabasePool(path: path)
    try Schema.migrator.migrate(pool, upTo: version)
    try pool.write { db in try fill(db) }
    try pool.close()
}

@Suite struct MigrationTests {
    /// Texts indexed before v16, when the search index kept its own copy of every text, are found after the index
    /// reads them from `text` itself; the index agrees with its content, and texts added afterwards are found too.
    @Test func textsIndexedBeforeV16AreFoundFromTheTextTable() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("archive.sqlite").path
        let texts = ["Shelling in al-Balad overnight", "Talks in Amman resume", "Water cut in Daraa camp"].map {
            (title: String) in
            TextRecord(title: title, byline: nil, published: nil, language: "en", body: "\(title). Residents said more.")
        }
        try oldArchive(at: path, upTo: "v15") { db in
            for text in texts {
                try text.insert(db)
                try db.execute(
                    sql: "INSERT INTO text_search(title, body, textID) VALUES (?, ?, ?)",
                    arguments: [text.title ?? "", text.body, text.id])
            }
        }
        let archive = try Archive(path: path)
        func found(_ word: String) throws -> [String] {
            try archive.pool.read { db in
                try String.fetchAll(
                    db,
                    sql: """
                        SELECT text.id FROM text_search JOIN text ON text.seq = text_search.rowid
                        WHERE text_search MATCH ? ORDER BY text.id
                        """, arguments: [word])
            }
        }
        #expect(try found("Amman") == [texts[1].id.hex])
        #expect(try found("residents") == texts.map(\.id.hex).sorted())
        try archive.pool.write { db in
            try db.execute(sql: "INSERT INTO text_search(text_search, rank) VALUES ('integrity-check', 1)")
            let added = TextRecord(title: "Curfew lifted", byline: nil, published: nil, language: "en", body: "Curfew lifted.")
            try added.insert(db)
            try db.execute(
                sql: "INSERT INTO text_search(rowid, title, body) SELECT seq, title, body FROM text WHERE id = ?",
                arguments: [added.id])
        }
        #expect(try found("curfew").count == 1)
        try archive.close()
    }

    /// Stories filed before v11, whose buckets named texts by their hex id, survive the migration to buckets naming
    /// fingerprint rows: no bucket row is lost or left dangling, and a near-copy stored afterwards joins the old story.
    @Test func storiesFiledBeforeV11KeepFilingNearCopies() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("archive.sqlite").path
        let report = (0..<60).map { "word\($0)" }.joined(separator: " ")
        let key = NodeKey()

        // Two unrelated texts filed as v10 did.
        let old = [report, (0..<60).map { "other\($0)" }.joined(separator: " ")].map {
            TextRecord(title: nil, byline: nil, published: nil, language: "en", body: $0)
        }
        var oldBuckets = 0
        try oldArchive(at: path, upTo: "v10") { db in
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

    /// Texts stored before v23 are filed into events after the archive opens, a batch at a time, into the events they
    /// would have had filed one by one, copies with their copy groups.
    @Test func textsStoredBeforeV23AreFiledIntoEvents() throws {
        let texts = try eventFixtureNames.map { (name: $0, text: try eventFixture($0)) }
        let fresh = try withArchive { archive, key in
            try store(texts, in: archive, key: key)
            return try archive.events(of: texts.map(\.text.id))
        }
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("archive.sqlite").path
        try oldArchive(at: path, upTo: "v22") { db in
            // Stored in reverse, as stories were then: the wire report and its copy in one story.
            for (_, text) in texts.reversed() {
                try text.insert(db)
                try Archive.assignStory(text, fingerprint: MinHash(text: text.body), db: db)
            }
        }
        let archive = try Archive(path: path)
        #expect(try archive.events(of: texts.map(\.text.id)).isEmpty)
        #expect(try archive.fileUnfiledEvents(limit: 4) == 4)
        #expect(try archive.fileUnfiledEvents(limit: 4) == 3)
        #expect(try archive.fileUnfiledEvents(limit: 4) == 0)
        let migrated = try archive.events(of: texts.map(\.text.id))
        #expect(migrated == fresh)
        #expect(Set(migrated.values).count == 3)
        #expect(try archive.events(minimumTexts: 2).first?.stories.count == 3)
        try archive.close()
    }
}
