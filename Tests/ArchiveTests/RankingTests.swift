import Foundation
import GRDB
import NewsCore
import NewsdTesting
import Testing

@testable import Archive

@Suite struct RankingTests {
    private let scratch = Scratch()

    /// Stores texts `range` of a seeded set: titles and bodies of a small vocabulary, bodies of 3 to 400 words, and one
    /// of 20,000 (a length that takes three bytes in the index's size record).
    private func store(_ range: Range<Int>, in archive: Archive, key: NodeKey) throws {
        let vocabulary = ["siege", "convoy", "ceasefire", "deraa", "talks", "shelling", "market", "border", "aid", "curfew"]
        var generator = SeededGenerator(seed: 7)
        var texts: [(String, String)] = []
        for index in 0..<range.upperBound {
            let count = index == 5 ? 20_000 : Int.random(in: 3...400, using: &generator)
            let words = (0..<count).map { _ in vocabulary.randomElement(using: &generator)! }
            let title = (0..<3).map { _ in vocabulary.randomElement(using: &generator)! }.joined(separator: " ")
            texts.append((title, words.joined(separator: " ")))
        }
        for index in range {
            let raw = Data("<p>page \(index)</p>".utf8)
            let (article, capture) = try signedCapture(
                of: raw, by: key, url: "https://news.example/\(index)", fetchedAt: "2026-11-22T01:00:00.000Z")
            let text = TextRecord(title: texts[index].0, byline: nil, published: nil, language: "en", body: texts[index].1)
            try archive.store(
                Ingest(
                    feed: nil, article: article, capture: capture, raw: HashedBytes(raw), text: text,
                    extraction: ExtractionRecord(captureID: capture.id, textID: text.id, extractor: "test/1")))
        }
    }

    /// Each match's score by FTS5's `bm25()` and by `newsd_bm25()`.
    private func scores(_ match: String, in archive: Archive) throws -> [(rowid: Int64, fts5: Double, newsd: Double)] {
        try archive.pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT rowid, bm25(text_search, 5.0, 1.0), newsd_bm25(text_search, 5.0, 1.0) FROM text_search
                    WHERE text_search MATCH ? ORDER BY rowid
                    """, arguments: [match]
            ).map { ($0[0], $0[1], $0[2]) }
        }
    }

    /// Queries of one phrase, and of more.
    private let queries = [
        "siege", "\"border aid\"", "cease*", "title: market", "convoy talks", "deraa OR curfew", "NEAR(shelling aid, 2)",
        "market NOT title: market",
    ]
    private let onePhrase: Set = ["siege", "\"border aid\"", "cease*", "title: market"]

    /// Expects `bm25()`'s score of every match of `query`, or for a query of one phrase that score divided by the
    /// phrase's inverse document frequency, as FTS5 computes it.
    private func expectBM25(_ query: String, in archive: Archive) throws {
        let rows = try scores(query, in: archive)
        #expect(!rows.isEmpty, "\(query)")
        var weight = 1.0
        if onePhrase.contains(query) {
            let texts = try archive.pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM text_search_docsize") }
            let value = log((Double(texts ?? 0) - Double(rows.count) + 0.5) / (Double(rows.count) + 0.5))
            weight = value <= 0 ? 1e-6 : value
        }
        for row in rows { #expect(row.fts5 == weight * row.newsd, "\(query), row \(row.rowid)") }
    }

    @Test func scoresAreFTS5sWhetherALengthIsHeldOrNot() throws {
        let path = try scratch.archivePath()
        let archive = try Archive(path: path)
        let key = NodeKey()
        try archive.register(key.record)
        try store(0..<40, in: archive, key: key)
        // Nothing read yet: every length comes from the index.
        #expect(archive.textLengths.current.isEmpty)
        for query in queries { try expectBM25(query, in: archive) }
        // A search reads the lengths; texts stored after it are ranked by the index's until the next one.
        _ = try archive.search(SearchQuery(text: "siege"))
        let read = archive.textLengths.current
        let indexed = try archive.pool.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM text_search_docsize")
        }
        #expect(read.filter { $0 > 0 }.count == indexed)
        #expect(read.contains(20_003))
        try store(40..<60, in: archive, key: key)
        for query in queries { try expectBM25(query, in: archive) }
        _ = try archive.search(SearchQuery(text: "siege"))
        #expect(archive.textLengths.current.filter { $0 > 0 }.count == 60)
        for query in queries { try expectBM25(query, in: archive) }
    }

    @Test func searchRanksAsTheIndexsOwnRank() throws {
        let archive = try Archive(path: try scratch.archivePath())
        let key = NodeKey()
        try archive.register(key.record)
        try store(0..<60, in: archive, key: key)
        for query in ["siege", "convoy talks", "\"border aid\""] {
            let ranked = try archive.pool.read { db in
                try String.fetchAll(
                    db,
                    sql: """
                        SELECT text.title FROM text_search JOIN text ON text.seq = text_search.rowid
                        WHERE text_search MATCH ? ORDER BY rank, text_search.rowid LIMIT 20
                        """, arguments: [query])
            }
            let hits = try archive.search(SearchQuery(text: query, limit: 20))
            #expect(hits.map(\.title) == ranked, "\(query)")
        }
    }

    @Test func sizeRecordsAreSummedVarints() {
        #expect(TextLengths.tokens(in: Data([3, 100])) == 103)
        #expect(TextLengths.tokens(in: Data([0x81, 0x00, 2])) == 130)
        #expect(TextLengths.tokens(in: Data([0x81, 0x9C, 0x23, 0x05])) == 20_003 + 5)
        #expect(TextLengths.tokens(in: Data()) == 0)
    }
}
