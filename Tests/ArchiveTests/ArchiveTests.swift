import Archive
import Foundation
import GRDB
import NewsCore
import NewsdTesting
import Testing

/// The node whose captures these tests store.
private let key = NodeKey()

private func sampleIngest(url: String = "https://news.example/a", page: String = "<p>hello</p>") throws -> Ingest {
    let raw = Data(page.utf8)
    let (article, capture) = try signedCapture(of: raw, by: key, url: url, fetchedAt: "2026-11-22T01:00:00.000Z")
    let text = TextRecord(title: "A", byline: nil, published: nil, language: "en", body: "hello")
    let extraction = ExtractionRecord(captureID: capture.id, textID: text.id, extractor: "test/1")
    return Ingest(feed: nil, article: article, capture: capture, raw: HashedBytes(raw), text: text, extraction: extraction)
}

@Suite struct ArchiveTests {
    private let scratch = Scratch()

    /// A new archive that knows `key`'s node, and its path.
    private func temporaryArchive() throws -> (Archive, String) {
        let path = try scratch.archivePath()
        let archive = try Archive(path: path)
        try archive.register(key.record)
        return (archive, path)
    }

    @Test func canonicalEncodingIsStableAndDocumented() {
        let text = TextRecord(title: "Quote \" and \\ / é", byline: nil, published: nil, language: "en", body: "line\nnext\u{1}")
        let encoded = String(decoding: text.canonicalEncoding.data, as: UTF8.self)
        #expect(encoded == #"{"body":"line\nnext\u0001","language":"en","title":"Quote \" and \\ / é"}"#)
        #expect(text.id == ContentHash(of: Data(encoded.utf8)))
        #expect(text.isIntact)
    }

    @Test func storingIsIdempotentAndLogsEachRecordOnce() throws {
        let (archive, path) = try temporaryArchive()
        let ingest = try sampleIngest()
        #expect(try archive.store(ingest) == 4)
        #expect(try archive.store(ingest) == 0)
        let changes = try archive.changes(since: 0, limit: 100)
        #expect(changes.map(\.item.kind) == ["node", "article", "capture", "text", "extraction"])
        #expect(changes.map(\.seq) == [1, 2, 3, 4, 5])
        try archive.close()
        // The file itself holds the bytes under their SHA-256.
        let db = try DatabaseQueue(path: path)
        let rows = try db.read { try Row.fetchAll($0, sql: "SELECT hash, data FROM blob") }
        #expect(rows.count == 1)
        #expect(rows[0]["hash"] as String == ContentHash(of: rows[0]["data"] as Data).hex)
    }

    @Test func changesReceivedFromANodeAreNotOfferedBackToIt() throws {
        let (source, _) = try temporaryArchive()
        try source.store(try sampleIngest())
        let (archive, _) = try temporaryArchive()
        let items = try source.changes(since: 0, limit: 100).map(\.item)
        let blob = try #require(try source.storedBlob(try sampleIngest().capture.blobHash))
        try archive.apply(items, blobs: [blob], from: "n1", url: "http://127.0.0.1/", epoch: "e", cursor: 5, origin: "node-1")
        try archive.store(try sampleIngest(url: "https://news.example/b", page: "<p>b</p>"))
        let head = try archive.lastSequence()
        // The node the first article came from is offered only what did not come from it: the node record registered
        // here, and the second article (whose text, the same, came from it); the cursor still passes everything.
        let offered = try archive.changes(since: 0, limit: 100, skipping: "node-1")
        #expect(offered.last == head)
        #expect(offered.changes.map(\.item.kind) == ["node", "article", "capture", "extraction"])
        #expect(try archive.changes(since: 0, limit: 100, skipping: "node-2").changes.count == Int(head))
        // A page that reaches its limit stops at its last change.
        let page = try archive.changes(since: 0, limit: 1, skipping: "node-1")
        #expect(page.changes.count == 1 && page.last == page.changes[0].seq)
    }

