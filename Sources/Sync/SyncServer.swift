public import Archive
public import Foundation
public import Hummingbird
public import HummingbirdCore
import NIOCore
public import NewsCore

/// The sync protocol's server side: routes a node serves to its peers.
public enum SyncRoutes {
    /// Adds the sync routes (docs/PROTOCOL.md) to `router`, behind `gate`: only signed requests of allowed nodes reach
    /// them, and every answer is signed. `texts` makes the texts a pusher leaves out (none are left out without it),
    /// and `made` is told how many it made for which peer; `served` is told how many blobs each `/v1/objects` answer
    /// carries.
    public static func add(
        to router: Router<BasicRequestContext>, archive: Archive, gate: SyncGate, nodeID: String, texts: TextMaker? = nil,
        made: @escaping @Sendable (_ peer: String, _ texts: Int) -> Void = { _, _ in },
        served: @escaping @Sendable (Int) -> Void = { _ in }
    ) {
        /// The peer that sent `request` (the gate let it in, so its node header is checked).
        @Sendable func sender(_ request: Request) throws -> PeerConfig {
            guard let node = FieldName(SyncAuth.Header.node).flatMap({ request.headers[$0] })?.lowercased(),
                let sender = gate.peer(node: node)
            else { throw HTTPError(.forbidden) }
            return sender
        }
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
            // What came from the asker itself is left out: it has it, unless its archive is another now (a new epoch).
            let asker = try sender(request)
            let held = try archive.cursor(peer: asker.name)
            if let epoch = query.get("epoch"), let node = asker.node, let known = held.epoch, known != epoch {
                try archive.forgetOrigin(node)
            }
            let head = try archive.lastSequence()
            var page = try archive.changes(since: since, limit: limit, skipping: asker.node)
            let derived = query.get("derive").map { leaveOutTexts(&page.changes, derivedBy: $0) }
            return try json(
                ChangesPage(
                    nodeID: nodeID, epoch: archive.epoch, last: page.last, more: page.last < head, head: head,
                    yours: held, sinceKey: since > 0 ? try archive.changeKey(at: since) : nil,
                    lastKey: page.last > 0 ? try archive.changeKey(at: page.last) : nil, changes: page.changes,
                    derived: derived),
                answering: request, gate: gate)
        }
        routes.post("/v1/texts") { request, _ -> Response in
            let asked = try await decoded(TextsRequest.self, of: request, upTo: 1 << 20, expected: #"{"ids": [...]}"#)
            guard asked.ids.count <= SyncLimits.maxPage else {
                throw HTTPError(.badRequest, message: "at most \(SyncLimits.maxPage) texts per request")
            }
            return try json(TextsAnswer(texts: try archive.texts(try asked.ids.map(hash))), answering: request, gate: gate)
        }
        routes.get("/v1/cursor") { request, _ -> Response in
            try json(try archive.cursor(peer: try sender(request).name), answering: request, gate: gate)
        }
        routes.post("/v1/missing") { request, context -> Response in
            let asked = try await decoded(
                MissingRequest.self, of: request, upTo: 4 << 20, expected: #"{"records": [...], "blobs": [...]}"#)
            guard asked.records.count <= SyncLimits.maxPage, asked.blobs.count <= SyncLimits.maxPage else {
                throw HTTPError(.badRequest, message: "at most \(SyncLimits.maxPage) records and blobs per request")
            }
            let records = try asked.records.map { name in
                guard let record = ArchiveItem.parseChangeKey(name) else {
                    throw HTTPError(.badRequest, message: "\(name.prefix(80)) is not KIND/ID")
                }
                return record
            }
            let blobs = try asked.blobs.map(hash)
            return try json(
                MissingRequest(
                    records: try archive.missingRecords(records).map { ArchiveItem.changeKey(kind: $0.kind, id: $0.id) },
                    blobs: try archive.missingBlobs(blobs).map(\.hex), derive: texts?.extractor), answering: request,
                gate: gate)
        }
        routes.post("/v1/push") { request, context -> Response in
            let pusher = try sender(request)
            let data = Data(buffer: try await request.body.collect(upTo: SyncLimits.maxRequestBytes))
            // Checking the frames, making left-out texts (every core, up to a page's worth of pages) and the write
            // transaction run on a thread of their own: on one of Swift concurrency's threads, a push would hold up
            // every other request this node answers meanwhile.
            let result = try await onOwnThread {
                try receivePush(data, from: pusher, archive: archive, texts: texts) { made(pusher.name, $0) }
            }
            return try json(result, answering: request, gate: gate)
        }
        routes.post("/v1/objects") { request, context -> Response in
            let asked = try await decoded(ObjectsRequest.self, of: request, upTo: 1 << 20, expected: #"{"hashes": [...]}"#)
            let whole = asked.whole == true && request.headers[.acceptEncoding]?.contains("zstd") == true
            let (body, count) = try objects(
                asked.hashes, archive: archive, original: whole, dictionaries: asked.dictionaries == true)
            served(count)
            return signedAnswer(
                body, type: "application/x-newsd-objects", answering: request, gate: gate,
                compressing: whole ? .whole : nil)
        }
        routes.get("/v1/blobs/:hash") { request, context -> Response in
            guard let hash = context.parameters.get("hash").flatMap(ContentHash.init(hex:)) else {
                throw HTTPError(.badRequest, message: "not a SHA-256 hex digest")
            }
            // Sent as stored (compressed pages cross the wire compressed; with `dictionaries=1` those compressed with a
            // dictionary too), or with `original=1` as the original bytes, the answer compressed as a whole when the
            // asker accepts that.
            let original = request.uri.queryParameters.get("original") == "1"
            let dictionaries = request.uri.queryParameters.get("dictionaries") == "1"
            guard let stored = try archive.storedBlob(hash, original: original, dictionaries: dictionaries) else {
                throw HTTPError(.notFound, message: "no blob \(hash)")
            }
            // `Range: bytes=N-`: the rest of a blob whose first N bytes came before a link broke.
            let from = request.headers[.range].flatMap(rangeStart)
            if let from, from >= stored.data.count {
                throw HTTPError(.rangeNotSatisfiable, message: "the blob has \(stored.data.count) bytes")
            }
            var response = signedAnswer(
                stored.data[(from ?? 0)...], type: "application/octet-stream", answering: request, gate: gate,
                status: from == nil ? .ok : .partialContent, compressing: original ? .whole : nil)
            if let from {
                response.headers[.contentRange] = "bytes \(from)-\(stored.data.count - 1)/\(stored.data.count)"
            }
            response.headers[FieldName(SyncAuth.Header.encoding)!] = stored.encoding
            response.headers[FieldName(SyncAuth.Header.size)!] = String(stored.size)
            if let host = try archive.dictionaryHost(hash) {
                response.headers[FieldName(SyncAuth.Header.dictionary)!] = host
            }
            return response
        }
    }

    /// Stores what the body of a `POST /v1/push` from `pusher` brings (docs/PROTOCOL.md): a line of JSON with the run
    /// of changes, then the frames of the blobs its captures name, each checked; the texts it leaves out are made with
    /// `texts` first (`made` is told how many), and if one cannot be, nothing is stored and the answer names them.
    /// Throws an `HTTPError` with the status to answer when the body is malformed (400), does not hold up (400) or does
    /// not follow what is stored (409).
    public static func receivePush(
        _ data: Data, from pusher: PeerConfig, archive: Archive, texts: TextMaker? = nil,
        made: (Int) -> Void = { _ in }
    ) throws -> PushResult {
        guard let newline = data.firstIndex(of: 0x0A),
            let header = try? JSONDecoder().decode(PushHeader.self, from: data[..<newline])
        else { throw HTTPError(.badRequest, message: "a push starts with a line of JSON: epoch, since, last, head, changes") }
        let derived = header.derived ?? []
        guard header.changes.count + derived.count <= SyncLimits.maxPage, header.since >= 0, header.last >= header.since,
            header.changes.map(\.seq).allSatisfy({ $0 > header.since && $0 <= header.last }),
            derived.map(\.seq).allSatisfy({ $0 > header.since && $0 <= header.last })
        else {
            throw HTTPError(.badRequest, message: "a push holds at most \(SyncLimits.maxPage) changes after since, up to last")
        }
        var needed = Set<ContentHash>()
        for change in header.changes {
            if case .capture(let capture) = change.item { needed.insert(capture.blobHash) }
        }
        do {
            // Each blob once, and only blobs the pushed captures name.
            // Pages sent as their original bytes (in a body compressed as a whole) are kept compressed.
            let frames = try ObjectFrames.read(data[(newline + 1)...]) { hash, _ in needed.remove(hash) != nil }
            var changes = header.changes
            if !derived.isEmpty {
                let pages = Dictionary(frames.map { ($0.hash, $0) }) { first, _ in first }
                let texts = try texts?.make(try derived.map { try hash($0.id) }, in: changes, blobs: pages, archive: archive)
                let (all, underived) = TextMaker.put(texts ?? [:], for: derived, into: changes)
                guard underived.isEmpty else { return PushResult(added: 0, cursor: header.since, underived: underived) }
                changes = all
                made(derived.count)
            }
            let (added, cursor) = try archive.receive(
                changes.map(\.item), blobs: frames.map { $0.compressed() }, from: pusher.name, url: pusher.url.absoluteString,
                epoch: header.epoch, since: header.since, last: header.last, lastKey: header.lastKey, head: header.head,
                origin: pusher.node)
            return PushResult(added: added, cursor: cursor)
        } catch let error as FrameError {
            throw HTTPError(.badRequest, message: error.description)
        } catch let error as IntegrityError {
            throw HTTPError(.badRequest, message: error.description)
        } catch let error as PushConflict {
            throw HTTPError(.conflict, message: error.description)
        }
    }

    /// The body of `request` (at most `limit` bytes) decoded as `type`; a 400 that says what was `expected` otherwise.
    static func decoded<T: Decodable>(_ type: T.Type, of request: Request, upTo limit: Int, expected: String) async throws -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(buffer: try await request.body.collect(upTo: limit)))
        } catch {
            throw HTTPError(.badRequest, message: "expected \(expected)")
        }
    }

    /// The hash `hex` names; a 400 when it is not 64 hex digits.
    static func hash(_ hex: String) throws -> ContentHash {
        guard let hash = ContentHash(hex: hex) else {
            throw HTTPError(.badRequest, message: "\(hex.prefix(80)) is not a SHA-256 hex digest")
        }
        return hash
    }

    /// The frames of a `POST /v1/objects` answer for `hashes`, up to ``SyncLimits/objectsBytes``.
    static func objects(
        _ hashes: [String], archive: Archive, original: Bool, dictionaries: Bool = false
    ) throws -> (Data, Int) {
        guard hashes.count <= SyncLimits.objectsPerRequest else {
            throw HTTPError(.badRequest, message: "at most \(SyncLimits.objectsPerRequest) hashes per request")
        }
        var body = Data()
        var count = 0
        for hex in hashes {
            guard let stored = try archive.storedBlob(try hash(hex), original: original, dictionaries: dictionaries)
            else { continue }
            try ObjectFrames.append(stored, to: &body)
            count += 1
            if body.count >= SyncLimits.objectsBytes { break }
        }
        return (body, count)
    }

    /// Takes out of `changes` the texts that an extraction in them made with `extractor` names, and returns where
    /// they were: the node that reads them makes them itself from the pages.
    static func leaveOutTexts(_ changes: inout [Change], derivedBy extractor: String) -> [DerivedText] {
        var derivable = Set<ContentHash>()
        for case .extraction(let extraction) in changes.map(\.item) where extraction.extractor == extractor {
            derivable.insert(extraction.textID)
        }
        var derived: [DerivedText] = []
        changes.removeAll { change in
            guard case .text(let text) = change.item, derivable.contains(text.id) else { return false }
            derived.append(DerivedText(seq: change.seq, id: text.id.hex))
            return true
        }
        return derived
    }

    static func json(_ value: some Encodable, answering request: Request, gate: SyncGate) throws -> Response {
        // Records, hex and text compress about 4:1.
        signedAnswer(
            try WireJSON.encoder.encode(value), type: "application/json", answering: request, gate: gate,
            compressing: .wire)
    }

    /// The first byte a `Range: bytes=N-` header asks for; `nil` for any other range (the whole is sent).
    static func rangeStart(_ header: String) -> Int? {
        guard header.hasPrefix("bytes="), header.hasSuffix("-") else { return nil }
        return Int(header.dropFirst("bytes=".count).dropLast()).flatMap { $0 >= 0 ? $0 : nil }
    }

    /// A 200 (or `status`) answer with `data`, signed for the request it answers. With `compressing`, an answer of 1 KiB
    /// or more crosses the wire zstd-compressed so when the asker accepts that (`Accept-Encoding`, as libcurl sends it);
    /// the signature is over `data` as it is, before compression.
    public static func signedAnswer(
        _ data: Data, type: String, answering request: Request, gate: SyncGate, status: HTTPResponse.Status = .ok,
        compressing compression: WireCompression? = nil
    ) -> Response {
        let nonce = FieldName(SyncAuth.Header.nonce).flatMap { request.headers[$0] } ?? ""
        var headers = gate.answerHeaders(status: status.code, body: data, nonce: nonce)
        headers[.contentType] = type
        var body = data
        if let compression, data.count >= 1024, request.headers[.acceptEncoding]?.contains("zstd") == true,
            let compressed = compression.compress(data)
        {
            body = compressed
            headers[.contentEncoding] = "zstd"
        }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

}

extension SyncRoutes {
    /// How a sync server speaks HTTP/1: it reads sockets 8 KiB at a time, so that what a connection holds before the
    /// gate refuses it stays small (a refused request's body is never read, but what arrived with its headers is
    /// buffered), and closes connections idle for a minute.
    public static var http1: HTTP1Channel.Configuration {
        .init(additionalChannelHandlers: [SmallReads()], idleTimeout: .seconds(60))
    }
}

/// Sets its channel to read at most 8 KiB per read from the socket; passes everything through.
private final class SmallReads: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    func handlerAdded(context: ChannelHandlerContext) {
        try? context.channel.syncOptions?.setOption(
            ChannelOptions.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 1024, initial: 4096, maximum: 8192))
    }
}
