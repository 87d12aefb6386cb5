import Archive
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
            let task = Task { await self.pull(peer) }
            inFlight[peer.name] = task
            return task
        }
        for (peer, task) in zip(due, tasks) {
            await task.value
            inFlight[peer.name] = nil
        }
        return (try? archive.peerStatuses(name == nil ? peers : due)) ?? []
    }

    private func pull(_ peer: PeerConfig) async {
        let started = Date()
        var failure: String?
        // A puller of its own, to count this sync's bytes.
        let puller = Puller(archive: archive, fetcher: fetcher, limits: limits, key: key)
        defer {
            let traffic = puller.traffic.total
            metrics.count("newsd_sync_bytes_total", ["peer": peer.name, "direction": "sent"], by: Double(traffic.sent))
            metrics.count("newsd_sync_bytes_total", ["peer": peer.name, "direction": "received"], by: Double(traffic.received))
        }
        do {
            // Both ways: what the peer has, then what it lacks of this node's (it may not be able to reach this node).
            let summary = try await puller.pull(peer)
            let pushed = try await puller.push(peer, holds: summary.peerHolds)
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
}
