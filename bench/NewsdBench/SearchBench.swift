import Archive
import Extraction
import Foundation
import GRDB
import NewsCore
import NewsdTesting

extension NewsdBench {
    /// 200 different search queries for an archive of `texts` (a query asked again would find its pages cached): words
    /// of the texts taken evenly from their vocabulary, and every fourth two words that stand together in one of them,
    /// as a phrase.
    static func searchQueries(for texts: [ExtractedArticle]) -> [String] {
        let vocabulary = Array(
            Set(texts.flatMap { $0.body.lowercased().split { !$0.isLetter }.filter { $0.count >= 5 }.map(String.init) })
        ).sorted()
        guard vocabulary.count >= 200 else { fail("the pages give only \(vocabulary.count) words to search for") }
        let queries = (0..<200).map { round -> String in
            let words = texts[round % texts.count].body.split { !$0.isLetter }
            guard round % 4 == 3, words.count > round / 4 + 1 else { return vocabulary[round * vocabulary.count / 200] }
            return "\"\(words[round / 4]) \(words[round / 4 + 1])\""
        }
        guard Set(queries).count == queries.count else { fail("the search queries are not all different") }
        return queries
    }

    /// Times each of `queries` (the first 20 results) on newsd's search of `archive` and on the bare FTS5 query beneath
    /// it (already valid FTS5: ranked, the first 20 rowids and nothing else), on a connection of its own to the same
    /// file at `path` at the same moment (the same WAL). Each query is asked of both, the first of the two alternating,
    /// so that neither finds the pages the other read more often. Prints one line for each; newsd's reads what it ranks
    /// by first, as the daemon does when it starts.
    static func timeSearches(_ queries: [String], archive: Archive, path: String, articles: Int) throws {
        let clock = ContinuousClock()
        var configuration = Configuration()
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA mmap_size = \(Archive.readerMapBytes)") }
        let bare = try DatabaseQueue(path: path, configuration: configuration)
        defer { try? bare.close() }
        // What the daemon reads as it starts (the texts' lengths, see `Archive.prepareSearch`), timed on its own.
        let preparing = clock.now
        try archive.prepareSearch()
        let prepareMilliseconds = (clock.now - preparing) / .milliseconds(1)
        var latencies: [Double] = []
        var bareLatencies: [Double] = []
        for (index, query) in queries.enumerated() {
            func ours() throws {
                let began = clock.now
                _ = try archive.search(SearchQuery(text: query, limit: 20))
                latencies.append((clock.now - began) / .milliseconds(1))
            }
            func fts() throws {
                let began = clock.now
                _ = try bare.read { db in
                    try Int64.fetchAll(
                        db, sql: "SELECT rowid FROM text_search WHERE text_search MATCH ? ORDER BY rank LIMIT 20",
                        arguments: [query])
                }
                bareLatencies.append((clock.now - began) / .milliseconds(1))
            }
            if index.isMultiple(of: 2) {
                try ours()
                try fts()
            } else {
                try fts()
                try ours()
            }
        }
        let ours = percentiles(latencies)
        let fts = percentiles(bareLatencies)
        emit([
            "bench": "search", "tool": "newsd", "articles": articles, "queries": latencies.count, "median_ms": ours.median,
            "p99_ms": ours.p99, "median_over_bare_fts5": (ours.median / fts.median * 100).rounded() / 100,
            "prepare_ms": prepareMilliseconds.rounded(),
        ])
        emit([
            "bench": "search", "tool": "sqlite fts5 alone (MATCH, bm25 rank, first 20 rowids)", "articles": articles,
            "queries": bareLatencies.count, "median_ms": fts.median, "p99_ms": fts.p99,
        ])
    }

