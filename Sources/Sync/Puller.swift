public import Archive
public import Fetching
public import Foundation
public import NewsCore
import Synchronization

/// What one pull achieved.
public struct PullSummary: Sendable, Equatable {
    /// Records that were new here.
    public var added: Int
    /// Blobs fetched from the peer.
    public var blobs: Int
    /// The peer's sequence number this node now has everything up to.
    public var cursor: Int64
}

/// Bytes of request and answer bodies a puller has moved, both ways, and the requests it made.
public final class Traffic: Sendable {
    private let counts = Mutex((sent: 0, received: 0, requests: 0, made: 0, fetched: 0, unmade: 0))

    public init() {}

    func add(sent: Int, received: Int, requests: Int = 0) {
        counts.withLock {
            $0.sent += sent
            $0.received += received
            $0.requests += requests
        }
    }

    /// Bytes sent and received so far, and requests made (each one round trip at least).
    public var total: (sent: Int, received: Int, requests: Int) { counts.withLock { ($0.sent, $0.received, $0.requests) } }

    func add(textsMade made: Int, fetched: Int) {
        counts.withLock {
            $0.made += made
            $0.fetched += fetched
        }
    }

    /// Texts a peer left out that were made here from their pages, and those that were then fetched.
    public var texts: (made: Int, fetched: Int) { counts.withLock { ($0.made, $0.fetched) } }

    func add(textsThePeerCouldNotMake count: Int) { counts.withLock { $0.unmade += count } }

    /// Texts left out of a push that the peer could not make from their pages (the run went again with its texts).
    public var textsThePeerCouldNotMake: Int { counts.withLock { $0.unmade } }
}

/// The body of an answer as it streams in: what came before a break is still there.
final class Received: Sendable {
    private let bytes = Mutex(Data())

    func append(_ chunk: Data) { bytes.withLock { $0.append(chunk) } }

    var data: Data { bytes.withLock { $0 } }
}

/// Work done once per key, however many tasks ask for it at the same time: the first runs it, the others await its
/// end. A key whose work failed may be tried again.
final class Once<Key: Hashable & Sendable>: Sendable {
    private let tasks = Mutex([Key: Task<Void, any Error>]())

    func once(_ key: Key, _ work: @escaping @Sendable () async throws -> Void) async throws {
        let task = tasks.withLock { tasks in
            if let running = tasks[key] { return running }
            let task = Task { try await work() }
            tasks[key] = task
            return task
        }
        do {
            try await task.value
        } catch {
            tasks.withLock { tasks in if tasks[key] == task { tasks[key] = nil } }
            throw error
        }
    }
}

/// What a puller keeps from one try to the next over a link that breaks: the last page of changes it read and the
/// blobs that arrived whole but are not committed yet, so that a try after a break asks for neither again; and how many
/// blobs to ask for at once, halved at each break so that a request fits between two.
public final class Carry: Sendable {
    private let state = Mutex(
        (
            pages: [Int64: ChangesPage](), blobs: [ContentHash: StoredBlob](), bytes: 0,
            perRequest: SyncLimits.firstObjectsRequest, pageLimit: SyncLimits.defaultPage, rate: Double?.none,
            partial: (frame: ObjectFrame, bytes: Data)?.none, readsZstd: false
        ))
    /// Blob bytes kept at most.
    static let maximumBytes = 256 << 20

    public init() {}

    /// Asks for half as many blobs and changes at once from now on (one blob, ten changes at least): the link broke
    /// before an answer came whole.
    public func narrow() {
        state.withLock { state in
            state.perRequest = max(1, state.perRequest / 2)
            state.pageLimit = max(10, state.pageLimit / 2)
        }
    }

    /// Asks for twice as many at once (up to the usual numbers): an answer came whole.
    func widen() {
        state.withLock { state in
            state.perRequest = min(SyncLimits.objectsPerRequest, state.perRequest * 2)
            state.pageLimit = min(SyncLimits.defaultPage, state.pageLimit * 2)
        }
    }

