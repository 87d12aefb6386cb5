import Archive
import Foundation
import NewsCore
import NewsdTesting
import Testing

/// Tags, notes and hiding: signed changes merged last-writer-wins per (article, key), the same on every node
/// whatever order the changes reach it in.
@Suite struct AnnotationTests {
    let capturer = NodeKey()
    private let scratch = Scratch()
    let url = "https://news.example/story"

    /// A new archive holding one article, captured by `capturer`.
    private func archive(urls: [String]? = nil) throws -> Archive {
        let archive = try Archive(path: try scratch.archivePath())
        try archive.register(capturer.record)
        for (index, url) in (urls ?? [url]).enumerated() {
            let raw = Data("<p>page \(index)</p>".utf8)
            let (article, capture) = try signedCapture(
                of: raw, by: capturer, url: url, fetchedAt: "2026-11-22T01:00:00.000Z")
            let text = TextRecord(
                title: "Story \(index)", byline: nil, published: nil, language: "en", body: "ceasefire talks \(index)")
            try archive.store(
                Ingest(
                    feed: nil, article: article, capture: capture, raw: HashedBytes(raw), text: text,
                    extraction: ExtractionRecord(captureID: capture.id, textID: text.id, extractor: "test/1")))
        }
        return archive
    }

    /// Everything `source` holds that `target` lacks, applied in change-log order (or reversed, for annotations).
    private func send(_ source: Archive, to target: Archive, reversed: Bool = false) throws {
        let items = try source.changes(since: 0, limit: 10_000).map(\.item)
        let annotations = items.filter { $0.kind == "annotation" }
        let others = items.filter { $0.kind != "annotation" }
        let blobs = try others.compactMap { item -> StoredBlob? in
            guard case .capture(let capture) = item else { return nil }
            return try source.storedBlob(capture.blobHash)
        }
        try target.apply(
            others + (reversed ? annotations.reversed() : annotations), blobs: blobs, from: "source", url: "http://127.0.0.1/",
            epoch: source.epoch, cursor: 0)
    }

