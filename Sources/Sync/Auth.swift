import Archive
import Crypto
public import Foundation
public import Hummingbird
import NIOCore
public import NewsCore
import Synchronization

/// How sync requests and their answers are signed with the nodes' Ed25519 keys (docs/PROTOCOL.md, "Authentication").
///
/// A request carries the sender's node id and public key, the time, a random nonce and a signature over the method,
/// the request target, the SHA-256 of the body, the time, the nonce and the receiving node's id: it cannot be replayed,
/// moved to another path, or taken to another node. An answer carries the responder's key and a signature over its
/// status, the request's nonce and the SHA-256 of its body, so the requester knows which node answered.
public enum SyncAuth {
    /// Requests whose time is further than this from the receiver's clock are refused.
    public static let maximumSkew: TimeInterval = 300

    /// The header names, lowercase.
    public enum Header {
        public static let node = "x-newsd-node"
        public static let key = "x-newsd-key"
        public static let time = "x-newsd-time"
        public static let nonce = "x-newsd-nonce"
        public static let signature = "x-newsd-signature"
        /// On a request: the SHA-256 of its body, in hex, which the signature covers. The receiver checks the signature
        /// before it reads the body, and the body against this hash as it reads it.
        public static let body = "x-newsd-body"
        /// On a blob: how its bytes are encoded (`zstd` or `identity`), and the size of the original.
        public static let encoding = "x-newsd-encoding"
        public static let size = "x-newsd-size"
        /// On a blob that is one of the node's zstd dictionaries: the host whose pages it was made of.
        public static let dictionary = "x-newsd-dictionary"
    }

    static func requestMessage(
        method: String, target: String, bodyHash: String, time: String, nonce: String, to node: String
    ) -> Data {
        Data("newsd-sync-request/1\n\(method)\n\(target)\n\(bodyHash)\n\(time)\n\(nonce)\n\(node)".utf8)
    }

    static func responseMessage(status: Int, nonce: String, bodyHash: String) -> Data {
        Data("newsd-sync-response/1\n\(status)\n\(nonce)\n\(bodyHash)".utf8)
    }

    /// The headers that sign a request from `key`'s node to the node `peer`; the nonce is the last header's value.
    public static func requestHeaders(
        method: String, target: String, body: Data, key: NodeKey, to peer: String, now: Date = Date()
    ) throws -> [(String, String)] {
        let time = String(Int(now.timeIntervalSince1970))
        let nonce = Data((0..<16).map { _ in UInt8.random(in: 0...255) }).hexString
        let bodyHash = ContentHash(of: body).hex
        let message = requestMessage(method: method, target: target, bodyHash: bodyHash, time: time, nonce: nonce, to: peer)
        return [
            (Header.node, key.record.id.hex), (Header.key, key.record.publicKey), (Header.time, time),
            (Header.body, bodyHash), (Header.signature, try key.signature(for: message).hexString), (Header.nonce, nonce),
        ]
    }

    /// Why an answer is not the signed answer of `peer` to the request with `nonce`, or `nil` when it is.
    public static func problem(
        withAnswer status: Int, header: (String) -> String?, body: Data, nonce: String, from peer: String
    ) -> String? {
        guard let keyHex = header(Header.key), let keyBytes = Data(hex: keyHex) else { return "the answer is not signed" }
        let node = NodeRecord(publicKey: keyBytes)
        guard node.id.hex == peer else { return "the answer comes from node \(node.id.hex.prefix(16)), not \(peer.prefix(16))" }
        guard let signature = header(Header.signature).flatMap({ Data(hex: $0) }),
            node.isValidSignature(
                signature, for: responseMessage(status: status, nonce: nonce, bodyHash: ContentHash(of: body).hex))
        else { return "the answer's signature is not valid" }
        return nil
    }
}

/// A header name (HTTPTypes' `HTTPField.Name`, reached through what Hummingbird exports).
typealias FieldName = HTTPFields.Element.Name

/// Why the sync server refused a request.
public enum SyncRefusal: Error, Equatable {
    /// The sender is not a node this one syncs with (or did not say who it is): 403, and nothing else.
    case forbidden
    /// The sender is allowed, but the request is not validly signed, is stale, or was seen before: 401.
    case unauthorized(String)
    /// The sender is allowed, but the body it announces is larger than the server reads: 413.
    case tooLarge(Int)
}

