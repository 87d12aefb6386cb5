import Archive
import Extraction
import Fetching
import Foundation
import Logging
import NewsCore
import Sync

/// Syncs with every configured peer (pull, then push), one sync per peer at a time.
actor Syncer {
    private let archive: Archive
    private let fetcher: Fetcher
    private let limits: FetchLimits
    private let key: NodeKey
    private let logger: Logger
    private let events: EventHub
    private let metrics: Metrics
    private(set) var peers: [PeerConfig]
    private var inFlight: [String: Task<Void, Never>] = [:]
    /// Peers whose last pulls failed: how many in a row, and when the schedule may try again.
    private var backoff: [String: (failures: Int, retryAt: Date)] = [:]

    /// The first retry of a failed peer comes after this many seconds, doubling up to `maximumBackoff`.
    static let firstBackoff: Double = 30
    static let maximumBackoff: Double = 3600
    /// A sync asked for (not scheduled) whose link breaks tries again within the same request: half a second after a
    /// try that moved data, else after 1 s, doubling up to this many seconds (with jitter); a peer it cannot reach at
    /// all it tries again only after data moved, and `refusals` times in a row at most (some 7 s of a link down); for
    /// at most `flappingWindow` seconds in all.
    static let flappingBackoff: Double = 8
    static let refusals = 4
    /// Seconds without a byte moving, once data has moved, before the sync gives up. Time, not a count of tries: a
    /// peer slow to start its answers (a busy machine) may miss several short windows of a link in a row, and still
    /// be worth waiting for.
    static let stalledFor: Double = 120
    static let flappingWindow: Double = 1800

    /// Texts made here from their pages, with the current extractor, as ``Cleaner`` makes them.
    static let textMaker = TextMaker(extractor: Extractor.version) { capture, page, template in
        Cleaner.extract(page, capture: capture, template: template).records(capture: capture.id, node: "")?.text
    }

    init(
        archive: Archive, fetcher: Fetcher, limits: FetchLimits, key: NodeKey, peers: [PeerConfig], events: EventHub,
        metrics: Metrics, logger: Logger
    ) {
        self.archive = archive
        self.fetcher = fetcher
        self.limits = limits
        self.key = key
        self.peers = peers
        self.events = events
        self.metrics = metrics
        self.logger = logger
    }

    /// The peers being pulled from right now.
    var syncing: [String] { inFlight.keys.sorted() }

    /// Replaces the peers (a reloaded configuration).
    func update(peers: [PeerConfig]) { self.peers = peers }

    /// When the schedule may next try a peer that failed, if one did.
    var nextRetry: Date? { backoff.values.map(\.retryAt).min() }

    /// A peer reached this node: it is back, so it is tried at once whatever its backoff.
    func peerIsBack(node: String) -> Bool {
        guard let peer = peers.first(where: { $0.node == node }), backoff[peer.name] != nil else { return false }
        backoff[peer.name] = nil
        return true
    }

    /// Syncs with every peer (or the one named) now, joining syncs already under way, and returns their states;
    /// `scheduled` syncs leave out peers whose backoff has not run out.
    func syncAll(scheduled: Bool = false, only name: String? = nil) async -> [PeerStatus] {
        let now = Date()
        let due = peers.filter { peer in
            (name == nil || peer.name == name) && (!scheduled || (backoff[peer.name]?.retryAt ?? now) <= now)
        }
        let tasks = due.map { peer in
            if let running = inFlight[peer.name] { return running }
            let task = Task { await self.pull(peer, riding: !scheduled) }
            inFlight[peer.name] = task
            return task
        }
        for (peer, task) in zip(due, tasks) {
            await task.value
            inFlight[peer.name] = nil
        }
        return (try? archive.peerStatuses(name == nil ? peers : due)) ?? []
    }

    /// Pulls from and pushes to `peer`; `riding` a link that flaps, tries again as long as tries move data (see
    /// ``flappingBackoff``): what was committed stays, so each try takes up where the last one broke off.
    private func pull(_ peer: PeerConfig, riding: Bool) async {
        let started = Date()
        var failure: String?
        // A puller of its own, to count this sync's bytes.
        let puller = Puller(archive: archive, fetcher: fetcher, limits: limits, key: key, texts: Self.textMaker)
        defer {
            let traffic = puller.traffic.total
            metrics.count("newsd_sync_bytes_total", ["peer": peer.name, "direction": "sent"], by: Double(traffic.sent))
            metrics.count("newsd_sync_bytes_total", ["peer": peer.name, "direction": "received"], by: Double(traffic.received))
            metrics.count("newsd_sync_requests_total", ["peer": peer.name], by: Double(traffic.requests))
            let texts = puller.traffic.texts
            metrics.count("newsd_sync_texts_made_total", ["peer": peer.name], by: Double(texts.made))
            metrics.count("newsd_sync_texts_fetched_total", ["peer": peer.name], by: Double(texts.fetched))
            metrics.count(
                "newsd_sync_texts_not_made_by_peer_total", ["peer": peer.name],
                by: Double(puller.traffic.textsThePeerCouldNotMake))
        }
        do {
            // Both ways: what the peer has, and what it lacks of this node's (it may not be able to reach this node),
            // side by side: the push starts as soon as the pull's first page says what the peer holds, so its round
            // trips do not follow the pull's last blob.
            let (summary, pushed) = try await flapping(riding, peer: peer, puller: puller, started: started) {
                let (heard, tell) = AsyncStream.makeStream(of: PeerCursor?.self)
                async let pushed: PushSummary = {
                    var told = heard.makeAsyncIterator()
                    // No page came: the pull failed, and says why.
                    guard let holds = await told.next() else { throw CancellationError() }
                    return try await puller.push(peer, holds: holds)
                }()
                defer { tell.finish() }
                let summary = try await puller.pull(peer) { holds in
                    tell.yield(holds)
                    tell.finish()
                }
                var both = try await pushed
                // What the pull brought came from the peer, which holds it: a push that sends nothing moves the
                // peer's cursor for this node past it, so that the next sync has nothing to walk (one round trip
                // when nothing is new).
                if summary.added > 0 {
                    let cursor = PeerCursor(
                        epoch: archive.epoch, cursor: both.cursor, key: try archive.changeKey(at: both.cursor))
                    let caughtUp = try await puller.push(peer, holds: cursor)
                    both.added += caughtUp.added
                    both.blobs += caughtUp.blobs
                    both.cursor = caughtUp.cursor
                }
                return (summary, both)
            }
            metrics.count("newsd_sync_records_total", ["peer": peer.name], by: Double(summary.added))
            metrics.count("newsd_sync_records_pushed_total", ["peer": peer.name], by: Double(pushed.added))
            logger.info(
                "synced",
                metadata: [
                    "peer": "\(peer.name)", "added": "\(summary.added)", "blobs": "\(summary.blobs)",
                    "cursor": "\(summary.cursor)", "pushed": "\(pushed.added)", "blobs_pushed": "\(pushed.blobs)",
                ])
            backoff[peer.name] = nil
        } catch {
            failure = "\(error)"
            let failures = (backoff[peer.name]?.failures ?? 0) + 1
            // Capped exponential backoff with jitter, so that peers coming back do not all retry at once.
            let delay = min(Self.firstBackoff * pow(2, Double(failures - 1)), Self.maximumBackoff) * Double.random(in: 0.8...1.2)
            backoff[peer.name] = (failures, started.addingTimeInterval(delay))
            logger.warning(
                "sync failed", metadata: ["peer": "\(peer.name)", "error": "\(error)", "retry_in": "\(Int(delay)) s"])
        }
        do {
            metrics.count("newsd_sync_rounds_total", ["peer": peer.name, "result": failure == nil ? "ok" : "error"])
            try archive.recordSync(peer: peer.name, url: peer.url.absoluteString, at: started, error: failure)
            if let status = try archive.peerStatuses([peer]).first { events.publish(.synced(status)) }
        } catch {
            logger.error("cannot record sync", metadata: ["peer": "\(peer.name)", "error": "\(error)"])
        }
    }

    /// Runs `attempt`, and when `riding` and the link broke (or, once data moved, the peer could not be reached), runs
    /// it again after a growing pause, until it succeeds, fails otherwise, or the link stays broken too long.
    private func flapping<T>(
        _ riding: Bool, peer: PeerConfig, puller: Puller, started: Date, _ attempt: () async throws -> T
    ) async throws -> T {
        var watch = LinkWatch()
        while true {
            let message: String
            let failure: LinkWatch.Failure
            let began = ContinuousClock.now
            do {
                return try await attempt()
            } catch PullError.broken(let broke) where riding {
                (message, failure) = (broke, .broken(took: (ContinuousClock.now - began) / .seconds(1)))
            } catch PullError.unreachable(let unreachable) where riding {
                (message, failure) = (unreachable, .unreachable)
            }
            let next = watch.next(
                after: failure, at: -started.timeIntervalSinceNow, received: puller.traffic.total.received,
                jitter: Double.random(in: 0.5...1.5))
            switch next {
            case .unreachableForGood: throw PullError.unreachable(message)
            case .brokenForGood: throw PullError.broken(message)
            case .again(let pause):
                // What was under way did not fit in the time the link stayed up: smaller requests from now on (each
                // one that comes whole doubles it again).
                puller.carry.narrow()
                logger.notice(
                    "link to peer broke; trying again",
                    metadata: ["peer": "\(peer.name)", "error": "\(message)", "retry_in": "\(Int(pause)) s"])
                try await Task.sleep(for: .seconds(pause))
            }
        }
    }
}