    @Test func aRunOfChangesFromANodeLongerThanAnyPageIsPassedOverInOneCall() throws {
        let (source, _) = try temporaryArchive()
        var blobs: [StoredBlob] = []
        for number in 0..<12 {
            let ingest = try sampleIngest(url: "https://news.example/\(number)", page: "<p>page \(number)</p>")
            try source.store(ingest)
            blobs.append(try #require(try source.storedBlob(ingest.capture.blobHash)))
        }
        let items = try source.changes(since: 0, limit: 1000).map(\.item)
        let (archive, _) = try temporaryArchive()
        try archive.apply(
            items, blobs: blobs, from: "n1", url: "http://127.0.0.1/", epoch: "e", cursor: Int64(items.count),
            origin: "node-1")
        try archive.store(try sampleIngest(url: "https://news.example/here", page: "<p>here</p>"))
        // Past this node's own record, every change came from node-1 but the ingest stored here: a page of one change
        // is its article.
        let page = try archive.changes(since: 1, limit: 1, skipping: "node-1")
        #expect(items.count > 20, "more than the old scan of twenty times the limit")
        #expect(page.changes.map(\.item.kind) == ["article"])
        #expect(page.last == page.changes.first?.seq)
        let rest = try archive.changes(since: page.last, limit: 1, skipping: "node-1")
        #expect(rest.changes.map(\.item.kind) == ["capture"])
    }

    @Test func aRecordHoldingNULIsRefusedAndNothingOfItsIngestIsStored() throws {
        let (archive, _) = try temporaryArchive()
        var ingest = try sampleIngest()
        let text = TextRecord(title: "A", byline: nil, published: nil, language: "en", body: "before\u{0}after")
        ingest.text = text
        ingest.extraction = ExtractionRecord(captureID: ingest.capture.id, textID: text.id, extractor: "test/1")
        #expect(!text.isIntact, "its id matches, but SQLite would cut the body at the NUL")
        #expect(throws: IntegrityError.self) { try archive.store(ingest) }
        #expect(try archive.counts().captures == 0)
        #expect(try archive.counts().texts == 0)
    }

    @Test func pagesAreRecompressedSmallerAsTheSameBytes() throws {
        let (archive, _) = try temporaryArchive()
        var state: UInt64 = 42
        let words = "valley road bridge river council market school clinic shelter convoy talks water".split(separator: " ")
        let page = (0..<6000).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return String(words[Int(state >> 33) % words.count])
        }.joined(separator: " ")
        let ingest = try sampleIngest(page: "<p>\(page)</p>")
        try archive.store(ingest)
        let peer = try sampleIngest(url: "https://news.example/b", page: "<p>\(page) from a peer</p>")
        try archive.apply(
            [.article(peer.article!), .capture(peer.capture)], blobs: [StoredBlob(bytes: peer.raw.bytes)], from: "peer",
            url: "http://127.0.0.1:1", epoch: "e", cursor: 1)
        let before = try #require(try archive.storedBlob(ingest.capture.blobHash))
        let storedBefore = try archive.counts().storedBlobBytes
        // Only this node's own fast-compressed page waits; a peer's arrives as the peer keeps it.
        #expect(try archive.blobsAwaitingCompaction() == 1)
        #expect(try archive.compactBlobs(limit: 10) == 1)
        #expect(try archive.blobsAwaitingCompaction() == 0)
        #expect(try archive.compactBlobs(limit: 10) == 0)
        let after = try #require(try archive.storedBlob(ingest.capture.blobHash))
        #expect(after.data.count < before.data.count)
        #expect(try archive.counts().storedBlobBytes == storedBefore - Int64(before.data.count - after.data.count))
        #expect(try archive.blob(ingest.capture.blobHash) == ingest.raw.bytes)
        #expect(try archive.verify().isClean)
    }

