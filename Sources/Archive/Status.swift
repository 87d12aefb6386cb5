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
                    name: peer.name, url: peer.url.absoluteString,
                    lastSyncAt: row?.date("lastSyncAt"),
                    lastResult: row?["lastResult"],
                    lastError: row?["lastError"], cursor: row?["cursor"] ?? 0)
            }
        }
    }

    /// How much the archive holds.
    public func counts() throws -> ArchiveCounts {
        try pool.read { db in
            func count(_ sql: String) throws -> Int { try Int.fetchOne(db, sql: sql) ?? 0 }
            return ArchiveCounts(
                feeds: try count("SELECT COUNT(*) FROM feed WHERE active"),
                articles: try count("SELECT COUNT(*) FROM article"),
                captures: try count("SELECT COUNT(*) FROM capture"),
                texts: try count("SELECT COUNT(*) FROM text"),
                blobs: try count("SELECT COUNT(*) FROM blob"),
                blobBytes: try Int64.fetchOne(db, sql: "SELECT COALESCE(SUM(size), 0) FROM blob") ?? 0,
                lastSequence: try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(seq), 0) FROM change") ?? 0)
        }
    }
}

extension Row {
    /// A time stored as seconds since 1970 in `column`.
    func date(_ column: String) -> Date? {
        (self[column] as Double?).map(Date.init(timeIntervalSince1970:))
    }
}
