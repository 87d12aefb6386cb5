import Archive
import Daemon
import Fetching
import Foundation
import Hummingbird
import NewsCore
import NewsdTesting
import Sync
import Testing

/// Peers that lie, and pulls large enough to span many pages.
@Suite(.timeLimit(.minutes(5))) struct HostilePeerTests {
    @Test func aFirstSyncOfTenThousandChangesSucceedsInOneNewsctlSync() async throws {
        let newsctl = try #require(builtExecutable("newsctl"))
        // A: 5,000 small articles (10,001 changes with its node record), archived before it starts. Each page after
        // the first holds captures signed by A, whose node record is in the first page.
        let aDirectory = try temporaryDirectory()
        try await onOwnThread { try Fixture.fill(aDirectory, articles: 5000, words: 32) }
        let a = try await TestNode.start(directory: aDirectory)
        let b = try await TestNode.start(peers: [a.asPeer("a")])
        try await a.allow(b, as: "b")

        let sync = try await runCommand(newsctl, ["sync", "--json", "--socket", b.config.controlSocket.path])
        #expect(sync.status == 0, "\(sync.stdout)\(sync.stderr)")
        let peers = try JSONCoding.decoder().decode([PeerStatus].self, from: Data(sync.stdout.utf8))
        #expect(peers.map(\.lastResult) == ["ok"], "\(peers)")
        // A's head: its 10,001 changes, and B's own node record if B's push (beside the pull) delivered it before the
        // pull's last page.
        let head = Int64(try ArchiveFile(path: a.archivePath).count("change"))
        #expect(peers.first?.cursor == 10_001 || peers.first?.cursor == head, "\(peers)")
        #expect(try ArchiveFile(path: b.archivePath).captureIDs() == ArchiveFile(path: a.archivePath).captureIDs())
        try await b.stop()
        try await a.stop()
    }

    @Test func aRelayedNodesRecordEndingOnePageVouchesForCapturesInTheNext() async throws {
        let liar = try await FakePeer.start()
        let relayed = NodeKey()
        // Page one: 48 MB of pages that do not compress (so that storing it takes a while), the relayed node's record
        // last. Page two: that node's capture, checked while page one is being stored.
        let key = liar.key
        var (blobs, filler) = try await onOwnThread { () -> ([ContentHash: Data], [ArchiveItem]) in
            var blobs: [ContentHash: Data] = [:]
            var filler: [ArchiveItem] = []
            var state: UInt64 = 7
            for index in 0..<16 {
                let bytes = Fixture.noise(words: 3 << 17, state: &state)
                let (article, capture) = try signedCapture(of: bytes, by: key, url: "https://liar.example/\(index)")
                blobs[capture.blobHash] = bytes
                filler += [.article(article), .capture(capture)]
            }
            return (blobs, filler)
        }
        let page = Data("<p>a page the relayed node captured</p>".utf8)
        let (article, capture) = try signedCapture(of: page, by: relayed)
        blobs[capture.blobHash] = page
        let first: [ArchiveItem] = [.node(liar.key.record)] + filler + [.node(relayed.record)]
        let second: [ArchiveItem] = [.article(article), .capture(capture)]
        let log = (first + second).enumerated().map { Change(seq: Int64($0.offset + 1), item: $0.element) }
        let split = Int64(first.count)
        liar.changes { since in
            let changes = log.filter { $0.seq > since && (since >= split || $0.seq <= split) }
            let last = changes.last?.seq ?? since
            return ChangesPage(
                nodeID: "liar", epoch: "e1", last: last, more: last < Int64(log.count), head: Int64(log.count),
                changes: changes)
        }
        liar.objects(from: blobs)

        let b = try await TestNode.start(peers: [liar.asPeer("liar")])
        let peers = try await b.sync()
        #expect(peers.first?.lastResult == "ok", "\(peers)")
        #expect(peers.first?.cursor == Int64(log.count))
        let file = try ArchiveFile(path: b.archivePath)
        #expect(try file.captureIDs().contains(capture.id.hex))
        #expect(try file.count("node") == 3)
        try await b.stop()
        await liar.stop()
    }

    @Test func aPeerThatSaysMoreWithEmptyPagesIsStoppedWithAClearError() async throws {
        let liar = try await FakePeer.start()
        liar.changes { since in
            ChangesPage(nodeID: "liar", epoch: "e1", last: since + 1, more: true, head: 1 << 40, changes: [])
        }
        let b = try await TestNode.start(peers: [liar.asPeer("liar")])
        let peers = try await b.sync()
        #expect(peers.first?.lastResult == "error")
        #expect(peers.first?.lastError?.contains("pages in a row that hold nothing") == true, "\(peers)")
        // The pages it read: the bound, and the one fetched ahead.
        #expect(liar.server.hitCount("/v1/changes") <= SyncLimits.maxEmptyPages + 1)
        // What it did read moved the cursor: nothing is read twice on the next sync.
        #expect(peers.first?.cursor ?? 0 >= Int64(SyncLimits.maxEmptyPages) - 1)
        try await b.stop()
        await liar.stop()
    }
}