    @Test func theLatestChangeWinsWhateverOrderChangesArriveIn() throws {
        let field = NodeKey()
        let office = NodeKey()
        let (a, b, c) = (try archive(), try archive(), try archive())
        // The office hides the article now; the field node, offline for three months, had shown it again and tagged it
        // back then. Its changes arrive last but are older: the hide still wins, the tag (another key) stays.
        let now = Date()
        let monthsAgo = now.addingTimeInterval(-90 * 86400)
        _ = try a.annotate(
            AnnotationRequest(
                article: url,
                changes: [.init(key: "hidden", value: nil), .init(key: "tag:shelling", value: "true")]),
            key: field, now: monthsAgo)
        _ = try b.annotate(AnnotationRequest(article: url, changes: [.init(key: "hidden", value: "true")]), key: office, now: now)
        try send(b, to: a)
        try send(a, to: b)
        try send(a, to: c, reversed: true)
        try send(b, to: c, reversed: true)
        let expected = ArticleAnnotations(tags: ["shelling"], note: nil, hidden: true)
        for archive in [a, b, c] { #expect(try archive.article(url).annotations == expected) }
        // A change made after seeing the hide is later than it, whatever the clock of the node that makes it.
        _ = try a.annotate(
            AnnotationRequest(article: url, changes: [.init(key: "hidden", value: nil)]), key: field, now: monthsAgo)
        #expect(try a.article(url).annotations.hidden == false)
        try send(a, to: b)
        #expect(try b.article(url).annotations.hidden == false)
        #expect(try a.verify().isClean)
        #expect(try a.verify().signatures == 1 + 4)  // the capture both archives made of the page, four annotations
    }

    @Test func changesWithTheSameClockAreOrderedByNodeThenIDTheSameEverywhere() throws {
        let (one, two) = (NodeKey(), NodeKey())
        let (a, b) = (try archive(), try archive())
        let instant = Date(timeIntervalSince1970: 1_790_000_000)
        _ = try a.annotate(
            AnnotationRequest(article: url, changes: [.init(key: "note", value: "from one")]), key: one, now: instant)
        _ = try b.annotate(
            AnnotationRequest(article: url, changes: [.init(key: "note", value: "from two")]), key: two, now: instant)
        let records = try [a, b].flatMap { archive in
            try archive.changes(since: 0, limit: 100).compactMap { change -> AnnotationRecord? in
                if case .annotation(let record) = change.item { record } else { nil }
            }
        }
        #expect(records.count == 2)
        #expect(records[0].time == records[1].time && records[0].counter == records[1].counter)
        let winner = records[0].isLater(than: records[1]) ? records[0] : records[1]
        #expect(winner.nodeID == max(one.record.id.hex, two.record.id.hex))
        try send(b, to: a)
        try send(a, to: b, reversed: true)
        for archive in [a, b] { #expect(try archive.article(url).annotations.note == winner.value) }
    }

    @Test func theClockNeverGoesBackAndCountsWithinAMillisecond() throws {
        let key = NodeKey()
        let archive = try archive()
        let instant = Date(timeIntervalSince1970: 1_790_000_000)
        for (offset, tag) in [(0.0, "a"), (0.0, "b"), (-60.0, "c")] {
            _ = try archive.annotate(
                AnnotationRequest(article: url, changes: [.init(key: "tag:" + tag, value: "true")]), key: key,
                now: instant.addingTimeInterval(offset))
        }
        let clocks = try archive.changes(since: 0, limit: 100).compactMap { change -> [Int64]? in
            if case .annotation(let record) = change.item { [record.time, Int64(record.counter)] } else { nil }
        }
        #expect(clocks == [[1_790_000_000_000, 0], [1_790_000_000_000, 1], [1_790_000_000_000, 2]])
    }

    @Test func badAnnotationsAreRefusedAndNothingOfThemIsStored() throws {
        let key = NodeKey()
        let archive = try archive()
        try archive.register(key.record)
        let article = ArticleRecord(url: url).id
        let good = AnnotationRecord(
            articleID: article, key: "tag:a", value: "true", time: 1, counter: 0, nodeID: key.record.id.hex)
        var unsigned = good
        unsigned.signature = nil
        let forged = try NodeKey().sign(good)
        let unknownArticle = try key.sign(
            AnnotationRecord(
                articleID: ArticleRecord(url: "https://elsewhere.example/").id, key: "tag:a", value: "true", time: 1, counter: 0,
                nodeID: key.record.id.hex))
        let badTag = try key.sign(
            AnnotationRecord(
                articleID: article, key: "tag:two words", value: "true", time: 1, counter: 0, nodeID: key.record.id.hex))
        let badHidden = try key.sign(
            AnnotationRecord(articleID: article, key: "hidden", value: "no", time: 1, counter: 0, nodeID: key.record.id.hex))
        var tampered = try key.sign(good)
        tampered.value = nil
        let before = try archive.lastSequence()
        for record in [unsigned, forged, unknownArticle, badTag, badHidden, tampered] {
            #expect(throws: IntegrityError.self) {
                try archive.apply([.annotation(record)], blobs: [], from: "liar", url: "http://127.0.0.1/", epoch: "e", cursor: 1)
            }
        }
        #expect(try archive.lastSequence() == before)
        #expect(try archive.article(url).annotations == ArticleAnnotations())
        #expect(throws: IntegrityError.self) {
            try archive.annotate(AnnotationRequest(article: url, changes: [.init(key: "color", value: "red")]), key: key)
        }
        #expect(throws: ArticleLookupError.self) {
            try archive.annotate(AnnotationRequest(article: "https://nowhere.example/", changes: []), key: key)
        }
    }

    @Test func tagsFilterListsAndSearchAndHiddenArticlesLeaveThem() throws {
        let key = NodeKey()
        let urls = ["https://news.example/one", "https://news.example/two", "https://news.example/three"]
        let archive = try archive(urls: urls)
        _ = try archive.annotate(
            AnnotationRequest(article: urls[0], changes: [.init(key: "tag:verified", value: "true")]), key: key)
        _ = try archive.annotate(AnnotationRequest(article: urls[1], changes: [.init(key: "hidden", value: "true")]), key: key)
        func listed(tag: String? = nil, hidden: Bool = false) throws -> Set<String> {
            Set(try archive.articles(feed: nil, since: nil, until: nil, tag: tag, includeHidden: hidden, limit: 10).map(\.url))
        }
        func found(tag: String? = nil, hidden: Bool = false) throws -> Set<String> {
            Set(try archive.search(SearchQuery(text: "ceasefire", tag: tag, includeHidden: hidden)).map(\.articleURL))
        }
        #expect(try listed() == [urls[0], urls[2]])
        #expect(try listed(hidden: true) == Set(urls))
        #expect(try listed(tag: "verified") == [urls[0]])
        #expect(try found() == [urls[0], urls[2]])
        #expect(try found(hidden: true) == Set(urls))
        #expect(try found(tag: "verified") == [urls[0]])
        #expect(try found(tag: "unknown").isEmpty)
        // Taking the tag off takes the article out of the tag's results.
        _ = try archive.annotate(AnnotationRequest(article: urls[0], changes: [.init(key: "tag:verified", value: nil)]), key: key)
        #expect(try found(tag: "verified").isEmpty)
    }
}
