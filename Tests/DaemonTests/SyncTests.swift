import Archive
import Foundation
import Hummingbird
import NewsCore
import NewsdTesting
import Sync
import Testing

@Suite(.timeLimit(.minutes(5))) struct SyncTests {
    @Test func aPeerPullsEverythingAndEndsIdentical() async throws {
        let server = try await TestHTTPServer.start()
        Fixture.serveSite(on: server, pages: 5)
        let a = try await TestNode.start(feeds: [server.url("/feed.xml")])
        _ = try await a.poll()
        let b = try await TestNode.start(peers: [a.asPeer("a")])
        try await a.allow(b, as: "b")

        let peers = try await b.sync()
        #expect(peers.map(\.lastResult) == ["ok"])
        #expect(peers.first?.lastError == nil)
        #expect(peers.first?.behind == 0)

        let fileA = try ArchiveFile(path: a.archivePath)
        let fileB = try ArchiveFile(path: b.archivePath)
        let blobsB = try fileB.verifiedBlobHashes()
        #expect(blobsB.count == 6, "five pages and the feed document")
        #expect(blobsB == (try fileA.verifiedBlobHashes()))
        #expect(try fileB.verifiedTextIDs() == fileA.verifiedTextIDs())
        #expect(try fileB.captureIDs() == fileA.captureIDs())

        // The sync pushed B's node record to A; the next pull brings it back (held already), then nothing moves.
        let second = try await b.sync()
        let cursor = try #require(second.first?.cursor)
        #expect(cursor == (peers.first?.cursor ?? 0) + 1)
        let again = try await b.sync()
        #expect(again.first?.cursor == cursor)
        #expect(try fileB.count("change") == fileA.count("change"))
        #expect(try fileB.count("node") == 2 && fileA.count("node") == 2)

        try await b.stop()
        try await a.stop()
        await server.stop()
    }

    @Test func anEndlessOrMalformedChangeLogIsRefusedAndHonestPeersAreUnaffected() async throws {
        let site = try await TestHTTPServer.start()
        Fixture.serveSite(on: site, pages: 2)
        let honest = try await TestNode.start(feeds: [site.url("/feed.xml")])
        _ = try await honest.poll()
        // One liar streams a change log without end; the other answers, signed, with JSON that is not a page.
        let endless = try await TestHTTPServer.start()
        endless.stream("/v1/changes", chunks: 1 << 20, chunkSize: 64 << 10)
        let malformed = try await FakePeer.start()
        malformed.answer("/v1/changes", bytes: Data(#"{"nodeID": ["#.utf8))
        let b = try await TestNode.start(peers: [
            PeerConfig(name: "endless", url: endless.url(""), node: NodeKey().record.id.hex),
            malformed.asPeer("malformed"), honest.asPeer("honest"),
        ])
        try await honest.allow(b, as: "b")
        let peers = Dictionary(uniqueKeysWithValues: try await b.sync().map { ($0.name, $0) })
        #expect(peers["endless"]?.lastError?.contains("larger than the") == true, "\(peers)")
        #expect(peers["malformed"]?.lastError?.hasPrefix("peer sent bad data: /v1/changes") == true, "\(peers)")
        #expect(peers["honest"]?.lastResult == "ok")
        #expect(try ArchiveFile(path: b.archivePath).captureIDs() == ArchiveFile(path: honest.archivePath).captureIDs())
        try await b.stop()
        try await honest.stop()
        await endless.stop()
        await malformed.stop()
        await site.stop()
    }

    @Test func aBlobThatDoesNotMatchItsHashIsRefusedAndNothingIsStored() async throws {
        let liarKey = NodeKey()
        let liar = try await FakePeer.start(key: liarKey)
        let honest = Data("<p>what the page really said</p>".utf8)
        let (article, capture) = try signedCapture(of: honest, by: liarKey)
        let changes = [
            Change(seq: 1, item: .node(liarKey.record)), Change(seq: 2, item: .article(article)),
            Change(seq: 3, item: .capture(capture)),
        ]
        let page = try JSONEncoder().encode(ChangesPage(nodeID: "liar", epoch: "e1", last: 3, more: false, changes: changes))
        liar.answer("/v1/changes", bytes: page)
        try liar.objects(
            [ObjectFrame(hash: capture.blobHash.hex, encoding: "identity", size: 35, length: 35)],
            data: [Data("<p>what someone wants it to say</p>".utf8)])

        let b = try await TestNode.start(peers: [liar.asPeer("liar")])
        let peers = try await b.sync()
        #expect(peers.first?.lastResult == "error")
        #expect(peers.first?.lastError?.contains("hashing to") == true)
        #expect(peers.first?.cursor == 0)
        let file = try ArchiveFile(path: b.archivePath)
        #expect(try file.count("blob") == 0)
        #expect(try file.count("capture") == 0)
        #expect(try file.count("article") == 0)
        #expect(try file.count("change") == 1, "only B's own node record")

        try await b.stop()
        await liar.stop()
    }
}

@Suite(.timeLimit(.minutes(5))) struct HostileBlobTests {
    /// A signed change log naming one capture, whose blob the liar then serves with `headers`.
    private func lie(blob: Data, frame: (ContentHash) -> ObjectFrame) async throws -> (TestNode, FakePeer, PeerStatus?) {
        let key = NodeKey()
        let liar = try await FakePeer.start(key: key)
        let page = Data("<p>what the page said</p>".utf8)
        let (article, capture) = try signedCapture(of: page, by: key)
        let items: [ArchiveItem] = [.node(key.record), .article(article), .capture(capture)]
        let changes = items.enumerated().map { Change(seq: Int64($0.offset + 1), item: $0.element) }
        let body = try JSONEncoder().encode(ChangesPage(nodeID: "liar", epoch: "e1", last: 3, more: false, changes: changes))
        liar.answer("/v1/changes", bytes: body)
        try liar.objects([frame(capture.blobHash)], data: [blob])
        let b = try await TestNode.start(peers: [liar.asPeer("liar")])
        return (b, liar, try await b.sync().first)
    }

    @Test func anOversizedOrUndecodableBlobIsRefusedAndNothingIsStored() async throws {
        let blob = Data("<p>what the page said</p>".utf8)
        let cases: [((ContentHash) -> ObjectFrame, String)] = [
            ({ ObjectFrame(hash: $0.hex, encoding: "identity", size: 1 << 40, length: blob.count) }, "more than the"),
            // A size the bytes do not have would be stored, counted and served onwards.
            ({ ObjectFrame(hash: $0.hex, encoding: "identity", size: 50_000_000, length: blob.count) }, "claims 50000000"),
            ({ ObjectFrame(hash: $0.hex, encoding: "zstd", size: blob.count, length: blob.count) }, "compressed blob"),
            ({ ObjectFrame(hash: $0.hex, encoding: "brotli", size: blob.count, length: blob.count) }, "unknown blob encoding"),
            ({ ObjectFrame(hash: $0.hex, encoding: "identity", size: blob.count, length: 1 << 20) }, "not the frames asked for"),
            ({ _ in ObjectFrame(hash: ContentHash(of: Data()).hex, encoding: "identity", size: 0, length: 0) }, "not the frames"),
        ]
        for (frame, reason) in cases {
            let (b, liar, peer) = try await lie(blob: blob, frame: frame)
            #expect(peer?.lastResult == "error")
            #expect(peer?.lastError?.contains(reason) == true, "\(peer?.lastError ?? "")")
            let file = try ArchiveFile(path: b.archivePath)
            #expect(try file.count("blob") == 0)
            #expect(try file.count("capture") == 0)
            try await b.stop()
            await liar.stop()
        }
    }
}

@Suite(.timeLimit(.minutes(5))) struct ScheduledSyncTests {
    @Test func aNodePullsOnItsIntervalWithoutBeingAsked() async throws {
        let server = try await TestHTTPServer.start()
        Fixture.serveSite(on: server, pages: 2)
        let a = try await TestNode.start(feeds: [server.url("/feed.xml")])
        let b = try await TestNode.start(peers: [a.asPeer("a")], syncInterval: 0.2)
        // B may have tried A before A let it in; A reaching B ends any backoff.
        try await a.allow(b, as: "b")
        _ = try await a.sync()
        _ = try await a.poll()
        let target = try await a.status().counts.lastSequence
        // Later pulls still report the cursor, so a pull finished before this subscription is not missed.
        let arrived = try await b.event { event in
            if case .synced(let peer) = event { return peer.cursor >= target }
            return false
        }
        guard case .synced(let peer) = arrived else { Issue.record("not a sync event"); return }
        #expect(peer.lastResult == "ok")
        #expect(try ArchiveFile(path: b.archivePath).verifiedTextIDs() == ArchiveFile(path: a.archivePath).verifiedTextIDs())
        try await b.stop()
        try await a.stop()
        await server.stop()
    }
}

@Suite(.timeLimit(.minutes(5))) struct ForgedCaptureTests {
    @Test func aCaptureWithAForgedSignatureIsRefusedWithItsWholeBatch() async throws {
        let liarKey = NodeKey()
        let liar = try await FakePeer.start(key: liarKey)
        let page = Data("<p>what the page said</p>".utf8)
        let claimed = NodeKey()
        let (article, capture) = try signedCapture(of: page, by: claimed)
        // Signed by another key than the node it names.
        let forged = try NodeKey().sign(capture)
        let items: [ArchiveItem] = [.node(claimed.record), .article(article), .capture(forged)]
        let changes = items.enumerated().map { Change(seq: Int64($0.offset + 1), item: $0.element) }
        let body = try JSONEncoder().encode(ChangesPage(nodeID: "liar", epoch: "e1", last: 3, more: false, changes: changes))
        liar.answer("/v1/changes", bytes: body)
        try liar.objects(
            [ObjectFrame(hash: capture.blobHash.hex, encoding: "identity", size: page.count, length: page.count)], data: [page])

        let b = try await TestNode.start(peers: [liar.asPeer("liar")])
        let peers = try await b.sync()
        #expect(peers.first?.lastResult == "error")
        #expect(peers.first?.lastError?.contains("valid signature") == true)
        #expect(peers.first?.cursor == 0)
        let file = try ArchiveFile(path: b.archivePath)
        #expect(try file.count("capture") == 0)
        #expect(try file.count("blob") == 0)
        #expect(try file.count("node") == 1, "the liar's node record went with the batch")
        try await b.stop()
        await liar.stop()
    }
}