/// The sync server decides on a request's headers alone whether to read its body.
@Suite(.timeLimit(.minutes(2))) struct UnreadBodyTests {
    /// Sends `head` (a request line and headers) and then `body` to 127.0.0.1:`port` over a plain socket; returns what
    /// the server answered within `seconds`, or `nil`. The blocking socket calls run on a thread of their own, never on
    /// one of the few threads the in-process daemon answers on.
    private func exchange(port: Int, head: String, body: Data = Data(), within seconds: Int = 30) async throws -> String? {
        try await onOwnThread {
            let socket = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard socket >= 0 else { throw POSIXError(.EMFILE) }
            defer { close(socket) }
            var timeout = timeval(tv_sec: seconds, tv_usec: 0)
            setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
            let request = Data(head.utf8) + body
            _ = request.withUnsafeBytes { send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            var answer = [UInt8](repeating: 0, count: 4096)
            let read = recv(socket, &answer, answer.count, 0)
            return read > 0 ? String(decoding: answer[..<read], as: UTF8.self) : nil
        }
    }

    private func head(_ port: Int, length: Int, headers: [(String, String)]) -> String {
        "POST /v1/push HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nContent-Length: \(length)\r\n"
            + headers.map { "\($0.0): \($0.1)\r\n" }.joined() + "\r\n"
    }

    @Test func strangersForgersAndOversizedBodiesAreAnsweredBeforeTheBodyIsSent() async throws {
        let a = try await TestNode.start()
        let b = try await TestNode.start()
        try await a.allow(b, as: "b")
        let port = try #require(a.syncURL.port)
        let bKey = try NodeKey(rawRepresentation: Data(contentsOf: b.directory.appendingPathComponent("node.key")))
        func signed(claiming body: Data) throws -> [(String, String)] {
            try SyncAuth.requestHeaders(method: "POST", target: "/v1/push", body: body, key: bKey, to: a.nodeID)
        }

        // A stranger announcing 100 MiB: 403 at once, though not one byte of the body was sent.
        let stranger = try await exchange(port: port, head: head(port, length: 100 << 20, headers: []))
        #expect(stranger?.hasPrefix("HTTP/1.1 403") == true, "\(stranger ?? "no answer")")
        // B's id with a signature that does not verify: 401 at once.
        var forged = try signed(claiming: Data(count: 60 << 20))
        forged[forged.firstIndex { $0.0 == SyncAuth.Header.signature }!].1 = String(repeating: "00", count: 64)
        let forgery = try await exchange(port: port, head: head(port, length: 60 << 20, headers: forged))
        #expect(forgery?.hasPrefix("HTTP/1.1 401") == true, "\(forgery ?? "no answer")")
        // B, properly signed, announcing more than the server reads: 413 at once.
        let huge = try await exchange(port: port, head: head(port, length: 100 << 20, headers: try signed(claiming: Data())))
        #expect(huge?.hasPrefix("HTTP/1.1 413") == true, "\(huge ?? "no answer")")
        // B, signed for one body, sending another: 401, and nothing is stored.
        let claimed = Data("{}\n".utf8)
        let swapped = Data("{]\n".utf8)
        let mismatch = try await exchange(
            port: port, head: head(port, length: swapped.count, headers: try signed(claiming: claimed)), body: swapped)
        #expect(mismatch?.hasPrefix("HTTP/1.1 401") == true, "\(mismatch ?? "no answer")")
        #expect(mismatch?.contains("does not match the SHA-256") == true, "\(mismatch ?? "no answer")")
        try await b.stop()
        try await a.stop()
    }
}

/// A relay between two real nodes that changes what one of them answers.
@Suite(.timeLimit(.minutes(2))) struct MutatingProxyTests {
    /// Relays sync requests to `target`, headers and body as they came, and hands back its answers after `mutate`.
    private func proxy(to target: URL, mutate: @escaping @Sendable (String, inout Data) -> Void) async throws -> TestHTTPServer {
        let relay = try await TestHTTPServer.start()
        for path in ["/v1/info", "/v1/changes", "/v1/objects", "/v1/cursor", "/v1/missing", "/v1/push"] {
            relay.route(path) { request in
                let body = (try? await request.body.collect(upTo: 64 << 20)).map { Data(buffer: $0) }
                let headers = request.headers.filter { $0.name.rawName.lowercased().hasPrefix("x-newsd-") }
                    .map { ($0.name.rawName, $0.value) }
                var forwarded = FetchRequest(
                    url: URL(string: target.absoluteString + (request.uri.string))!, method: request.method.rawValue,
                    headers: headers + [("Content-Type", "application/json")],
                    body: request.method == .post ? body : nil, limits: FetchLimits(maxBodyBytes: 64 << 20))
                forwarded.allowLocalAddresses = true
                guard let answer = try? await Fetcher().fetch(forwarded) else { return nil }
                var data = answer.body
                mutate(path, &data)
                var fields = HTTPFields()
                for (name, value) in answer.headers where name.hasPrefix("x-newsd-") || name == "content-type" {
                    fields[HTTPFields.Element.Name(name)!] = value
                }
                return Response(
                    status: .init(code: answer.status), headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: data)))
            }
        }
        return relay
    }

    @Test func aPullThroughARelayThatAltersAnswersStoresNothingAndSaysWhy() async throws {
        let server = try await TestHTTPServer.start()
        Fixture.serveSite(on: server, pages: 3)
        let a = try await TestNode.start(feeds: [server.url("/feed.xml")])
        _ = try await a.poll()
        // One relay flips a byte of every blob it passes on; the other says more changes follow the last page.
        let flipper = try await proxy(to: a.syncURL) { path, data in
            if path == "/v1/objects", !data.isEmpty { data[data.count - 1] ^= 0x01 }
        }
        let extender = try await proxy(to: a.syncURL) { path, data in
            if path == "/v1/changes" {
                data = Data(
                    String(decoding: data, as: UTF8.self).replacingOccurrences(of: "\"more\":false", with: "\"more\":true").utf8)
            }
        }
        for relay in [flipper, extender] {
            let b = try await TestNode.start(peers: [PeerConfig(name: "a", url: relay.url(""), node: a.nodeID)])
            try await a.allow(b, as: "b")
            let peer = try await b.sync().first
            #expect(peer?.lastResult == "error")
            #expect(peer?.lastError == "peer not authenticated: the answer's signature is not valid", "\(peer?.lastError ?? "")")
            #expect(try ArchiveFile(path: b.archivePath).count("capture") == 0)
            try await b.stop()
            await relay.stop()
        }
        try await a.stop()
        await server.stop()
    }
}