    @Test func whatThePagesWeighIsKeptAsTheyAreStoredAndVerifyChecksIt() throws {
        let (archive, path) = try temporaryArchive()
        let first = try sampleIngest(page: "<p>One page of words.</p>")
        let second = try sampleIngest(url: "https://news.example/b", page: "<p>Another page, a little longer than the first.</p>")
        try archive.store(first)
        try archive.store(second)
        try archive.store(first)
        let counts = try archive.counts()
        #expect(counts.blobBytes == Int64(first.raw.bytes.count + second.raw.bytes.count))
        #expect(try archive.verify().isClean)
        let db = try DatabaseQueue(path: path)
        try db.write { try $0.execute(sql: "UPDATE blob_tally SET stored = stored + 1") }
        try db.close()
        #expect(try archive.verify().problems.map(\.kind) == ["blob_tally"])
    }

    @Test func ownCapturesAreSignedAsTheyArePrepared() throws {
        let (archive, _) = try temporaryArchive()
        var ingest = try sampleIngest()
        ingest.capture.signature = nil
        try archive.store([archive.prepare(ingest, signingWith: key)])
        let stored = try #require(try archive.capture(ingest.capture.id))
        #expect(stored.isSigned(by: key.record))
        #expect(try archive.verify().isClean)
        // An unsigned capture is refused where a signature is checked,
        #expect(throws: IntegrityError.self) { try archive.prepare(ingest) }
        // and a key may sign only its own node's captures, and only a node this archive knows.
        let stranger = NodeKey()
        #expect(throws: IntegrityError.self) { try archive.prepare(ingest, signingWith: stranger) }
        var theirs = try sampleIngest(url: "https://news.example/theirs")
        theirs.capture = try signedCapture(of: theirs.raw.bytes, by: stranger, url: "https://news.example/theirs").capture
        theirs.capture.signature = nil
        theirs.extraction = nil
        theirs.text = nil
        #expect(throws: IntegrityError.self) { try archive.prepare(theirs, signingWith: stranger) }
        #expect(try archive.counts().captures == 1)
    }

    @Test func bytesThatDoNotMatchTheCaptureAreRefused() throws {
        let (archive, _) = try temporaryArchive()
        var ingest = try sampleIngest()
        ingest.raw = HashedBytes(Data("tampered".utf8))
        #expect(throws: IntegrityError.self) { try archive.store(ingest) }
        #expect(try archive.counts().blobs == 0)
        #expect(try archive.counts().captures == 0)
    }

    @Test func applyRefusesTheWholeBatchAndKeepsTheCursor() throws {
        let (archive, _) = try temporaryArchive()
        let good = try sampleIngest()
        var forged = try sampleIngest(url: "https://news.example/b")
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
        #expect(try archive.lastSequence() == 1, "only the node record")
        try archive.apply(
            [.article(good.article!), .capture(good.capture)], blobs: [StoredBlob(bytes: good.raw.bytes)], from: "peer",
            url: "http://127.0.0.1:1",
            epoch: "e",
            cursor: 2)
        #expect(try archive.cursor(peer: "peer") == PeerCursor(epoch: "e", cursor: 2))
        #expect(try archive.counts().captures == 1)
    }

    @Test func capturesMustBeSignedByAKnownNode() throws {
        let (archive, _) = try temporaryArchive()
        let good = try sampleIngest()
        #expect(good.capture.isSigned(by: key.record))
        var unsigned = good
        unsigned.capture.signature = nil
        #expect(throws: IntegrityError.self) { try archive.store(unsigned) }
        var forged = good
        forged.capture = try NodeKey().sign(good.capture)
        #expect(throws: IntegrityError.self) { try archive.store(forged) }
        let stranger = NodeKey()
        var unknown = good
        unknown.capture.nodeID = stranger.record.id.hex
        unknown.capture.id = unknown.capture.computedID
        unknown.capture = try stranger.sign(unknown.capture)
        #expect(throws: IntegrityError.self) { try archive.store(unknown) }
        #expect(try archive.counts().captures == 0)
        // Once the stranger's node record is known, its signed capture is accepted.
        try archive.register(stranger.record)
        #expect(try archive.store(unknown) > 0)
        #expect(NodeRecord(publicKey: Data(hex: stranger.record.publicKey)!).id == stranger.record.id)
    }