/// The sync server's door: which nodes may sync with this one (the peers, by node id), and which requests it has seen.
public final class SyncGate: Sendable {
    private let key: NodeKey
    private let allowed: Mutex<[String: PeerConfig]>
    /// Nonces seen within the allowed clock skew, with when they were seen.
    private let seen = Mutex<[String: Date]>([:])
    /// Boxed: a function value kept in a `Mutex` and read back through its `inout` access comes back wrapped in one more
    /// reabstraction thunk each time, and read on every request the chain grew until it overflowed the stack (after
    /// some 100,000 requests).
    private let contact = Mutex<ContactHandler?>(nil)

    private final class ContactHandler: Sendable {
        let handle: @Sendable (String) async -> Void

        init(_ handle: @escaping @Sendable (String) async -> Void) { self.handle = handle }
    }

    /// A gate for the node with `key` that lets in the nodes of `peers`.
    public init(key: NodeKey, peers: [PeerConfig]) {
        self.key = key
        self.allowed = Mutex(Self.byNode(peers))
    }

    private static func byNode(_ peers: [PeerConfig]) -> [String: PeerConfig] {
        Dictionary(peers.compactMap { peer in peer.node.map { ($0, peer) } }, uniquingKeysWith: { first, _ in first })
    }

    /// Calls `handler` with the node id of every request let in (a peer that reaches this node is up).
    public func onContact(_ handler: @escaping @Sendable (String) async -> Void) {
        contact.withLock { $0 = ContactHandler(handler) }
    }

    /// Reports a node let in to the contact handler.
    func contacted(by node: String) async {
        if let handler = contact.withLock({ $0 }) { await handler.handle(node) }
    }

    /// Replaces the peers let in (a reload, a peer added).
    public func allow(_ peers: [PeerConfig]) { allowed.withLock { $0 = Self.byNode(peers) } }

    /// The peer whose node id is `node`, if it is let in.
    public func peer(node: String) -> PeerConfig? { allowed.withLock { $0[node] } }

    /// Checks a request's headers, before its body is read: the sender, its key, the time, the nonce, and the
    /// signature over them and the body's announced SHA-256 (which the body must then match). Returns the id of the
    /// node that sent it and the body's hash.
    public func check(
        method: String, target: String, header: (String) -> String?, now: Date = Date()
    ) throws(SyncRefusal) -> (node: String, body: ContentHash) {
        guard let node = header(SyncAuth.Header.node)?.lowercased(), allowed.withLock({ $0[node] != nil }) else {
            throw .forbidden
        }
        guard let keyHex = header(SyncAuth.Header.key), let keyBytes = Data(hex: keyHex),
            NodeRecord(publicKey: keyBytes).id.hex == node
        else { throw .unauthorized("the key does not belong to node \(node.prefix(16))") }
        guard let time = header(SyncAuth.Header.time), let seconds = Double(time),
            abs(now.timeIntervalSince1970 - seconds) <= SyncAuth.maximumSkew
        else { throw .unauthorized("the request's time is more than \(Int(SyncAuth.maximumSkew)) s from this node's clock") }
        guard let nonce = header(SyncAuth.Header.nonce), nonce.count >= 16, nonce.count <= 128,
            let signature = header(SyncAuth.Header.signature).flatMap({ Data(hex: $0) })
        else { throw .unauthorized("the request is not signed") }
        guard let body = header(SyncAuth.Header.body).flatMap(ContentHash.init(hex:)) else {
            throw .unauthorized("the request does not name its body's SHA-256 (\(SyncAuth.Header.body))")
        }
        let message = SyncAuth.requestMessage(
            method: method, target: target, bodyHash: body.hex, time: time, nonce: nonce, to: key.record.id.hex)
        guard NodeRecord(publicKey: keyBytes).isValidSignature(signature, for: message) else {
            throw .unauthorized("the request's signature is not valid")
        }
        let fresh = seen.withLock { seen in
            if seen.count > 10_000 { seen = seen.filter { now.timeIntervalSince($0.value) <= SyncAuth.maximumSkew * 2 } }
            guard seen["\(node) \(nonce)"] == nil else { return false }
            seen["\(node) \(nonce)"] = now
            return true
        }
        guard fresh else { throw .unauthorized("the request was seen before") }
        return (node, body)
    }

    /// The headers that sign an answer with `status` and `body` to the request with `nonce`.
    public func answerHeaders(status: Int, body: Data, nonce: String) -> HTTPFields {
        var fields = HTTPFields()
        fields[FieldName(SyncAuth.Header.key)!] = key.record.publicKey
        let message = SyncAuth.responseMessage(status: status, nonce: nonce, bodyHash: ContentHash(of: body).hex)
        fields[FieldName(SyncAuth.Header.signature)!] = (try? key.signature(for: message).hexString) ?? ""
        return fields
    }
}