    /// Changes asked for in a page.
    var pageLimit: Int { state.withLock { $0.pageLimit } }

    /// Notes an answer of `bytes` that took `seconds`: answers of 64 KiB or more tell how fast the link is.
    func observe(bytes: Int, seconds: Double) {
        guard bytes >= 64 << 10, seconds > 0 else { return }
        let rate = Double(bytes) / seconds
        state.withLock { $0.rate = $0.rate.map { $0 * 0.5 + rate * 0.5 } ?? rate }
    }

    /// Whether the peer said it reads zstd request bodies (its answers' `Accept-Encoding`).
    var readsZstd: Bool {
        get { state.withLock { $0.readsZstd } }
        set { state.withLock { $0.readsZstd = newValue } }
    }

    /// Whether the link is slow (``SyncLimits/slowBelowBytesPerSecond``), or not measured yet.
    var slowLink: Bool { state.withLock { ($0.rate ?? 0) < SyncLimits.slowBelowBytesPerSecond } }

    var perRequest: Int { state.withLock { $0.perRequest } }

    func page(since: Int64) -> ChangesPage? { state.withLock { $0.pages[since] } }

    /// Keeps `page`, and the one before it at most (the next page is asked for while a page's blobs come).
    func keep(_ page: ChangesPage, since: Int64) {
        state.withLock { state in
            state.pages[since] = page
            if state.pages.count > 2, let oldest = state.pages.keys.min() { state.pages[oldest] = nil }
        }
    }

    func keep(_ blobs: [StoredBlob]) {
        state.withLock { state in
            for blob in blobs where state.bytes + blob.data.count <= Self.maximumBytes && state.blobs[blob.hash] == nil {
                state.blobs[blob.hash] = blob
                state.bytes += blob.data.count
            }
        }
    }

    /// Keeps the first bytes of a blob a break cut short, to ask for the rest only; returns how many bytes are new.
    func keep(partial: (frame: ObjectFrame, bytes: Data)) -> Int {
        state.withLock { state in
            guard partial.bytes.count <= Self.maximumBytes else { return 0 }
            let before = state.partial?.frame == partial.frame ? state.partial?.bytes.count ?? 0 : 0
            state.partial = partial
            return max(0, partial.bytes.count - before)
        }
    }

    /// The blob cut short, and its bytes that came.
    var partial: (frame: ObjectFrame, bytes: Data)? {
        get { state.withLock { $0.partial } }
        set { state.withLock { $0.partial = newValue } }
    }

    /// A blob kept, which stays kept until it is committed (``forget(_:)``): the try that uses it may break too.
    func blob(_ hash: ContentHash) -> StoredBlob? { state.withLock { $0.blobs[hash] } }

    /// Forgets a blob, now committed.
    func forget(_ hash: ContentHash) {
        state.withLock { state in state.bytes -= state.blobs.removeValue(forKey: hash)?.data.count ?? 0 }
    }
}

/// Why a pull stopped. Whatever was committed before stays; the cursor never passes what is stored.
public enum PullError: Error, CustomStringConvertible {
    /// The peer could not be reached.
    case unreachable(String)
    /// The link broke during a transfer: reset, closed early, or an empty answer.
    case broken(String)
    /// The peer answered with an error status.
    case refused(status: Int, body: String)
    /// The peer is not configured with its node id, or another node answered.
    case unauthenticated(String)
    /// The peer sent something that is not what it claims to be.
    case corrupt(String)
    /// The peer kept sending pages that hold nothing.
    case stalled(String)

    public var description: String {
        switch self {
        case .unreachable(let message): "peer unreachable: \(message)"
        case .broken(let message): "peer unreachable: \(message) (the link broke during a transfer)"
        case .refused(403, _): "peer answered 403: it does not know this node (add this node's id there)"
        case .refused(let status, let body): "peer answered \(status): \(body.prefix(200))"
        case .unauthenticated(let message): "peer not authenticated: \(message)"
        case .corrupt(let message): "peer sent bad data: \(message)"
        case .stalled(let message): "sync stopped: \(message)"
        }
    }
}