    @Test func largePagesAreStoredCompressedAndReadBackExactly() throws {
        let (archive, path) = try temporaryArchive()
        let page =
            "<html><body>" + String(repeating: "<p>The same paragraph, again and again.</p>", count: 2000) + "</body></html>"
        let ingest = try sampleIngest(page: page)
        try archive.store(ingest)
        #expect(try archive.blob(ingest.capture.blobHash) == Data(page.utf8))
        try archive.close()
        let db = try DatabaseQueue(path: path)
        let row = try #require(
            try db.read { try Row.fetchOne($0, sql: "SELECT encoding, length(data) AS stored, size FROM blob") })
        #expect(row["encoding"] as String == "zstd")
        #expect((row["stored"] as Int) * 20 < (row["size"] as Int))
    }

    @Test func aNewDatabaseHasANewEpoch() throws {
        let (first, _) = try temporaryArchive()
        let (second, _) = try temporaryArchive()
        #expect(!first.epoch.isEmpty)
        #expect(first.epoch != second.epoch)
    }

    /// A text captured twice is one hit: captured when its first capture the filters let through was.
    @Test func aTextCapturedTwiceIsOneHitDatedByTheCapturesTheFiltersKeep() throws {
        let (archive, _) = try temporaryArchive()
        let text = TextRecord(title: "Talks", byline: nil, published: nil, language: "en", body: "ceasefire talks resumed")
        for (page, time) in [("<p>first</p>", "2026-11-22T01:00:00.000Z"), ("<p>again</p>", "2026-11-22T05:00:00.000Z")] {
            let raw = Data(page.utf8)
            let (article, capture) = try signedCapture(of: raw, by: key, url: "https://news.example/talks", fetchedAt: time)
            try archive.store(
                Ingest(
                    feed: nil, article: article, capture: capture, raw: HashedBytes(raw), text: text,
                    extraction: ExtractionRecord(captureID: capture.id, textID: text.id, extractor: "test/1")))
        }
        let all = try archive.search(SearchQuery(text: "ceasefire"))
        #expect(all.map(\.capturedAt) == ["2026-11-22T01:00:00.000Z"])
        #expect(all.map(\.snippet) == ["[ceasefire] talks resumed"])
        let since = Canonical.date("2026-11-22T03:00:00.000Z")
        #expect(
            try archive.search(SearchQuery(text: "ceasefire", since: since)).map(\.capturedAt) == ["2026-11-22T05:00:00.000Z"])
        let until = Canonical.date("2026-11-22T00:30:00.000Z")
        #expect(try archive.search(SearchQuery(text: "ceasefire", until: until)).isEmpty)
    }

    @Test func aNewArticlesRevisitAndTemplateSampleAreStoredWithIt() throws {
        let (archive, _) = try temporaryArchive()
        let firstAt = Date(timeIntervalSince1970: 1_800_000_000)
        let due = firstAt.addingTimeInterval(3600)
        // Three articles of one host share a block (a template's); each has one of its own.
        let prepared = try (1...3).map { number in
            var ingest = try sampleIngest(url: "https://news.example/\(number)", page: "<p>page \(number)</p>")
            ingest.firstRevisit = PlannedRevisit(feedID: nil, firstAt: firstAt, due: due)
            ingest.templateSample = TemplateSample(host: "news.example", blocks: [42, UInt64(number)])
            return try archive.prepare(ingest, signingWith: key)
        }
        #expect(try archive.template(host: "news.example").isEmpty)
        // One transaction, as group commit writes them.
        try archive.store(prepared)
        #expect(try archive.template(host: "news.example") == [42])
        #expect(try archive.dueRevisits(at: due.addingTimeInterval(-1), limit: 10).due.isEmpty)
        let revisits = try archive.dueRevisits(at: due, limit: 10).due
        #expect(Set(revisits.map(\.url)) == Set((1...3).map { "https://news.example/\($0)" }))
        #expect(revisits.allSatisfy { $0.firstAt == firstAt && $0.step == 0 })
    }
}
