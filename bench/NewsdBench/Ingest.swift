import Archive
import Extraction
import Foundation
import GRDB
import NewsCore
import NewsdTesting

extension NewsdBench {
    /// Real pages, repeated with a variation each so that no two are the same bytes, stored as the poller
    /// stores them: the storage stages alone, then end to end with extraction on both cores; then search. With
    /// `storageOnly`, the storing alone and nothing else (`newsd-bench storage`: the figure to rerun quickly).
    static func ingest(pages directory: URL, count: Int, searchOutput: URL?, storageOnly: Bool = false) async throws {
        let pages = try pageFiles(in: directory).map { try Data(contentsOf: $0) }
        @Sendable func page(_ index: Int) -> Data { variant(of: pages, index) }
        let key = NodeKey()
        let clock = ContinuousClock()

        let meanPageBytes = pages.map(\.count).reduce(0, +) / pages.count

        let texts = pages.map { Extractor.extract($0) }
        if !storageOnly { try stageCosts(pages: pages, meanPageBytes: meanPageBytes, texts: texts, key: key) }

        // Storage alone: hash, sign, compress and fingerprint on both cores (Swift concurrency's pool), insert with
        // group commit as the poller does: 64 ingests in flight, as a poll has at most with its default 32
        // connections (32 fetching, and as many again fetched and being stored).
        let inFlight = 64
        let storageDirectory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: storageDirectory) }
        let storage = try Archive(path: storageDirectory.appendingPathComponent("archive.sqlite").path)
        try storage.register(key.record)
        let storageCount = min(count, 20000)
        // On a settled disk: the stage costs' archives are still being written back otherwise, on the same cores.
        settleDisk()
        var start = clock.now
        var cpuStart = cpuSeconds()
        try await storeConcurrently(0..<storageCount, into: storage, signingWith: key, inFlight: inFlight) { index in
            benchIngest(index, bytes: page(index), key: key)
        }
        let storageSeconds = (clock.now - start) / .seconds(1)
        let storageCPU = cpuSeconds() - cpuStart
        try requireCaptures(storageCount, in: storage)
        let fastBytes = try storage.counts().storedBlobBytes
        // What newsd does once it is idle: every page recompressed smaller, one thread.
        start = clock.now
        while try storage.compactBlobs(limit: 256) > 0 {}
        let compactSeconds = (clock.now - start) / .seconds(1)
        let keptBytes = try storage.counts().storedBlobBytes
        try storage.close()
        emit([
            "bench": "ingest-storage", "articles": storageCount, "in_flight": inFlight,
            "articles_per_s": (Double(storageCount) / storageSeconds).rounded(),
            "cpu_ms_per_article": (storageCPU / Double(storageCount) * 1e5).rounded() / 100,
            "cores_busy": (storageCPU / storageSeconds * 100).rounded() / 100, "raw_bytes_per_article": meanPageBytes,
            "stored_page_bytes_per_article": Int(fastBytes) / storageCount,
            "compacted_page_bytes_per_article": Int(keptBytes) / storageCount,
            "compacted_per_s_one_thread": (Double(storageCount) / compactSeconds).rounded(),
        ])

        if storageOnly { return }
        // End to end: extraction too, texts indexed and filed into stories, on both cores.
        let endToEnd = min(count, 10000)
        let fullDirectory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: fullDirectory) }
        let archive = try Archive(path: fullDirectory.appendingPathComponent("archive.sqlite").path)
        try archive.register(key.record)
        settleDisk()
        start = clock.now
        cpuStart = cpuSeconds()
        try await storeConcurrently(0..<endToEnd, into: archive, signingWith: key, inFlight: inFlight) { index in
            let bytes = page(index)
            return benchIngest(index, bytes: bytes, key: key, text: Extractor.extract(bytes))
        }
        let fullSeconds = (clock.now - start) / .seconds(1)
        let fullCPU = cpuSeconds() - cpuStart
        try requireCaptures(endToEnd, in: archive)
        emit([
            "bench": "ingest-end-to-end", "articles": endToEnd, "cores": ProcessInfo.processInfo.activeProcessorCount,
            "in_flight": inFlight, "articles_per_s": (Double(endToEnd) / fullSeconds).rounded(),
            "cpu_ms_per_article": (fullCPU / Double(endToEnd) * 1e5).rounded() / 100,
            "cores_busy": (fullCPU / fullSeconds * 100).rounded() / 100,
        ])

        // The rest of the search corpus, with each page's text extracted once and varied per article.
        try await storeConcurrently(endToEnd..<count, into: archive, signingWith: key, inFlight: inFlight) { index in
            benchIngest(index, bytes: page(index), key: key, text: texts[index % pages.count])
        }

        try requireCaptures(count, in: archive)

        // Search latency over what was just stored.
        let queries = searchQueries(for: texts)
        let archivePath = fullDirectory.appendingPathComponent("archive.sqlite").path
        try timeSearches(queries, archive: archive, path: archivePath, articles: count)
        try archive.close()
        if let searchOutput { try writeSearchCorpus(queries: queries, archive: archivePath, to: searchOutput) }
    }

    /// Stage costs, measured alone on one thread: the median of three passes over the pages.
    private static func stageCosts(pages: [Data], meanPageBytes: Int, texts: [ExtractedArticle], key: NodeKey) throws {
        @Sendable func page(_ index: Int) -> Data { variant(of: pages, index) }
        let clock = ContinuousClock()
        let stageDirectory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: stageDirectory) }
        let stageArchive = try Archive(path: stageDirectory.appendingPathComponent("archive.sqlite").path)
        try stageArchive.register(key.record)
        var stages: [String: [Double]] = [:]
        func time(_ stage: String, _ work: () throws -> Void) rethrows {
            let start = clock.now
            try work()
            stages[stage, default: []].append((clock.now - start) / .microseconds(1) / Double(pages.count))
        }
        for _ in 0..<3 {
            let ingests = (0..<pages.count).map { benchIngest($0, bytes: page($0), key: key) }
            time("sha256_us") { for index in pages.indices { _ = ContentHash(of: ingests[index].raw.bytes) } }
            time("extract_us") { for index in pages.indices { _ = Extractor.extract(ingests[index].raw.bytes) } }
            var signed: [CaptureRecord] = []
            try time("sign_us") { signed = try ingests.map { try key.sign($0.capture) } }
            // What checking the signature of a capture from elsewhere costs; this node's own are signed, not checked.
            time("verify_us") { for capture in signed { _ = capture.isSigned(by: key.record) } }
            try time("prepare_us") { for ingest in ingests { _ = try stageArchive.prepare(ingest, signingWith: key) } }
            time("minhash_us") { for text in texts { _ = MinHash(text: text.body) } }
            time("event_profile_us") {
                for text in texts { _ = EventProfile(title: text.title, body: text.body, published: text.published) }
            }
        }
        try stageArchive.close()
        var stageFields: [String: Any] = stages.mapValues { median($0).rounded() }
        stageFields["write_us"] = try writerCost(pages: page, texts: nil, key: key).rounded()
        stageFields["write_with_text_us"] = try writerCost(pages: page, texts: texts, key: key).rounded()
        emit(
            stageFields.merging([
                "bench": "ingest-stages", "pages": pages.count,
                "mean_page_bytes": meanPageBytes,
            ]) { first, _ in first })
    }

    /// Microseconds per article of the writer alone, on one thread: 4,000 articles (with `texts`, each page's text
    /// varied) prepared beforehand, then stored 16 to a transaction as group commit does.
    private static func writerCost(
        pages page: (Int) -> Data, texts: [ExtractedArticle]?, key: NodeKey
    ) throws -> Double {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let archive = try Archive(path: directory.appendingPathComponent("archive.sqlite").path)
        try archive.register(key.record)
        let count = 4000
        let prepared = try (0..<count).map { index in
            try archive.prepare(
                benchIngest(index, bytes: page(index), key: key, text: texts.map { $0[index % $0.count] }), signingWith: key)
        }
        let start = ContinuousClock.now
        for batch in stride(from: 0, to: count, by: 16) {
            try archive.store(Array(prepared[batch..<min(count, batch + 16)]))
        }
        let elapsed = ContinuousClock.now - start
        try archive.close()
        return elapsed / .microseconds(1) / Double(count)
    }

    /// The `.html` files of `directory`, in name order; the bench stops if there are none.
    static func pageFiles(in directory: URL) throws -> [URL] {
        let files = try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "html" }.sorted { $0.path < $1.path }
        guard !files.isEmpty else { fail("no .html pages in \(directory.path)") }
        return files
    }

    /// Page `index` of a corpus made of `pages` repeated, each copy varied so that no two are the same bytes.
    static func variant(of pages: [Data], _ index: Int) -> Data {
        pages[index % pages.count] + Data("\n<!-- variant \(index) -->\n".utf8)
    }

    /// The URL of the bench site's article `index`.
    static func benchURL(_ index: Int) -> String { "https://bench.example/article/\(index)" }

    private static func capture(for index: Int, page: HashedBytes, key: NodeKey) -> CaptureRecord {
        let url = benchURL(index)
        return CaptureRecord(
            articleID: ArticleRecord(url: url).id, url: url, finalURL: url, fetchedAt: Canonical.timestamp(Date()), status: 200,
            contentType: "text/html", etag: nil, lastModified: nil, blobHash: page.hash, size: page.bytes.count,
            nodeID: key.record.id.hex)
    }

    /// Article `index` of the bench site with `bytes` as its page, captured by `key`'s node (signed as it is prepared,
    /// as the poller's are); with `text`, the text extracted from it, varied by the index so that no two texts are the
    /// same unless `varied` is false.
    static func benchIngest(_ index: Int, bytes: Data, key: NodeKey, text: ExtractedArticle? = nil, varied: Bool = true)
        -> Ingest
    {
        let raw = HashedBytes(bytes)
        let capture = capture(for: index, page: raw, key: key)
        var extracted = text
        if varied { extracted?.paragraphs.append("(\(index))") }
        let records = extracted?.records(capture: capture.id, node: key.record.id.hex)
        return Ingest(
            feed: nil, article: ArticleRecord(url: capture.url), capture: capture, raw: raw, text: records?.text,
            extraction: records?.extraction)
    }

    /// Does to `archive` what an idle node does: makes dictionaries of its pages and recompresses its pages with them,
    /// until nothing is left to do; returns how many dictionaries it made.
    @discardableResult
    static func idleWork(on archive: Archive) throws -> Int {
        var built = 0
        repeat {
            let made = try archive.buildDictionaries(limit: 64)
            built += made
            while try archive.compactBlobs(limit: 256) > 0 {}
            if made == 0 { return built }
        } while true
    }

    /// Stops the bench unless `archive` holds `count` captures: a figure for storing counts only what was stored.
    static func requireCaptures(_ count: Int, in archive: Archive) throws {
        let stored = try archive.counts().captures
        guard stored == count else { fail("\(stored) captures stored, expected \(count)") }
    }

    /// Stores `ingest(index)` for each of `indices` into `archive` through group commit, its capture signed with
    /// `key`, `inFlight` at a time, as the poller's fetches finishing together do; preparing runs on Swift
    /// concurrency's threads (both cores).
    static func storeConcurrently(
        _ indices: some RandomAccessCollection<Int> & Sendable, into archive: Archive, signingWith key: NodeKey,
        inFlight: Int, _ ingest: @escaping @Sendable (Int) throws -> Ingest
    ) async throws {
        let commits = GroupCommit(archive: archive)
        let indices = Array(indices)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<inFlight {
                group.addTask {
                    for position in stride(from: worker, to: indices.count, by: inFlight) {
                        let index = indices[position]
                        _ = try await commits.store(archive.prepare(ingest(index), signingWith: key))
                    }
                }
            }
            try await group.waitForAll()
        }
    }
}
