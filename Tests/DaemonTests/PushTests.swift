import Archive
import Fetching
import Foundation
import NewsCore
import NewsdTesting
import Sync
import Testing

/// Push: a node its peers cannot reach (behind NAT, on a laptop) delivers its archive when it syncs.
@Suite(.timeLimit(.minutes(5))) struct PushTests {
    @Test func aNodeNobodyCanReachDeliversItsCapturesAndAnnotationsWhenItSyncs() async throws {
        let newsctl = try #require(builtExecutable("newsctl"))
        let server = try await TestHTTPServer.start()
        Fixture.serveSite(on: server, pages: 4)
        let laptop = try await TestNode.start(feeds: [server.url("/feed.xml")])
        _ = try await laptop.poll()
        let office = try await TestNode.start()
        // The office knows the laptop's node, but no address reaches it.
        try await office.allow(
            PeerConfig(name: "laptop", url: URL(string: "http://127.0.0.1:\(freePort())")!, node: laptop.nodeID))
        try await laptop.allow(office, as: "office")
        let socket = ["--socket", laptop.config.controlSocket.path]
        let tagged = try await runCommand(newsctl, ["tag", server.url("/a/1.html").absoluteString, "checked"] + socket)
        #expect(tagged.status == 0, "\(tagged.stderr)")

        let synced = try await runCommand(newsctl, ["sync", "office"] + socket)
        #expect(synced.status == 0, "\(synced.stdout)\(synced.stderr)")
        let laptopFile = try ArchiveFile(path: laptop.archivePath)
        let officeFile = try ArchiveFile(path: office.archivePath)
        #expect(try officeFile.captureIDs() == laptopFile.captureIDs())
        #expect(try officeFile.verifiedBlobHashes() == laptopFile.verifiedBlobHashes())
        #expect(try officeFile.annotationState() == laptopFile.annotationState())
        #expect(try officeFile.annotationState().count == 1)
        let verify = try await runCommand(newsctl, ["verify", "--socket", office.config.controlSocket.path])
        #expect(verify.status == 0, "\(verify.stdout)")
        // The office's cursor for the laptop is the laptop's head: a second sync sends nothing.
        let officePeers = try await office.status().peers
        #expect(officePeers.first { $0.name == "laptop" }?.cursor == Int64(try laptopFile.count("change")))
        let before = try officeFile.count("change")
        #expect(try await runCommand(newsctl, ["sync", "office"] + socket).status == 0)
        #expect(try officeFile.count("change") == before)

        try await laptop.stop()
        try await office.stop()
        await server.stop()
    }

    /// Over a slow link, a push goes compressed as a whole (pages as their original bytes, records with them, texts
    /// left for the node to make) to a node that says it reads zstd bodies; the node keeps the pages compressed, as its
    /// own.
    @Test func aPushOverASlowLinkGoesCompressedAsAWhole() async throws {
        let server = try await TestHTTPServer.start()
        // Twenty pages of one site: the same navigation and footer, and paragraphs of ordinary words.
        var random = SeededGenerator(seed: 20)
        let vocabulary = (0..<400).map { "w\($0 * 7919 % 100_003)" }
        let chrome = (1...60).map { "<a href=\"/section/\($0)\">Section \($0)</a>" }.joined()
        var pageBytes = 0
        for number in 1...20 {
            let paragraphs = (0..<30).map { _ in
                (0..<20).map { _ in vocabulary.randomElement(using: &random)! }.joined(separator: " ") + "."
            }
            let body = Fixture.page("Story \(number)", paragraphs: paragraphs).replacingOccurrences(
                of: "<nav>", with: "<nav>\(chrome)")
            pageBytes += body.utf8.count
            server.serve("/a/\(number).html", body: body, headers: [.contentType: "text/html; charset=utf-8"])
        }
        server.serve(
            "/feed.xml", body: Fixture.rss((1...20).map { (id: "story-\($0)", link: "/a/\($0).html") }),
            headers: [.contentType: "application/rss+xml"])
        let laptop = try await TestNode.start(feeds: [server.url("/feed.xml")])
        _ = try await laptop.poll()
        let office = try await TestNode.start()
        let link = try await laptop.reach(
            office, as: "office", over: .even("slow", bitsPerSecond: 2_000_000, roundTrip: .milliseconds(40)), reachedAs: "laptop"
        )
        defer { link.stop() }

        let peers = try await laptop.sync()
        #expect(peers.first?.lastResult == "ok", "\(peers)")
        let laptopFile = try ArchiveFile(path: laptop.archivePath)
        let officeFile = try ArchiveFile(path: office.archivePath)
        #expect(try officeFile.verifiedBlobHashes() == laptopFile.verifiedBlobHashes())
        #expect(try officeFile.verifiedTextIDs() == laptopFile.verifiedTextIDs())
        #expect(try officeFile.count("blob WHERE encoding = 'identity'") == 0)
        // Pages, their texts and the signed records, each sent as stored, come to more than the pages' own bytes (1.3x
        // here); compressed as a whole, to about a third of them.
        #expect(link.traffic.up < pageBytes / 2, "\(link.traffic.up) bytes up for \(pageBytes) bytes of pages")
        #expect(try await office.metric("newsd_sync_texts_made_total") == 20, "the office made the texts")
        try await laptop.stop()
        try await office.stop()
        await server.stop()
    }

    @Test func lyingPushesAreRefusedWithNothingStoredAndAnHonestOneIsTaken() async throws {
        let node = try await TestNode.start()
        let liar = NodeKey()
        try await node.allow(
            PeerConfig(name: "liar", url: URL(string: "http://127.0.0.1:\(freePort())")!, node: liar.record.id.hex))
        let page = Data("<p>what the page said</p>".utf8)
        let (article, capture) = try signedCapture(of: page, by: liar)
        let honest: [ArchiveItem] = [.node(liar.record), .article(article), .capture(capture)]

        func body(_ items: [ArchiveItem], since: Int64 = 0, blobs: [(hash: ContentHash, bytes: Data)]) throws -> Data {
            let changes = items.enumerated().map { Change(seq: since + Int64($0.offset + 1), item: $0.element) }
            let last = since + Int64(items.count)
            var data = try JSONEncoder().encode(
                PushHeader(epoch: "liar-epoch", since: since, last: last, lastKey: nil, head: last, changes: changes))
            data.append(0x0A)
            for blob in blobs {
                data.append(
                    try JSONEncoder().encode(
                        ObjectFrame(hash: blob.hash.hex, encoding: "identity", size: blob.bytes.count, length: blob.bytes.count)))
                data.append(0x0A)
                data.append(blob.bytes)
            }
            return data
        }
        func push(
            _ data: Data, key: NodeKey = liar, headers given: [(String, String)]? = nil, encoding: String? = nil
        ) async throws -> (FetchResponse, [(String, String)]) {
            let headers =
                try given ?? SyncAuth.requestHeaders(method: "POST", target: "/v1/push", body: data, key: key, to: node.nodeID)
            let response = try await Fetcher().fetch(
                FetchRequest(
                    url: URL(string: node.syncURL.absoluteString + "/v1/push")!, method: "POST",
                    headers: headers + (encoding.map { [("Content-Encoding", $0)] } ?? []), body: data,
                    limits: FetchLimits(maxBodyBytes: 1 << 20, totalTimeout: 60, lowSpeedBytes: 0)))
            return (response, headers)
        }

        var forged = capture
        forged = try NodeKey().sign(forged)
        let wrongBytes = Data("<p>what the page did not say</p>".utf8)
        let lies: [(String, Data, Int)] = [
            ("malformed JSON", Data("{\"epoch\": [\n".utf8), 400),
            ("a blob whose bytes do not match", try body(honest, blobs: [(capture.blobHash, wrongBytes)]), 400),
            (
                "a forged signature",
                try body([.node(liar.record), .article(article), .capture(forged)], blobs: [(capture.blobHash, page)]), 400
            ),
            (
                "a blob nothing names",
                try body(honest, blobs: [(capture.blobHash, page), (ContentHash(of: wrongBytes), wrongBytes)]), 400
            ),
            ("a capture without its blob", try body(honest, blobs: []), 400),
            ("a gap in the change log", try body(honest, since: 7, blobs: [(capture.blobHash, page)]), 409),
            ("an oversized body", Data(count: SyncLimits.maxRequestBytes + 1), 413),
        ]
        for (lie, data, status) in lies {
            let (response, _) = try await push(data)
            #expect(response.status == status, "\(lie): \(String(decoding: response.body, as: UTF8.self))")
        }
        let good = try body(honest, blobs: [(capture.blobHash, page)])
        // Bodies in an encoding: one the node does not read, zstd that is not, and zstd that decodes to more than the
        // node reads (a few KB that would become 64 MiB).
        let bomb = try #require(Zstd.compress(Data(count: SyncLimits.maxRequestBytes + 1), level: 1))
        let encoded: [(String, Data, String, Int)] = [
            ("brotli", good, "br", 415), ("zstd that is not", good, "zstd", 400), ("a zstd bomb", bomb, "zstd", 400),
        ]
        for (lie, data, encoding, status) in encoded {
            let (response, _) = try await push(data, encoding: encoding)
            #expect(response.status == status, "\(lie): \(String(decoding: response.body, as: UTF8.self))")
        }
        let (stranger, _) = try await push(good, key: NodeKey())
        #expect(stranger.status == 403 && stranger.body.isEmpty)
        let file = try ArchiveFile(path: node.archivePath)
        #expect(try file.count("capture") == 0 && file.count("blob") == 0 && file.count("change") == 1)

        let (accepted, headers) = try await push(good)
        #expect(accepted.status == 200)
        #expect(try JSONDecoder().decode(PushResult.self, from: accepted.body) == PushResult(added: 3, cursor: 3))
        let (replayed, _) = try await push(good, headers: headers)
        #expect(replayed.status == 401)
        #expect(try file.captureIDs() == [capture.id.hex])
        #expect(try file.count("change") == 4)
        try await node.stop()
    }
}
