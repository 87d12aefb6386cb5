import Foundation
import Hummingbird
import NewsCore
import NewsdTesting
import Testing

@Suite struct SyncTests {
    @Test func aPeerPullsEverythingAndEndsIdentical() async throws {
        let server = try await TestHTTPServer.start()
        Fixture.serveSite(on: server, pages: 5)
        let a = try await TestNode.start(feeds: [server.url("/feed.xml")])
        _ = try await a.poll()
        let b = try await TestNode.start(peers: [a.asPeer("a")])

        let peers = try await b.sync()
        #expect(peers.map(\.lastResult) == ["ok"])
        #expect(peers.first?.lastError == nil)

        let fileA = try ArchiveFile(path: a.archivePath)
        let fileB = try ArchiveFile(path: b.archivePath)
        let blobsB = try fileB.verifiedBlobHashes()
        #expect(blobsB.count == 6, "five pages and the feed document")
        #expect(blobsB == (try fileA.verifiedBlobHashes()))
        #expect(try fileB.verifiedTextIDs() == fileA.verifiedTextIDs())
        #expect(try fileB.captureIDs() == fileA.captureIDs())

        // Nothing new: a second sync adds nothing and the cursor stays.
        let cursor = peers.first?.cursor
        let again = try await b.sync()
        #expect(again.first?.cursor == cursor)
        #expect(try fileB.count("change") == fileA.count("change"))

        try await b.stop()
        try await a.stop()
        await server.stop()
    }

    @Test func aBlobThatDoesNotMatchItsHashIsRefusedAndNothingIsStored() async throws {
        let liar = try await TestHTTPServer.start()
        let honest = Data("<p>what the page really said</p>".utf8)
        let article = ArticleRecord(url: "https://news.example/story")
        let capture = CaptureRecord(
            articleID: article.id, url: article.url, finalURL: article.url, fetchedAt: "2026-11-22T00:00:00.000Z", status: 200,
            contentType: "text/html", etag: nil, lastModified: nil, blobHash: ContentHash(of: honest), size: honest.count,
            nodeID: "liar")
        let page = """
            {"nodeID":"liar","epoch":"e1","last":2,"more":false,"changes":[
            {"seq":1,"item":\(String(decoding: try JSONEncoder().encode(ArchiveItemBox.article(article)), as: UTF8.self))},
            {"seq":2,"item":\(String(decoding: try JSONEncoder().encode(ArchiveItemBox.capture(capture)), as: UTF8.self))}]}
            """
        liar.serve("/v1/changes", body: page, headers: [.contentType: "application/json"])
        liar.serve("/v1/blobs/\(capture.blobHash.hex)", body: "<p>what someone wants it to say</p>")

        let b = try await TestNode.start(peers: [PeerConfig(name: "liar", url: liar.url(""))])
        let peers = try await b.sync()
        #expect(peers.first?.lastResult == "error")
        #expect(peers.first?.lastError?.contains("hashing to") == true)
        #expect(peers.first?.cursor == 0)
        let file = try ArchiveFile(path: b.archivePath)
        #expect(try file.count("blob") == 0)
        #expect(try file.count("capture") == 0)
        #expect(try file.count("article") == 0)
        #expect(try file.count("change") == 0)

        try await b.stop()
        await liar.stop()
    }
}

/// The wire form of one record, built here the way a peer would.
private typealias ArchiveItemBox = ArchiveItem

@Suite struct ScheduledSyncTests {
    @Test func aNodePullsOnItsIntervalWithoutBeingAsked() async throws {
        let server = try await TestHTTPServer.start()
        Fixture.serveSite(on: server, pages: 2)
        let a = try await TestNode.start(feeds: [server.url("/feed.xml")])
        let b = try await TestNode.start(peers: [a.asPeer("a")], syncInterval: 0.2)
        // Subscribe before A has anything, so the pull that brings A's articles cannot be missed.
        async let arrived = b.event { event in
            if case .synced(let peer) = event { return peer.cursor > 0 }
            return false
        }
        _ = try await a.poll()
        guard case .synced(let peer) = try await arrived else { Issue.record("not a sync event"); return }
        #expect(peer.lastResult == "ok")
        #expect(try ArchiveFile(path: b.archivePath).verifiedTextIDs() == ArchiveFile(path: a.archivePath).verifiedTextIDs())
        try await b.stop()
        try await a.stop()
        await server.stop()
    }
}