/// How a puller makes a text itself from the page it was made of: the extractor's name and version, and the
/// extractor run on a capture's page with the template blocks its extraction names.
public struct TextMaker: Sendable {
    public let extractor: String
    public let make: @Sendable (_ capture: CaptureRecord, _ page: Data, _ template: Set<UInt64>) -> TextRecord?

    public init(
        extractor: String,
        make: @escaping @Sendable (_ capture: CaptureRecord, _ page: Data, _ template: Set<UInt64>) -> TextRecord?
    ) {
        self.extractor = extractor
        self.make = make
    }

    /// The texts `ids` made here, on every core, each from its page as the extraction in `changes` that names it says
    /// (the page from `blobs` or the archive); a text whose extraction, capture or page is not here, or that does not
    /// come out the same, is not among them. Blocks until all are made: call it from a thread of its own.
    func make(
        _ ids: [ContentHash], in changes: [Change], blobs: [ContentHash: StoredBlob], archive: Archive
    ) throws -> [ContentHash: TextRecord] {
        var captures: [ContentHash: CaptureRecord] = [:]
        var extractions: [ContentHash: ExtractionRecord] = [:]
        for change in changes {
            switch change.item {
            case .capture(let capture): captures[capture.id] = capture
            case .extraction(let extraction) where extraction.extractor == extractor:
                extractions[extraction.textID] = extraction
            default: break
            }
        }
        var inputs: [(id: ContentHash, capture: CaptureRecord, page: StoredBlob, template: Set<UInt64>)] = []
        for id in ids {
            if let extraction = extractions[id],
                let capture = try captures[extraction.captureID] ?? archive.capture(extraction.captureID),
                let page = try blobs[capture.blobHash] ?? archive.storedBlob(capture.blobHash, original: true)
            {
                inputs.append((id, capture, page, extraction.templateBlocks))
            }
        }
        let made = Mutex<[ContentHash: TextRecord]>([:])
        DispatchQueue.concurrentPerform(iterations: inputs.count) { [inputs] index in
            let input = inputs[index]
            if let page = try? archive.original(of: input.page), let text = make(input.capture, page, input.template),
                text.id == input.id
            {
                made.withLock { $0[input.id] = text }
            }
        }
        return made.withLock { $0 }
    }

