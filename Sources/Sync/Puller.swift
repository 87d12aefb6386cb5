public import Archive
public import Fetching
import Foundation
public import NewsCore

/// What one pull achieved.
public struct PullSummary: Sendable, Equatable {
    /// Records that were new here.
    public var added: Int
    /// Blobs fetched from the peer.
    public var blobs: Int
    /// The peer's sequence number this node now has everything up to.
    public var cursor: Int64
    /// How much of this node's change log the peer holds, as it last said.
    public var peerHolds: PushCursor?
}

/// Why a pull stopped. Whatever was committed before stays; the cursor never passes what is stored.
public enum PullError: Error, CustomStringConvertible {
    /// The peer could not be reached or broke off.
    case unreachable(String)
    /// The peer answered with an error status.
    case refused(status: Int, body: String)
    /// The peer is not configured with its node id, or another node answered.
    case unauthenticated(String)
    /// The peer sent something that is not what it claims to be.
    case corrupt(String)

    public var description: String {
        switch self {
        case .unreachable(let message): "peer unreachable: \(message)"
        case .refused(403, _): "peer answered 403: it does not know this node (add this node's id there)"
        case .refused(let status, let body): "peer answered \(status): \(body.prefix(200))"
        case .unauthenticated(let message): "peer not authenticated: \(message)"
        case .corrupt(let message): "peer sent bad data: \(message)"
        }
    }
}

/// Pulls a peer's changes into the local archive.
///
/// Pages of the change log are read in order; the blobs their captures need and this node lacks are
/// fetched and verified; records, blobs and the cursor are committed in one transaction per batch.
public struct Puller: Sendable {
    let archive: Archive
    let fetcher: Fetcher
    let limits: FetchLimits
    /// This node's key: every request is signed with it.
    let key: NodeKey

    public init(archive: Archive, fetcher: Fetcher, limits: FetchLimits, key: NodeKey) {
        self.archive = archive
        self.fetcher = fetcher
        self.limits = limits
        self.key = key
    }

    /// Pulls everything new from `peer`.
    public func pull(_ peer: PeerConfig) async throws -> PullSummary {
        var summary = PullSummary(added: 0, blobs: 0, cursor: 0, peerHolds: nil)
        var state = try archive.cursor(peer: peer.name)
        while true {
            let page: ChangesPage = try await call(
                peer, path: "/v1/changes", query: "since=\(state.cursor)&limit=\(SyncLimits.defaultPage)")
            if page.epoch != state.epoch, state.cursor != 0 {
                // The peer's database was recreated or restored: its sequence numbers mean something else now.
                state = PeerCursor(epoch: page.epoch, cursor: 0)
                continue
            }
            try await store(page, from: peer, summary: &summary)
            let previous = state.cursor
            state = PeerCursor(epoch: page.epoch, cursor: page.last)
            summary.cursor = page.last
            summary.peerHolds = page.yours
            // A page may hold nothing (all it covered came from this node) and still move the cursor.
            guard page.more, page.last > previous else { return summary }
        }
    }