/// Lets only signed requests of allowed nodes through to the sync routes.
///
/// Everything about the sender is checked on the headers alone, so that a stranger's body is never read: refused
/// requests are answered at once, whatever they announce. An accepted body is read up to
/// ``SyncLimits/maxRequestBytes`` (a larger `Content-Length` gets 413 before any of it is read), hashed as it
/// arrives, and must match the SHA-256 the signature covers.
struct SyncGateMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let gate: SyncGate

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response
    {
        var request = request
        let checked: (node: String, body: ContentHash)
        do throws(SyncRefusal) {
            checked = try gate.check(
                method: request.method.rawValue, target: request.head.path ?? "",
                header: { name in FieldName(name).flatMap { request.headers[$0] } })
            if let length = request.headers[.contentLength].flatMap(Int.init), length > SyncLimits.maxRequestBytes {
                throw .tooLarge(length)
            }
            request.body = .init(buffer: try await readBody(request.body, matching: checked.body))
        } catch {
            return Self.refusal(error)
        }
        await gate.contacted(by: checked.node)
        if let encoding = request.headers[.contentEncoding] {
            guard let decoded = try await Self.decoded(request, encoding: encoding) else {
                return Response(
                    status: .unsupportedMediaType, headers: [.contentType: "text/plain", .acceptEncoding: "zstd"],
                    body: .init(byteBuffer: ByteBuffer(string: "a body in \(encoding); this node reads zstd")))
            }
            request.body = .init(buffer: decoded)
        }
        var response = try await next(request, context)
        // What this node reads in request bodies (RFC 9110 §12.5.3): a puller that sees it compresses what it sends.
        response.headers[.acceptEncoding] = "zstd"
        return response
    }

    /// The body of `request`, sent in `encoding` (and checked as it came), decoded up to
    /// ``SyncLimits/maxRequestBytes``; `nil` for an encoding this node does not read, a 400 when it does not decode.
    private static func decoded(_ request: Request, encoding: String) async throws -> ByteBuffer? {
        switch encoding.lowercased() {
        case "identity":
            return try await request.body.collect(upTo: .max)
        case "zstd":
            do {
                let body = Data(buffer: try await request.body.collect(upTo: .max))
                return ByteBuffer(bytes: try Zstd.decompress(body, upTo: SyncLimits.maxRequestBytes))
            } catch let error as IntegrityError {
                throw HTTPError(.badRequest, message: "the zstd body does not decode: \(error)")
            }
        default:
            return nil
        }
    }

    /// The body, read up to the limit and hashed as it arrives; refused unless it hashes to `expected`.
    private func readBody(_ body: RequestBody, matching expected: ContentHash) async throws(SyncRefusal) -> ByteBuffer {
        var collected = ByteBuffer()
        var hasher = SHA256()
        do {
            for try await chunk in body {
                guard collected.readableBytes + chunk.readableBytes <= SyncLimits.maxRequestBytes else {
                    throw SyncRefusal.tooLarge(collected.readableBytes + chunk.readableBytes)
                }
                chunk.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
                collected.writeImmutableBuffer(chunk)
            }
        } catch let refusal as SyncRefusal {
            throw refusal
        } catch {
            throw .unauthorized("the request's body broke off: \(error)")
        }
        guard ContentHash(hex: hasher.finalize().hexString) == expected else {
            throw .unauthorized("the request's body does not match the SHA-256 it was signed with")
        }
        return collected
    }

    /// The answer to a refused request. It closes the connection: what is left of the body is never read, not even
    /// to be thrown away.
    private static func refusal(_ refusal: SyncRefusal) -> Response {
        switch refusal {
        case .forbidden:
            return Response(status: .forbidden, headers: [.connection: "close"])
        case .unauthorized(let reason):
            return Response(
                status: .unauthorized, headers: [.contentType: "text/plain", .connection: "close"],
                body: .init(byteBuffer: ByteBuffer(string: reason)))
        case .tooLarge(let bytes):
            return Response(
                status: .contentTooLarge, headers: [.contentType: "text/plain", .connection: "close"],
                body: .init(
                    byteBuffer: ByteBuffer(
                        string: "a body of \(bytes) bytes is more than the \(SyncLimits.maxRequestBytes) this node reads")))
        }
    }
}