    /// `changes` with the texts `derived` names back in their places, from `made`, and the ids of those `made` lacks.
    static func put(
        _ made: [ContentHash: TextRecord], for derived: [DerivedText], into changes: [Change]
    ) -> (changes: [Change], missing: [String]) {
        var all = changes
        var missing: [String] = []
        for entry in derived {
            if let id = ContentHash(hex: entry.id), let text = made[id] {
                all.append(Change(seq: entry.seq, item: .text(text)))
            } else {
                missing.append(entry.id)
            }
        }
        return (all.sorted { $0.seq < $1.seq }, missing)
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
    /// Bytes this puller has sent and received (request and answer bodies).
    public let traffic = Traffic()
    /// What it keeps from one try to the next.
    public let carry = Carry()
    /// Makes texts from their pages, so that a slow link need not carry them; `nil`: texts are always fetched.
    let texts: TextMaker?
    /// The peer's dictionaries fetched or being fetched.
    let dictionaryFetches = Once<ContentHash>()

    public init(archive: Archive, fetcher: Fetcher, limits: FetchLimits, key: NodeKey, texts: TextMaker? = nil) {
        self.archive = archive
        self.fetcher = fetcher
        self.limits = limits
        self.key = key
        self.texts = texts
    }

    /// Pulls everything new from `peer`.
    ///
    /// Pages overlap: as soon as a page's changes came, the next page is asked for and its blobs with it, so two
    /// pages' blobs come at once (no round trip leaves the link idle), while the page before them is checked and
    /// stored: the link, the peer and this node's disk work together, with three pages in memory at most.
    ///
    /// Bounded: a pull reads at most ``SyncLimits/maxPagesPerPull`` pages for at most ``SyncLimits/maxPullDuration``
    /// (the rest comes with the next sync), and stops with ``PullError/stalled(_:)`` after
    /// ``SyncLimits/maxEmptyPages`` pages in a row that hold nothing.
    ///
    /// `heard` is told, once, what the peer holds of this node's log, as soon as the first page that follows on from
    /// this node's cursor says (so that a push can start beside the pull).
    public func pull(_ peer: PeerConfig, heard: (@Sendable (PeerCursor?) -> Void)? = nil) async throws -> PullSummary {
        var summary = PullSummary(added: 0, blobs: 0, cursor: 0)
        var state = try archive.cursor(peer: peer.name)
        // Node records of the pages read so far: the next page is checked while this one is stored, and its captures
        // may be signed by a node whose record is in a page not committed yet.
        var arriving: [String: NodeRecord] = [:]
        var current = PageFetch(self, peer, since: state.cursor)
        var following: PageFetch?
        defer {
            current.cancel()
            following?.cancel()
        }
        let started = ContinuousClock.now
        var pages = 0
        var emptyInARow = 0
        /// Whether to read on after `page`, the `read`th of this pull.
        func goesOn(after page: ChangesPage, read: Int) -> Bool {
            page.more && page.last > state.cursor && read < SyncLimits.maxPagesPerPull
                && ContinuousClock.now - started < SyncLimits.maxPullDuration
        }
        while true {
            // The next page is asked for as soon as this one's changes are known.
            let known = try await current.page.value
            if following == nil, goesOn(after: known, read: pages + 1) {
                following = PageFetch(self, peer, since: known.last)
            }
            let fetched = try await current.whole.value
            let page = fetched.page
            if state.cursor != 0, page.epoch != state.epoch || page.sinceKey != state.key {
                // The peer's database was recreated (a new epoch) or restored from an older copy (another change, or
                // none, where this node's cursor is): its sequence numbers mean something else now.
                // And it may lack what it once got from this node.
                if let node = peer.node { try archive.forgetOrigin(node) }
                state = PeerCursor(epoch: page.epoch, cursor: 0)
                arriving = [:]
                following?.cancel()
                following = nil
                current = PageFetch(self, peer, since: 0)
                continue
            }
            pages += 1
            // Once the first page is known to follow what this node holds (a recreated peer has had what came from it
            // marked to go back), a push may start.
            if pages == 1 { heard?(page.yours) }
            emptyInARow = page.changes.isEmpty && (page.derived ?? []).isEmpty ? emptyInARow + 1 : 0
            if page.more, emptyInARow >= SyncLimits.maxEmptyPages {
                throw PullError.stalled(
                    "the peer sent \(emptyInARow) pages in a row that hold nothing and still says more follow (at \(page.last)"
                        + " of \(page.head.map(String.init) ?? "?")); what came before is kept")
            }
            // A page may hold nothing (all it covered came from this node) and still move the cursor.
            let more = goesOn(after: page, read: pages)
            // The next page's blobs come while this one's texts are made, its records checked and it is stored.
            if more {
                current = following ?? PageFetch(self, peer, since: page.last)
                following = nil
            }
            let ready = try await prepare(fetched, from: peer, pending: arriving)
            for case .node(let node) in ready.checked.items { arriving[node.id.hex] = node }
            try await store(ready, from: peer, summary: &summary)
            state = PeerCursor(epoch: page.epoch, cursor: page.last, key: page.lastKey)
            summary.cursor = page.last
            guard more else { return summary }
        }
    }

    /// A page of the peer's change log, checked, with the blobs it needs that this node lacked when it was read, in
    /// the order the page needs them; those up to ``SyncLimits/batchBytes`` are fetched and checked already.
    private struct FetchedPage: Sendable {
        var page: ChangesPage
        /// The page's records, checked.
        var checked: CheckedItems
        var wanted: [ContentHash]
        var blobs: [ContentHash: StoredBlob]
        /// How many of `wanted` are in `blobs`.
        var fetched: Int
    }

    /// A page being fetched: its changes, then its blobs.
    private struct PageFetch {
        let page: Task<ChangesPage, any Error>
        let whole: Task<FetchedPage, any Error>

        init(_ puller: Puller, _ peer: PeerConfig, since: Int64) {
            let page = Task { try await puller.changes(peer, since: since) }
            self.page = page
            whole = Task { try await puller.fetchBlobs(of: try await page.value, from: peer) }
        }

        func cancel() {
            page.cancel()
            whole.cancel()
        }
    }

    /// `page` with the blobs it needs that this node lacked when it was read, in the order the page needs them; those
    /// up to ``SyncLimits/batchBytes`` are fetched and checked already.
    private func fetchBlobs(of page: ChangesPage, from peer: PeerConfig) async throws -> FetchedPage {
        var needed: [ContentHash] = []
        var seen = Set<ContentHash>()
        for change in page.changes {
            if case .capture(let capture) = change.item, seen.insert(capture.blobHash).inserted {
                needed.append(capture.blobHash)
            }
        }
        let missing = Set(try archive.missingBlobs(needed))
        var fetched = FetchedPage(
            page: page, checked: .none, wanted: needed.filter { missing.contains($0) }, blobs: [:],
            fetched: 0)
        var bytes = 0
        while fetched.fetched < fetched.wanted.count, bytes < SyncLimits.batchBytes {
            for blob in try await fetchNext(&fetched, from: peer) { bytes += blob.data.count }
        }
        return fetched
    }

    /// `fetched` with the texts the peer left out made here, and its records checked against what is stored and the
    /// node records `pending` (of pages read before, perhaps not committed yet).
    private func prepare(
        _ fetched: FetchedPage, from peer: PeerConfig, pending: [String: NodeRecord]
    ) async throws -> FetchedPage {
        var fetched = fetched
        if let derived = fetched.page.derived, !derived.isEmpty {
            fetched.page.changes = try await withTexts(derived, in: fetched.page.changes, blobs: fetched.blobs, from: peer)
        }
        do {
            fetched.checked = try archive.check(fetched.page.changes.map(\.item), pending: pending)
        } catch let error as IntegrityError {
            throw PullError.corrupt(error.description)
        }
        return fetched
    }

    /// The peer's page of changes after `since`, kept until it is stored.
    private func changes(_ peer: PeerConfig, since: Int64) async throws -> ChangesPage {
        if let kept = carry.page(since: since) { return kept }
        var query = "since=\(since)&limit=\(carry.pageLimit)&epoch=\(archive.epoch)"
        if let texts, carry.slowLink {
            query += "&derive=" + (texts.extractor.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")
        }
        let page: ChangesPage = try await call(peer, path: "/v1/changes", query: query)
        carry.keep(page, since: since)
        carry.widen()
        return page
    }

    /// `changes` with the texts the peer left out put back in their places: each made here from its page, as the
    /// extraction in `changes` that names it says, or, where that does not give the same text (or the page is not
    /// here yet), asked for.
    private func withTexts(
        _ derived: [DerivedText], in changes: [Change], blobs: [ContentHash: StoredBlob], from peer: PeerConfig
    ) async throws -> [Change] {
        let ids = try derived.map { entry in
            guard let id = ContentHash(hex: entry.id) else { throw PullError.corrupt("left-out text \(entry.id.prefix(80))") }
            return id
        }
        // Made on every core, from a thread of its own: not on one of Swift concurrency's few threads.
        var made = try await onOwnThread { [texts, archive] in
            try texts?.make(ids, in: changes, blobs: blobs, archive: archive) ?? [:]
        }
        let asked = ids.filter { made[$0] == nil }
        for start in stride(from: 0, to: asked.count, by: SyncLimits.maxPage) {
            let body = try JSONEncoder().encode(TextsRequest(ids: asked[start...].prefix(SyncLimits.maxPage).map(\.hex)))
            let answer: TextsAnswer = try await call(peer, path: "/v1/texts", method: "POST", body: body)
            for text in answer.texts where text.isIntact { made[text.id] = text }
        }
        traffic.add(textsMade: derived.count - asked.count, fetched: asked.count)
        let (all, missing) = TextMaker.put(made, for: derived, into: changes)
        if let id = missing.first { throw PullError.corrupt("the peer left text \(id) out of its changes and does not send it") }
        return all
    }

    /// Fetches the next request's worth of the blobs `page` wants.
    private func fetchNext(_ page: inout FetchedPage, from peer: PeerConfig) async throws -> [StoredBlob] {
        // Blobs that came whole in a try the link broke are not asked for again.
        var kept: [StoredBlob] = []
        while page.fetched + kept.count < page.wanted.count, let blob = carry.blob(page.wanted[page.fetched + kept.count]) {
            kept.append(blob)
        }
        let asked = kept.isEmpty ? Array(page.wanted[page.fetched...].prefix(carry.perRequest)) : []
        var arrived = kept
        if kept.isEmpty, let resumed = try await resume(asked[0], from: peer) {
            arrived = [resumed]
            carry.keep(arrived)
        } else if kept.isEmpty {
            arrived = try await fetchObjects(asked, from: peer)
        }
        guard !arrived.isEmpty else { throw PullError.corrupt("the peer lists blob \(asked[0]) but does not send it") }
        if kept.isEmpty {
            carry.keep(arrived)
            carry.widen()
        }
        for blob in arrived { page.blobs[blob.hash] = blob }
        page.fetched += arrived.count
        return arrived
    }

    /// The blob `hash` whose first bytes came before a link broke, its rest asked for alone (`Range`), checked against
    /// its hash as a whole; `nil` when no such bytes are kept, or when the whole does not hold up (the peer may have
    /// recompressed the blob since): then the blob is asked for again from the start.
    private func resume(_ hash: ContentHash, from peer: PeerConfig) async throws -> StoredBlob? {
        guard let partial = carry.partial, partial.frame.hash == hash.hex else { return nil }
        let streamed = Received()
        let response: FetchResponse
        do {
            let query = partial.frame.encoding == "identity" ? "original=1" : dictionaries ? "dictionaries=1" : nil
            response = try await request(
                peer, path: "/v1/blobs/\(hash.hex)", query: query, range: partial.bytes.count, receiving: streamed)
        } catch let error as PullError {
            if case .broken = error {
                let more = carry.keep(partial: (partial.frame, partial.bytes + streamed.data))
                traffic.add(sent: 0, received: more)
            }
            throw error
        }
        carry.partial = nil
        let blob = StoredBlob(
            hash: hash, data: response.status == 206 ? partial.bytes + response.body : response.body,
            encoding: partial.frame.encoding, size: partial.frame.size)
        guard blob.data.count == partial.frame.length, (try? archive.original(of: blob)) != nil else { return nil }
        return blob.compressed()
    }

    /// Commits a page in batches bounded by blob bytes, each with the cursor of its last change, fetching the blobs
    /// that were not fetched ahead as it goes.
    private func store(_ fetched: FetchedPage, from peer: PeerConfig, summary: inout PullSummary) async throws {
        var fetched = fetched
        let page = fetched.page
        let wanted = Set(fetched.wanted)
        var batchStart = 0
        var blobs: [StoredBlob] = []
        var bytes = 0
        // Blobs already put in a batch (two captures may share one).
        var taken = Set<ContentHash>()
        for (index, change) in page.changes.enumerated() {
            if case .capture(let capture) = change.item, wanted.contains(capture.blobHash), !taken.contains(capture.blobHash) {
                while fetched.blobs[capture.blobHash] == nil { _ = try await fetchNext(&fetched, from: peer) }
                if let blob = fetched.blobs.removeValue(forKey: capture.blobHash) {
                    taken.insert(blob.hash)
                    blobs.append(blob)
                    bytes += blob.data.count
                }
            }
            let isLast = index == page.changes.count - 1
            if isLast || bytes >= SyncLimits.batchBytes {
                // The write transaction runs on a thread of its own, off Swift concurrency's few threads.
                let (batch, batchBlobs) = (fetched.checked[batchStart..<(index + 1)], blobs)
                let (cursor, cursorKey) = isLast ? (page.last, page.lastKey) : (change.seq, change.item.changeKey)
                summary.added += try await onOwnThread { [archive] in
                    try archive.apply(
                        batch, blobs: batchBlobs, from: peer.name, url: peer.url.absoluteString, epoch: page.epoch,
                        cursor: cursor, cursorKey: cursorKey, head: page.head, origin: peer.node)
                }
                summary.blobs += blobs.count
                for blob in blobs { carry.forget(blob.hash) }
                batchStart = index + 1
                blobs.removeAll()
                bytes = 0
            }
        }
        if page.changes.isEmpty {
            try archive.apply(
                [], blobs: [], from: peer.name, url: peer.url.absoluteString, epoch: page.epoch, cursor: page.last,
                cursorKey: page.lastKey, head: page.head)
        }
    }

    /// Asks for `hashes` in one `POST /v1/objects`; returns the blobs that came, in order, each checked. The answer
    /// must hold a prefix of what was asked, in order. When the link breaks, the blobs that came whole before are kept
    /// (each checked against its hash: the answer's signature, over the whole, never came), so that a break costs the
    /// blob in flight only.
    private func fetchObjects(_ hashes: [ContentHash], from peer: PeerConfig) async throws -> [StoredBlob] {
        let body = try JSONEncoder().encode(
            ObjectsRequest(
                hashes: hashes.map(\.hex), whole: carry.slowLink ? true : nil, dictionaries: dictionaries ? true : nil))
        let streamed = Received()
        func expected(_ hash: ContentHash, _ index: Int) -> Bool { index < hashes.count && hash == hashes[index] }
        let response: FetchResponse
        do {
            response = try await request(peer, path: "/v1/objects", query: nil, method: "POST", body: body, receiving: streamed)
        } catch let error as PullError {
            // Blobs that came as their original bytes are kept compressed, as the archive keeps them.
            let whole = ((try? ObjectFrames.read(streamed.data, wholeOnly: true, check: check, expected: expected)) ?? [])
                .map { $0.compressed() }
            carry.keep(whole)
            // And the first bytes of the blob the break cut short, if it is one that was asked for: only the rest is
            // asked for next.
            var partialBytes = 0
            if let partial = ObjectFrames.cutShort(streamed.data), hashes.contains(where: { $0.hex == partial.frame.hash }) {
                partialBytes = carry.keep(partial: partial)
            }
            traffic.add(sent: 0, received: whole.reduce(partialBytes) { $0 + $1.data.count })
            throw error
        }
        // Pages compressed with a dictionary this node lacks: the dictionary first.
        for dictionary in try archive.missingDictionaries(ObjectFrames.dictionaries(in: response.body)) {
            try await fetchDictionary(dictionary, from: peer)
        }
        do {
            return try ObjectFrames.read(response.body, check: check, expected: expected).map { $0.compressed() }
        } catch {
            throw PullError.corrupt("\(error)")
        }
    }

    /// Whether to ask for pages compressed with the peer's dictionaries as it keeps them: over a fast link, where the
    /// peer would otherwise compress each again (over a slow one, pages come as their original bytes).
    private var dictionaries: Bool { !carry.slowLink }

    /// Checks a blob that came against its hash, read with this node's dictionaries.
    private func check(_ blob: StoredBlob) throws {
        _ = try archive.original(of: blob)
    }

    /// Fetches the peer's dictionary `hash` and stores it, as the peer keeps it: compressed with the earlier dictionary
    /// it names, if any, fetched first (`chain`: how many dictionaries reading it may take, itself included). Each
    /// dictionary is fetched once: two pages' blobs come at once, and both may name it (or name two dictionaries
    /// compressed with it).
    private func fetchDictionary(
        _ hash: ContentHash, from peer: PeerConfig, chain: Int = Archive.dictionaryChain
    ) async throws {
        try await dictionaryFetches.once(hash) { try await fetchDictionaryNow(hash, from: peer, chain: chain) }
    }

    private func fetchDictionaryNow(_ hash: ContentHash, from peer: PeerConfig, chain: Int) async throws {
        let response = try await request(peer, path: "/v1/blobs/\(hash.hex)", query: "dictionaries=1")
        guard let host = response.headers[SyncAuth.Header.dictionary], let encoding = response.headers[SyncAuth.Header.encoding],
            let size = response.headers[SyncAuth.Header.size].flatMap(Int.init)
        else { throw PullError.corrupt("pages name dictionary \(hash), which the peer does not send as one") }
        if let base = StoredBlob.dictionary(of: encoding), try !archive.missingDictionaries([base]).isEmpty {
            guard chain > 1 else {
                throw PullError.corrupt("dictionary \(hash) is read through more than \(Archive.dictionaryChain) dictionaries")
            }
            try await fetchDictionary(base, from: peer, chain: chain - 1)
        }
        do {
            try archive.storeDictionary(StoredBlob(hash: hash, data: response.body, encoding: encoding, size: size), host: host)
        } catch let error as IntegrityError {
            throw PullError.corrupt("dictionary \(hash): \(error)")
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
        _ peer: PeerConfig, path: String, query: String?, method: String = "GET", body: Data = Data(), range: Int? = nil,
        receiving streamed: Received? = nil
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
        // A 16 MiB answer takes four minutes at 512 kbit/s: a transfer may take long, as long as it moves.
        limits.totalTimeout = max(limits.totalTimeout, SyncLimits.transferTimeout)
        limits.lowSpeedBytes = max(limits.lowSpeedBytes, 1)
        let target = components.percentEncodedPath + (query.map { "?" + $0 } ?? "")
        // A body of 1 KiB or more goes compressed to a peer that reads zstd; the signature covers what is sent.
        var sent = body
        var encoding: [(String, String)] = []
        if method != "GET", body.count >= 1024, carry.readsZstd,
            let compressed = (carry.slowLink ? WireCompression.whole : .wire).compress(body)
        {
            sent = compressed
            encoding = [("Content-Encoding", "zstd")]
        }
        let headers = try SyncAuth.requestHeaders(method: method, target: target, body: sent, key: key, to: node)
        var fetch = FetchRequest(
            url: url, method: method,
            headers: headers + (method == "GET" ? [] : [("Content-Type", "application/json")]) + encoding
                + (range.map { [("Range", "bytes=\($0)-")] } ?? []),
            body: method == "GET" ? nil : sent, limits: limits)
        fetch.pinnedKey = peer.pin
        if let streamed { fetch.onData = { streamed.append($0) } }
        var response: FetchResponse
        traffic.add(sent: 0, received: 0, requests: 1)
        let started = ContinuousClock.now
        do {
            response = try await fetcher.fetch(fetch)
        } catch {
            // libcurl's codes for a transfer cut short: sent or received nothing, or part, before the link broke, or
            // it stalled (28: nothing moved for the low-speed time).
            if case .transport(let code, _) = error, [18, 28, 52, 55, 56].contains(code) {
                throw PullError.broken(error.description)
            }
            throw PullError.unreachable(error.description)
        }
        if let streamed { response.body = streamed.data }
        if response.headers["accept-encoding"]?.contains("zstd") == true { carry.readsZstd = true }
        traffic.add(sent: method == "GET" ? 0 : sent.count, received: response.body.count)
        carry.observe(bytes: response.body.count, seconds: (ContinuousClock.now - started) / .seconds(1))
        guard response.status == 200 || (range != nil && response.status == 206) else {
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