    /// Commits a page in batches bounded by blob bytes, each with the cursor of its last change. The blobs a page
    /// needs are fetched several at a time, so a slow link's round trips overlap.
    private func store(_ page: ChangesPage, from peer: PeerConfig, summary: inout PullSummary) async throws {
        if let bad = page.changes.first(where: { !$0.item.isIntact }) {
            throw PullError.corrupt("\(bad.item.kind) \(bad.item.id) does not match its content")
        }
        var needed: [ContentHash] = []
        var seen = Set<ContentHash>()
        for change in page.changes {
            if case .capture(let capture) = change.item, seen.insert(capture.blobHash).inserted {
                needed.append(capture.blobHash)
            }
        }
        let missing = Set(try archive.missingBlobs(needed))
        var fetched: [ContentHash: StoredBlob] = [:]
        var items: [ArchiveItem] = []
        var blobs: [StoredBlob] = []
        var bytes = 0
        var pending = needed.filter { missing.contains($0) }[...]
        // Blobs that arrived, whether still waiting in `fetched` or already in a batch (two captures may share one).
        var received = Set<ContentHash>()
        for (index, change) in page.changes.enumerated() {
            if case .capture(let capture) = change.item, missing.contains(capture.blobHash),
                !received.contains(capture.blobHash)
            {
                // This blob and the next ones the page needs, in one request.
                while fetched[capture.blobHash] == nil {
                    let asked = Array(pending.prefix(SyncLimits.objectsPerRequest))
                    let arrived = try await fetchObjects(asked, from: peer)
                    guard !arrived.isEmpty else {
                        throw PullError.corrupt("the peer lists blob \(capture.blobHash) but does not send it")
                    }
                    for blob in arrived {
                        fetched[blob.hash] = blob
                        received.insert(blob.hash)
                    }
                    pending.removeFirst(arrived.count)
                }
            }
            if case .capture(let capture) = change.item, let blob = fetched.removeValue(forKey: capture.blobHash) {
                blobs.append(blob)
                bytes += blob.data.count
            }
            items.append(change.item)
            let isLast = index == page.changes.count - 1
            if isLast || bytes >= SyncLimits.batchBytes {
                summary.added += try archive.apply(
                    items, blobs: blobs, from: peer.name, url: peer.url.absoluteString, epoch: page.epoch,
                    cursor: isLast ? page.last : change.seq, head: page.head, origin: peer.node)
                summary.blobs += blobs.count
                items.removeAll()
                blobs.removeAll()
                bytes = 0
            }
        }
        if page.changes.isEmpty {
            try archive.apply(
                [], blobs: [], from: peer.name, url: peer.url.absoluteString, epoch: page.epoch, cursor: page.last,
                head: page.head)
        }
    }

    /// Asks for `hashes` in one `POST /v1/objects`; returns the blobs that came, in order, each checked. The answer
    /// must hold a prefix of what was asked, in order.
    private func fetchObjects(_ hashes: [ContentHash], from peer: PeerConfig) async throws -> [StoredBlob] {
        let body = try JSONEncoder().encode(ObjectsRequest(hashes: hashes.map(\.hex)))
        let response = try await request(peer, path: "/v1/objects", query: nil, method: "POST", body: body)
        do {
            return try ObjectFrames.read(response.body) { hash, index in index < hashes.count && hash == hashes[index] }
        } catch {
            throw PullError.corrupt("\(error)")
        }
    }

    /// A signed request to `peer`, its answer checked and decoded.
    func call<T: Decodable>(
        _ peer: PeerConfig, path: String, query: String? = nil, method: String = "GET", body: Data = Data()
    ) async throws -> T {
        let response = try await request(peer, path: path, query: query, method: method, body: body)
        do {
            return try JSONDecoder().decode(T.self, from: response.body)
        } catch {
            throw PullError.corrupt("\(path): \(error)")
        }
    }

    func request(
        _ peer: PeerConfig, path: String, query: String?, method: String = "GET", body: Data = Data()
    ) async throws -> FetchResponse {
        guard let node = peer.node else {
            throw PullError.unauthenticated("peer \(peer.name) has no node id (set `node` in its [[peer]] entry)")
        }
        guard var components = URLComponents(url: peer.url, resolvingAgainstBaseURL: false) else {
            throw PullError.unreachable("bad peer URL \(peer.url)")
        }
        components.path = components.path.trimmingSuffix("/") + path
        components.percentEncodedQuery = query
        guard let url = components.url else { throw PullError.unreachable("bad peer URL \(peer.url)") }
        var limits = limits
        limits.maxBodyBytes = max(limits.maxBodyBytes, SyncLimits.maxPageBytes)
        let target = components.percentEncodedPath + (query.map { "?" + $0 } ?? "")
        let headers = try SyncAuth.requestHeaders(method: method, target: target, body: body, key: key, to: node)
        let response: FetchResponse
        do {
            response = try await fetcher.fetch(
                FetchRequest(
                    url: url, method: method, headers: headers + (method == "GET" ? [] : [("Content-Type", "application/json")]),
                    body: method == "GET" ? nil : body, limits: limits))
        } catch {
            throw PullError.unreachable(error.description)
        }
        guard response.status == 200 else {
            throw PullError.refused(status: response.status, body: String(decoding: response.body.prefix(200), as: UTF8.self))
        }
        if let problem = SyncAuth.problem(
            withAnswer: response.status, header: { response.header($0) }, body: response.body, nonce: headers.last!.1,
            from: node)
        {
            throw PullError.unauthenticated(problem)
        }
        return response
    }
}

extension String {
    fileprivate func trimmingSuffix(_ suffix: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
    }
}
