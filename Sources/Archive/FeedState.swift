public import Foundation
import GRDB
public import NewsCore

/// What the poller remembers of a feed between polls.
public struct FeedState: Sendable, Equatable {
    public var etag: String?
    public var lastModified: String?
    /// SHA-256 of the last feed document received, so an unchanged document is not parsed again.
    public var lastHash: ContentHash?
    public var errorCount: Int
    public var nextPollAt: Date?
}

/// The result of one poll, as recorded.
public enum PollResult: Sendable, Equatable {
    /// A new document was received and processed; validators and hash to remember.
    case ok(etag: String?, lastModified: String?, hash: ContentHash)
    /// The server said 304, or sent the same bytes again.
    case notModified
    /// The poll failed; the message is shown in status.
    case error(String)

    /// `ok`, `not-modified` or `error`, as status shows it.
    public var name: String {
        switch self {
        case .ok: "ok"
        case .notModified: "not-modified"
        case .error: "error"
        }
    }
}

extension Archive {
    /// Makes sure every feed in `feeds` has a row, updating titles set in the config.
    public func registerFeeds(_ feeds: [FeedConfig]) throws {
        try pool.write { db in
            for feed in feeds {
                try db.execute(
                    sql: """
                        INSERT INTO feed(url, title) VALUES (?, ?)
                        ON CONFLICT(url) DO UPDATE SET title = COALESCE(excluded.title, feed.title)
                        """, arguments: [feed.url.absoluteString, feed.title])
            }
        }
    }

    /// The remembered state of the feed at `url`.
    public func feedState(url: String) throws -> FeedState {
        try pool.read { db in
            let row = try Row.fetchOne(
                db, sql: "SELECT etag, lastModified, lastHash, errorCount, nextPollAt FROM feed WHERE url = ?", arguments: [url])
            return FeedState(
                etag: row?["etag"], lastModified: row?["lastModified"], lastHash: row?["lastHash"],
                errorCount: row?["errorCount"] ?? 0,
                nextPollAt: (row?["nextPollAt"] as Double?).map(Date.init(timeIntervalSince1970:)))
        }
    }

    /// Records a poll of the feed at `url` and when to poll it next.
    public func recordPoll(url: String, at date: Date, result: PollResult, title: String? = nil, next: Date) throws {
        try pool.write { db in
            let when = date.timeIntervalSince1970
            let nextPoll = next.timeIntervalSince1970
            switch result {
            case .ok(let etag, let lastModified, let hash):
                try db.execute(
                    sql: """
                        UPDATE feed SET etag = ?, lastModified = ?, lastHash = ?, lastPollAt = ?, lastResult = ?, lastError = NULL,
                            errorCount = 0, nextPollAt = ?, title = COALESCE(title, ?) WHERE url = ?
                        """, arguments: [etag, lastModified, hash, when, result.name, nextPoll, title, url])
            case .notModified:
                try db.execute(
                    sql: """
                        UPDATE feed SET lastPollAt = ?, lastResult = ?, lastError = NULL, errorCount = 0, nextPollAt = ?
                        WHERE url = ?
                        """, arguments: [when, result.name, nextPoll, url])
            case .error(let message):
                try db.execute(
                    sql: """
                        UPDATE feed SET lastPollAt = ?, lastResult = ?, lastError = ?, errorCount = errorCount + 1, nextPollAt = ?
                        WHERE url = ?
                        """, arguments: [when, result.name, message, nextPoll, url])
            }
        }
    }

    /// Polling state of the feeds at `urls`, in that order.
    public func feedStatuses(urls: [String]) throws -> [FeedStatus] {
        try pool.read { db in
            try urls.compactMap { url in
                guard
                    let row = try Row.fetchOne(
                        db,
                        sql: """
                            SELECT feed.*, (SELECT COUNT(*) FROM feed_entry WHERE feedID = feed.id) AS articles
                            FROM feed WHERE url = ?
                            """, arguments: [url])
                else { return nil }
                return FeedStatus(
                    url: url, title: row["title"],
                    lastPollAt: (row["lastPollAt"] as Double?).map(Date.init(timeIntervalSince1970:)),
                    lastResult: row["lastResult"], lastError: row["lastError"], errorCount: row["errorCount"],
                    nextPollAt: (row["nextPollAt"] as Double?).map(Date.init(timeIntervalSince1970:)), articles: row["articles"])
            }
        }
    }

    /// Sync state of the peers named in `peers`, in that order; peers never synced show empty state.
    public func peerStatuses(_ peers: [PeerConfig]) throws -> [PeerStatus] {
        try pool.read { db in
            try peers.map { peer in
                let row = try Row.fetchOne(db, sql: "SELECT * FROM peer WHERE name = ?", arguments: [peer.name])
                return PeerStatus(
                    name: peer.name, url: peer.url.absoluteString,
                    lastSyncAt: (row?["lastSyncAt"] as Double?).map(Date.init(timeIntervalSince1970:)),
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
                feeds: try count("SELECT COUNT(*) FROM feed"),
                articles: try count("SELECT COUNT(*) FROM article"),
                captures: try count("SELECT COUNT(*) FROM capture"),
                texts: try count("SELECT COUNT(*) FROM text"),
                blobs: try count("SELECT COUNT(*) FROM blob"),
                blobBytes: try Int64.fetchOne(db, sql: "SELECT COALESCE(SUM(size), 0) FROM blob") ?? 0,
                lastSequence: try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(seq), 0) FROM change") ?? 0)
        }
    }
}
