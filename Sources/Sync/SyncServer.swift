public import Archive
import Foundation
public import Hummingbird
import NewsCore

/// The sync protocol's server side: routes a node serves to its peers.
public enum SyncRoutes {
    /// Adds `/v1/info`, `/v1/changes` and `/v1/blobs/{hash}` to `router`.
    public static func add(to router: Router<BasicRequestContext>, archive: Archive, nodeID: String) {
        router.get("/v1/info") { _, _ -> Response in
            try json(NodeInfo(nodeID: nodeID, epoch: archive.epoch, lastSeq: try archive.lastSequence(), version: newsdVersion))
        }
        router.get("/v1/changes") { request, _ -> Response in
            let query = request.uri.queryParameters
            guard let since = query.get("since", as: Int64.self), since >= 0 else {
                throw HTTPError(.badRequest, message: "since must be a non-negative integer")
            }
            let limit = min(query.get("limit", as: Int.self) ?? SyncLimits.defaultPage, SyncLimits.maxPage)
            guard limit > 0 else { throw HTTPError(.badRequest, message: "limit must be positive") }
            let changes = try archive.changes(since: since, limit: limit + 1)
            let page = Array(changes.prefix(limit))
            return try json(
                ChangesPage(
                    nodeID: nodeID, epoch: archive.epoch, last: page.last?.seq ?? since, more: changes.count > limit,
                    changes: page))
        }
        router.get("/v1/blobs/:hash") { _, context -> Response in
            guard let hash = context.parameters.get("hash").flatMap(ContentHash.init(hex:)) else {
                throw HTTPError(.badRequest, message: "not a SHA-256 hex digest")
            }
            guard let bytes = try archive.blob(hash) else { throw HTTPError(.notFound, message: "no blob \(hash)") }
            return Response(
                status: .ok, headers: [.contentType: "application/octet-stream"],
                body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }
    }

    static func json(_ value: some Encodable) throws -> Response {
        let data = try WireJSON.encoder.encode(value)
        return Response(
            status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
