import Foundation
import GRDB
public import NewsCore

extension Archive {
    /// Sync state of the peers named in `peers`, in that order; peers never synced show empty state.
    public func peerStatuses(_ peers: [PeerConfig]) throws -> [PeerStatus] {
        try pool.read { db in
            try peers.map { peer in
                let row = try Row.fetchOne(db, sql: "SELECT * FROM peer WHERE name = ?", arguments: [peer.name])
                return PeerStatus(
                    name: peer.name, url: peer.url.absoluteString, node: peer.node,
                    lastSyncAt: row?.date("lastSyncAt"),
                    lastResult: row?["lastResult"],
                    lastError: row?["lastError"], cursor: row?["cursor"] ?? 0,
                    behind: (row?["head"] as Int64?).map { max(0, $0 - (row?["cursor"] ?? 0)) })
            }
        }
    }

    /// How much the archive holds.
    public func counts() throws -> ArchiveCounts {
        try pool.read { db in
            func count(_ sql: String) throws -> Int { try Int.fetchOne(db, sql: sql) ?? 0 }
            var counts = ArchiveCounts(
                feeds: try count("SELECT COUNT(*) FROM feed WHERE active"),
                articles: try count("SELECT COUNT(*) FROM article"),
                captures: try count("SELECT COUNT(*) FROM capture"),
                texts: try count("SELECT COUNT(*) FROM text"),
                blobs: try count("SELECT COUNT(*) FROM blob"),
                blobBytes: try Int64.fetchOne(db, sql: "SELECT bytes FROM blob_tally") ?? 0,
                storedBlobBytes: try Int64.fetchOne(db, sql: "SELECT stored FROM blob_tally") ?? 0,
                lastSequence: try Archive.lastSequence(db))
            let day = try Row.fetchOne(
                db, sql: "SELECT COUNT(*) AS captures, COALESCE(SUM(size), 0) AS bytes FROM capture WHERE fetchedAt >= ?",
                arguments: [Canonical.timestamp(Date().addingTimeInterval(-86400))])
            counts.capturesLastDay = day?["captures"] ?? 0
            counts.capturedBytesLastDay = day?["bytes"] ?? 0
            return counts
        }
    }
}

extension Archive {
    /// The peers added at run time (`newsctl peers add`), by name.
    public func addedPeers() throws -> [PeerConfig] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT name, url, nodeID, pin FROM peer WHERE added ORDER BY name").compactMap { row in
                guard let url = URL(string: row["url"]) else { return nil }
                return PeerConfig(name: row["name"], url: url, node: row["nodeID"], pin: row["pin"])
            }
        }
    }

    /// Adds (or changes) a peer at run time.
    public func addPeer(_ peer: PeerConfig) throws {
        try pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO peer(name, url, nodeID, pin, added) VALUES (?, ?, ?, ?, 1)
                    ON CONFLICT(name) DO UPDATE SET url = excluded.url, nodeID = excluded.nodeID, pin = excluded.pin, added = 1
                    """, arguments: [peer.name, peer.url.absoluteString, peer.node, peer.pin])
        }
    }

    /// Removes a peer added at run time; returns whether there was one. Its sync state goes with it.
    public func removeAddedPeer(named name: String) throws -> Bool {
        try pool.write { db in
            try db.execute(sql: "DELETE FROM peer WHERE name = ? AND added", arguments: [name])
            return db.changesCount > 0
        }
    }
}

extension Row {
    /// A time stored as seconds since 1970 in `column`.
    func date(_ column: String) -> Date? {
        (self[column] as Double?).map(Date.init(timeIntervalSince1970:))
    }
}
