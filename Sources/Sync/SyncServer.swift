public import Archive
public import Foundation
public import Hummingbird
import NewsCore

/// The sync protocol's server side: routes a node serves to its peers.
public enum SyncRoutes {
    /// Adds `/v1/info`, `/v1/changes`, `/v1/objects` and `/v1/blobs/{hash}` to `router`, behind `gate`: only signed
    /// requests of allowed nodes reach them, and every answer is signed. `served` is told how many blobs each
    /// `/v1/objects` answer carries.
    public static func add(
        to router: Router<BasicRequestContext>, archive: Archive, gate: SyncGate, nodeID: String,
        served: @escaping @Sendable (Int) -> Void = { _ in }
    ) {
        let routes = router.group().add(middleware: SyncGateMiddleware(gate: gate))
        routes.get("/v1/info") { request, _ -> Response in
            try json(
                NodeInfo(nodeID: nodeID, epoch: archive.epoch, lastSeq: try archive.lastSequence(), version: newsdVersion),
                answering: request, gate: gate)
        }
        routes.get("/v1/changes") { request, _ -> Response in
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
                    head: try archive.lastSequence(), changes: page), answering: request, gate: gate)
        }
        routes.post("/v1/objects") { request, context -> Response in
            let asked: ObjectsRequest
            do {
                asked = try JSONDecoder().decode(
                    ObjectsRequest.self, from: Data(buffer: try await request.body.collect(upTo: 1 << 20)))
            } catch {
                throw HTTPError(.badRequest, message: "expected {\"hashes\": [...]}")
            }
            let (body, count) = try objects(asked.hashes, archive: archive)
            served(count)
            return signedAnswer(body, type: "application/x-newsd-objects", answering: request, gate: gate)
        }
        routes.get("/v1/blobs/:hash") { request, context -> Response in
            guard let hash = context.parameters.get("hash").flatMap(ContentHash.init(hex:)) else {
                throw HTTPError(.badRequest, message: "not a SHA-256 hex digest")
            }
            guard let stored = try archive.storedBlob(hash) else { throw HTTPError(.notFound, message: "no blob \(hash)") }
            // Sent as stored: compressed pages cross the wire compressed.
            var response = signedAnswer(stored.data, type: "application/octet-stream", answering: request, gate: gate)
            response.headers[FieldName(SyncAuth.Header.encoding)!] = stored.encoding
            response.headers[FieldName(SyncAuth.Header.size)!] = String(stored.size)
            return response
        }
    }

    /// The frames of a `POST /v1/objects` answer for `hashes`, up to ``SyncLimits/objectsBytes``.
    static func objects(_ hashes: [String], archive: Archive) throws -> (Data, Int) {
        guard hashes.count <= SyncLimits.objectsPerRequest else {
            throw HTTPError(.badRequest, message: "at most \(SyncLimits.objectsPerRequest) hashes per request")
        }
        var body = Data()
        var count = 0
        for hex in hashes {
            guard let hash = ContentHash(hex: hex) else {
                throw HTTPError(.badRequest, message: "\(hex) is not a SHA-256 hex digest")
            }
            guard let stored = try archive.storedBlob(hash) else { continue }
            let frame = ObjectFrame(hash: hash.hex, encoding: stored.encoding, size: stored.size, length: stored.data.count)
            body.append(try WireJSON.encoder.encode(frame))
            body.append(0x0A)
            body.append(stored.data)
            count += 1
            if body.count >= SyncLimits.objectsBytes { break }
        }
        return (body, count)
    }

    static func json(_ value: some Encodable, answering request: Request, gate: SyncGate) throws -> Response {
        signedAnswer(try WireJSON.encoder.encode(value), type: "application/json", answering: request, gate: gate)
    }

    /// A 200 answer with `data`, signed for the request it answers.
    public static func signedAnswer(_ data: Data, type: String, answering request: Request, gate: SyncGate) -> Response {
        let nonce = FieldName(SyncAuth.Header.nonce).flatMap { request.headers[$0] } ?? ""
        var headers = gate.answerHeaders(status: 200, body: data, nonce: nonce)
        headers[.contentType] = type
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