    /// Search at scale: an archive of `count` articles whose texts are made of the pages' own sentences, drawn at
    /// random per article (10 to 30 sentences, a title of one, a day of a year), each stored as the poller stores a page and its text;
    /// then the same 200 queries as `ingest` asks. With `keep`, the archive is made there once and used again by later
    /// runs (making 1,000,000 articles takes a while).
    static func searchAtScale(pages directory: URL, count: Int, keep: URL?) async throws {
        let texts = try pageFiles(in: directory).map { Extractor.extract(try Data(contentsOf: $0)) }
        let sentences = texts.flatMap { text in
            text.paragraphs.flatMap { paragraph in
                paragraph.split(separator: ". ").map { $0.trimmingCharacters(in: .whitespaces) }.filter { $0.count >= 20 }
            }
        }
        guard sentences.count >= 100 else { fail("the pages give only \(sentences.count) sentences") }
        let template = texts[0]
        let days = max(336, count / 300)
        @Sendable func article(_ index: Int) -> (page: Data, text: ExtractedArticle) {
            var random = SeededGenerator(seed: UInt64(index))
            let pick = { sentences[Int(random.next() % UInt64(sentences.count))] }
            var text = template
            text.title = String(pick().prefix(90))
            text.paragraphs = []
            for _ in 0..<(10 + Int(random.next() % 21)) {
                if text.paragraphs.isEmpty || random.next() % 3 == 0 {
                    text.paragraphs.append(pick() + ".")
                } else {
                    text.paragraphs[text.paragraphs.count - 1] += " " + pick() + "."
                }
            }
            // About 300 articles a day, as in a busy newsroom's archive: over a year (336 days) up to 100,800 articles,
            // over earlier years beyond, so that the texts sharing a day's words do not grow with the archive.
            let day = index % days
            text.published = String(format: "%04d-%02d-%02d", 2025 - day / 336, 1 + day % 12, 1 + day / 12 % 28)
            text.blocks = []
            text.templateBlocks = []
            let page =
                "<html><head><title>\(text.title ?? "")</title></head><body>"
                + text.paragraphs.map { "<p>\($0)</p>" }.joined() + "</body></html>"
            return (Data(page.utf8), text)
        }
        let directory = try keep ?? temporaryDirectory()
        defer { if keep == nil { try? FileManager.default.removeItem(at: directory) } }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("archive.sqlite").path
        let archive = try Archive(path: path)
        let stored = try archive.counts().captures
        if stored < count {
            let key = NodeKey()
            try archive.register(key.record)
            let clock = ContinuousClock()
            let start = clock.now
            try await storeConcurrently(
                try missing(below: count, stored: stored, path: path), into: archive, signingWith: key, inFlight: 32
            ) { index in
                let (page, text) = article(index)
                return benchIngest(index, bytes: page, key: key, text: text, varied: false)
            }
            emit([
                "bench": "search-corpus", "articles": count, "made": count - stored,
                "articles_per_s": (Double(count - stored) / ((clock.now - start) / .seconds(1))).rounded(),
                "archive_bytes": (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0,
            ])
        }
        try requireCaptures(count, in: archive)
        let queries = searchQueries(for: texts)
        try timeSearches(queries, archive: archive, path: path, articles: count)
        try archive.close()
        if keep != nil { try writeSearchCorpus(queries: queries, archive: path, to: directory) }
    }

    /// Writes `queries` (`queries.json`) and the title and body of every text of the archive at `path`
    /// (`texts.jsonl`) into `directory`, for another engine to index and answer the same (bench/run gives them to
    /// tantivy).
    static func writeSearchCorpus(queries: [String], archive path: String, to directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try JSONSerialization.data(withJSONObject: queries).write(to: directory.appendingPathComponent("queries.json"))
        _ = FileManager.default.createFile(atPath: directory.appendingPathComponent("texts.jsonl").path, contents: nil)
        let handle = try FileHandle(forWritingTo: directory.appendingPathComponent("texts.jsonl"))
        defer { try? handle.close() }
        let bare = try DatabaseQueue(path: path)
        defer { try? bare.close() }
        try bare.read { db in
            let rows = try Row.fetchCursor(db, sql: "SELECT title, body FROM text")
            var buffer = Data()
            while let row = try rows.next() {
                let fields: [String: String] = ["title": row["title"] ?? "", "body": row["body"]]
                buffer += try JSONSerialization.data(withJSONObject: fields) + Data([0x0A])
                if buffer.count >= 1 << 20 {
                    try handle.write(contentsOf: buffer)
                    buffer.removeAll(keepingCapacity: true)
                }
            }
            try handle.write(contentsOf: buffer)
        }
    }

    /// Files every text of the search corpus kept in `directory` into events again, from scratch: texts of one
    /// vocabulary share their heaviest terms every day, as an archive of one region's reporting does ("Daraa" every
    /// day), so this times the search for candidates within each text's date window.
    static func refileSearchCorpus(in directory: URL) throws {
        let archive = try Archive(path: directory.appendingPathComponent("archive.sqlite").path)
        defer { try? archive.close() }
        let began = ContinuousClock.now
        let refiled = try archive.refileEvents()
        guard refiled > 0 else { fail("no texts in the archive in \(directory.path)") }
        emit([
            "bench": "events", "corpus": "one vocabulary", "articles": refiled,
            "filing_ms_per_article": ((ContinuousClock.now - began) / .milliseconds(1) / Double(refiled) * 1000).rounded() / 1000,
        ])
    }

    /// The article indices below `count` that the search corpus at `path` lacks, `stored` articles being there: a run
    /// stopped midway (making 1,000,000 takes hours) stored its last few dozen out of order, so the indices just
    /// below `stored` are looked up rather than assumed.
    private static func missing(below count: Int, stored: Int, path: String) throws -> [Int] {
        guard stored > 0 else { return Array(0..<count) }
        let from = max(0, stored - 4096)
        let prefix = benchURL(0).dropLast()
        let present = try DatabaseQueue(path: path).read { db in try String.fetchAll(db, sql: "SELECT url FROM capture") }
        let indices = Set(present.compactMap { Int($0.dropFirst(prefix.count)) }.filter { $0 >= from })
        return (from..<count).filter { !indices.contains($0) }
    }
}
