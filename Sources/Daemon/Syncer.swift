import Archive
import Fetching
import Foundation
import Logging
import NewsCore
import Sync

/// Pulls from every configured peer, one pull per peer at a time.
actor Syncer {
    private let archive: Archive
    private let puller: Puller
    private let logger: Logger
    private let events: EventHub
    private let metrics: Metrics
    private(set) var peers: [PeerConfig]
    private var inFlight: [String: Task<Void, Never>] = [:]

    init(
        archive: Archive, fetcher: Fetcher, limits: FetchLimits, key: NodeKey, peers: [PeerConfig], events: EventHub,
        metrics: Metrics, logger: Logger
    ) {
        self.archive = archive
        self.puller = Puller(archive: archive, fetcher: fetcher, limits: limits, key: key)
        self.peers = peers
        self.events = events
        self.metrics = metrics
        self.logger = logger
    }

    /// The peers being pulled from right now.
    var syncing: [String] { inFlight.keys.sorted() }

    /// Replaces the peers (a reloaded configuration).
    func update(peers: [PeerConfig]) { self.peers = peers }

    /// Pulls from every peer now (joining pulls already under way) and returns their states.
    func syncAll() async -> [PeerStatus] {
        let tasks = peers.map { peer in
            if let running = inFlight[peer.name] { return running }
            let task = Task { await self.pull(peer) }
            inFlight[peer.name] = task
            return task
        }
        for (peer, task) in zip(peers, tasks) {
            await task.value
            inFlight[peer.name] = nil
        }
        return (try? archive.peerStatuses(peers)) ?? []
    }

    private func pull(_ peer: PeerConfig) async {
        let started = Date()
        var failure: String?
        do {
            let summary = try await puller.pull(peer)
            metrics.count("newsd_sync_records_total", ["peer": peer.name], by: Double(summary.added))
            logger.info(
                "synced",
                metadata: [
                    "peer": "\(peer.name)", "added": "\(summary.added)", "blobs": "\(summary.blobs)",
                    "cursor": "\(summary.cursor)",
                ])
        } catch {
            failure = "\(error)"
            logger.warning("sync failed", metadata: ["peer": "\(peer.name)", "error": "\(error)"])
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
