import Archive
public import Foundation
public import Hummingbird
public import NewsCore
public import Sync

/// A sync peer whose every answer a test scripts, signed with a key of its own: an allowed node that lies in whatever
/// field the test chooses (ids, signatures, sizes, pages, texts).
///
/// ```swift
/// let liar = try await FakePeer.start()
/// liar.changes { since in ChangesPage(nodeID: "liar", epoch: "e1", last: since + 1, more: true, changes: []) }
/// let b = try await TestNode.start(peers: [liar.asPeer("liar")])
/// ```
public final class FakePeer: Sendable {
    /// The HTTP server it answers on.
    public let server: TestHTTPServer
    /// Its node key: answers are signed with it.
    public let key: NodeKey
    private let gate: SyncGate

    private init(server: TestHTTPServer, key: NodeKey) {
        self.server = server
        self.key = key
        self.gate = SyncGate(key: key, peers: [])
    }

    /// Starts a fake peer on an ephemeral loopback port, with a new key unless one is given. Until told otherwise it
    /// takes pushes as an honest node would that has nothing: it says it holds nothing, lacks nothing offered, and
    /// takes each push whole.
    public static func start(key: NodeKey = NodeKey()) async throws -> FakePeer {
        let peer = FakePeer(server: try await TestHTTPServer.start(), key: key)
        peer.answer("/v1/cursor", bytes: (try? JSONEncoder().encode(PeerCursor(epoch: nil, cursor: 0))) ?? Data())
        peer.answer("/v1/missing", bytes: Data(#"{"records":[],"blobs":[]}"#.utf8))
        peer.answer("/v1/push") { request in
            guard let body = try? await request.body.collect(upTo: SyncLimits.maxRequestBytes),
                let line = Data(buffer: body).split(separator: 0x0A, maxSplits: 1).first,
                let header = try? JSONDecoder().decode(PushHeader.self, from: line)
            else { return Data() }
            return (try? JSONEncoder().encode(PushResult(added: 0, cursor: header.last))) ?? Data()
        }
        return peer
    }

    /// Stops its server.
    public func stop() async { await server.stop() }

    /// Its node id.
    public var nodeID: String { key.record.id.hex }

    /// A peer entry naming it, for a node's configuration.
    public func asPeer(_ name: String) -> PeerConfig { PeerConfig(name: name, url: server.url(""), node: nodeID) }

    /// Answers `path` with what `body` makes of the request, signed as a node's sync server signs its answers.
    public func answer(_ path: String, _ body: @escaping @Sendable (Request) async -> Data) {
        server.route(path) { [gate] request in
            SyncRoutes.signedAnswer(await body(request), type: "application/octet-stream", answering: request, gate: gate)
        }
    }

    /// Answers `path` with `bytes`, signed.
    public func answer(_ path: String, bytes: Data) { answer(path) { _ in bytes } }

    /// Answers `GET /v1/changes` with the page `page` makes for the `since` asked.
    public func changes(_ page: @escaping @Sendable (Int64) async -> ChangesPage) {
        answer("/v1/changes") { request in
            let since = request.uri.queryParameters.get("since", as: Int64.self) ?? 0
            return (try? JSONEncoder().encode(await page(since))) ?? Data()
        }
    }

    /// Answers `POST /v1/objects` with `frames`, each followed by its `data`, whatever was asked.
    public func objects(_ frames: [ObjectFrame], data: [Data]) throws {
        var body = Data()
        for (frame, bytes) in zip(frames, data) {
            body.append(try JSONEncoder().encode(frame))
            body.append(0x0A)
            body.append(bytes)
        }
        answer("/v1/objects", bytes: body)
    }

    /// Answers `POST /v1/objects` with the frames of those of `blobs` that were asked for, in the order asked.
    public func objects(from blobs: [ContentHash: Data]) {
        answer("/v1/objects") { request in
            guard let asked = try? await request.body.collect(upTo: 1 << 20),
                let hashes = try? JSONDecoder().decode(ObjectsRequest.self, from: Data(buffer: asked)).hashes
            else { return Data() }
            var body = Data()
            for hex in hashes {
                guard let hash = ContentHash(hex: hex), let bytes = blobs[hash] else { continue }
                body.append(
                    (try? JSONEncoder().encode(
                        ObjectFrame(hash: hex, encoding: "identity", size: bytes.count, length: bytes.count))) ?? Data())
                body.append(0x0A)
                body.append(bytes)
            }
            return body
        }
    }
}
