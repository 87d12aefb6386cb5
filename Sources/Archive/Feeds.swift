public import Foundation
import GRDB
public import NewsCore

/// A feed as the archive keeps it: what to poll and how, and what happened last time. Local state, never synced.
public struct Feed: Sendable, Equatable {
    public var id: Int64
    /// The feed's identity: the URL it was declared or added with.
    public var url: String
    /// Where it is fetched now; differs from `url` after a permanent redirect.
    public var location: String
    /// `config` or `user`.
    public var origin: String
    public var settings: FeedConfig
    public var etag: String?
    public var lastModified: String?
    /// SHA-256 of the last document processed, so identical bytes are not parsed again.
    public var lastHash: ContentHash?
    public var errorCount: Int
    public var nextPollAt: Date?
    /// What the last document said about its own schedule.
    public var hints: FeedHints

    public init(
        id: Int64, url: String, location: String, origin: String, settings: FeedConfig, etag: String? = nil,
        lastModified: String? = nil, lastHash: ContentHash? = nil, errorCount: Int = 0, nextPollAt: Date? = nil,
        hints: FeedHints = FeedHints()
    ) {
        self.id = id
        self.url = url
        self.location = location
        self.origin = origin
        self.settings = settings
        self.etag = etag
        self.lastModified = lastModified
        self.lastHash = lastHash
        self.errorCount = errorCount
        self.nextPollAt = nextPollAt
        self.hints = hints
    }
}

/// What a feed document says about how often to poll it.
public struct FeedHints: Sendable, Equatable {
    /// RSS `<ttl>`, minutes.
    public var ttl: Int?
    /// RSS `<skipHours>`, GMT.
    public var skipHours: [Int]
    /// RSS `<skipDays>`, lowercased weekday names.
    public var skipDays: [String]
    /// The interval the feed's publishing rhythm suggests, seconds.
    public var adaptiveInterval: Double?

    public init(ttl: Int? = nil, skipHours: [Int] = [], skipDays: [String] = [], adaptiveInterval: Double? = nil) {
        self.ttl = ttl
        self.skipHours = skipHours
        self.skipDays = skipDays
        self.adaptiveInterval = adaptiveInterval
    }
}

/// The result of one poll, as recorded.
public enum PollResult: Sendable, Equatable {
    /// A new document was received and processed; validators, hash and hints to remember.
    case ok(etag: String?, lastModified: String?, hash: ContentHash, hints: FeedHints)
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

/// One poll's outcome, recorded in one transaction.
public struct PollRecord: Sendable {
    public var at: Date
    public var result: PollResult
    public var next: Date
    /// The title the feed gives itself.
    public var title: String?
    /// The site the feed says it belongs to.
    public var site: String?
    public var warnings: Int
    /// A permanent redirect to a new location, and its status.
    public var movedTo: (location: String, status: Int)?

    public init(at: Date, result: PollResult, next: Date, title: String? = nil, site: String? = nil, warnings: Int = 0) {
        self.at = at
        self.result = result
        self.next = next
        self.title = title
        self.site = site
        self.warnings = warnings
    }
}

/// A feed that cannot be added or removed as asked.
public struct FeedListError: Error, CustomStringConvertible, Equatable {
    public let description: String

    public init(_ description: String) { self.description = description }
}

extension Archive {
    /// Makes the archive's config-declared feeds those in `feeds`: new ones are added, changed settings
    /// updated, and those no longer declared stop being polled (their articles stay).
    public func declareFeeds(_ feeds: [FeedConfig]) throws {
        try pool.write { db in
            try db.execute(sql: "UPDATE feed SET active = 0 WHERE origin = 'config'")
            for feed in feeds { try Self.upsert(feed, origin: "config", db: db) }
        }
    }

    /// Adds a feed for newsctl, with the site it belongs to if known (an OPML list's `htmlUrl`); an active feed
    /// with the same URL is an error.
    public func addFeed(_ feed: FeedConfig, site: String? = nil) throws -> Feed {
        try pool.write { db in
            let url = feed.url.absoluteString
            if try Bool.fetchOne(
                db, sql: "SELECT EXISTS(SELECT 1 FROM feed WHERE (url = ? OR location = ?) AND active)", arguments: [url, url])
                == true
            {
                throw FeedListError("\(url) is already a feed")
            }
            try Self.upsert(feed, origin: "user", db: db)
            if let site { try db.execute(sql: "UPDATE feed SET siteURL = ? WHERE url = ?", arguments: [site, url]) }
            return try Self.feeds(db, where: "url = ?", [url])[0]
        }
    }

    /// Stops polling the feed at `url` (its identity or current location). Config-declared feeds are
    /// removed from the config file instead.
    public func removeFeed(url: String) throws {
        try pool.write { db in
            guard
                let row = try Row.fetchOne(
                    db, sql: "SELECT id, origin FROM feed WHERE (url = ? OR location = ?) AND active", arguments: [url, url])
            else { throw FeedListError("\(url) is not a feed") }
            guard row["origin"] as String == "user" else {
                throw FeedListError("\(url) is declared in the config file: remove it there")
            }
            try db.execute(sql: "UPDATE feed SET active = 0 WHERE id = ?", arguments: [row["id"] as Int64])
        }
    }

    /// The feeds being polled, in the order they were added.
    public func activeFeeds() throws -> [Feed] {
        try pool.read { db in try Self.feeds(db, where: "active", []) }
    }

    /// Records a poll of feed `id`: its result, the next poll, and any permanent move.
    public func recordPoll(feed id: Int64, _ record: PollRecord) throws {
        try pool.write { db in
            let when = record.at.timeIntervalSince1970
            let next = record.next.timeIntervalSince1970
            switch record.result {
            case .ok(let etag, let lastModified, let hash, let hints):
                try db.execute(
                    sql: """
                        UPDATE feed SET etag = ?, lastModified = ?, lastHash = ?, ttl = ?, skipHours = ?, skipDays = ?,
                            adaptiveInterval = COALESCE(?, adaptiveInterval), feedTitle = COALESCE(?, feedTitle),
                            siteURL = COALESCE(?, siteURL), warnings = ?
                        WHERE id = ?
                        """,
                    arguments: [
                        etag, lastModified, hash, hints.ttl, hints.skipHours.map(String.init).joined(separator: ","),
                        hints.skipDays.joined(separator: ","), hints.adaptiveInterval, record.title, record.site,
                        record.warnings, id,
                    ])
                try db.execute(sql: "UPDATE feed SET errorCount = 0, lastError = NULL WHERE id = ?", arguments: [id])
            case .notModified:
                try db.execute(sql: "UPDATE feed SET errorCount = 0, lastError = NULL WHERE id = ?", arguments: [id])
            case .error(let message):
                try db.execute(
                    sql: "UPDATE feed SET errorCount = errorCount + 1, lastError = ? WHERE id = ?", arguments: [message, id])
            }
            try db.execute(
                sql: "UPDATE feed SET lastPollAt = ?, lastResult = ?, nextPollAt = ? WHERE id = ?",
                arguments: [when, record.result.name, next, id])
            if let move = record.movedTo {
                try db.execute(
                    sql: """
                        INSERT INTO feed_move(feedID, fromURL, toURL, status, at) SELECT id, location, ?, ?, ? FROM feed WHERE id = ?;
                        UPDATE feed SET location = ? WHERE id = ?
                        """, arguments: [move.location, move.status, when, id, move.location, id])
            }
        }
    }

    /// The moves of feed `id` by permanent redirect, oldest first.
    private static func moves(feed id: Int64, db: Database) throws -> [FeedMove] {
        try Row.fetchAll(
            db, sql: "SELECT fromURL, toURL, status, at FROM feed_move WHERE feedID = ? ORDER BY rowid", arguments: [id]
        ).map { FeedMove(from: $0["fromURL"], to: $0["toURL"], status: $0["status"], at: Date(timeIntervalSince1970: $0["at"])) }
    }

    /// Polling state of the active feeds (or of the one with id `only`).
    public func feedStatuses(only: Int64? = nil) throws -> [FeedStatus] {
        try pool.read { db in
            let filter = only == nil ? "active" : "id = ?"
            return try Row.fetchAll(
                db,
                sql: """
                    SELECT feed.*, (SELECT COUNT(*) FROM feed_entry WHERE feedID = feed.id) AS articles
                    FROM feed WHERE \(filter) ORDER BY id
                    """, arguments: StatementArguments(only.map { [$0] } ?? [])
            ).map { row throws in
                let url: String = row["url"]
                let location: String = row["location"]
                return FeedStatus(
                    url: url, location: location == url ? nil : location, title: row["title"] ?? row["feedTitle"],
                    category: row["category"], origin: row["origin"],
                    lastPollAt: row.date("lastPollAt"),
                    lastResult: row["lastResult"],
                    lastError: row["lastError"], errorCount: row["errorCount"], warnings: row["warnings"],
                    nextPollAt: row.date("nextPollAt"), articles: row["articles"], site: row["siteURL"],
                    moves: try Self.moves(feed: row["id"], db: db))
            }
        }
    }

    private static func upsert(_ feed: FeedConfig, origin: String, db: Database) throws {
        let headers = String(decoding: try JSONEncoder().encode(feed.headers), as: UTF8.self)
        try db.execute(
            sql: """
                INSERT INTO feed(url, location, origin, active, title, category, interval, proxy, userAgent, headers,
                    allowPrivate)
                VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(url) DO UPDATE SET origin = excluded.origin, active = 1, title = excluded.title,
                    category = excluded.category, interval = excluded.interval, proxy = excluded.proxy,
                    userAgent = excluded.userAgent, headers = excluded.headers, allowPrivate = excluded.allowPrivate
                """,
            arguments: [
                feed.url.absoluteString, feed.url.absoluteString, origin, feed.title, feed.category, feed.interval, feed.proxy,
                feed.userAgent, headers, feed.allowPrivate,
            ])
    }

    private static func feeds(_ db: Database, where filter: String, _ arguments: [any DatabaseValueConvertible]) throws -> [Feed]
    {
        try Row.fetchAll(db, sql: "SELECT * FROM feed WHERE \(filter) ORDER BY id", arguments: StatementArguments(arguments)).map
        { row in
            let headers = (row["headers"] as String?).flatMap {
                try? JSONDecoder().decode([String: String].self, from: Data($0.utf8))
            }
            let url: String = row["url"]
            return Feed(
                id: row["id"], url: url, location: row["location"], origin: row["origin"],
                settings: FeedConfig(
                    url: URL(string: url)!, title: row["title"], interval: row["interval"], category: row["category"],
                    proxy: row["proxy"], userAgent: row["userAgent"], headers: headers ?? [:],
                    allowPrivate: row["allowPrivate"]),
                etag: row["etag"], lastModified: row["lastModified"], lastHash: row["lastHash"], errorCount: row["errorCount"],
                nextPollAt: row.date("nextPollAt"),
                hints: FeedHints(
                    ttl: row["ttl"],
                    skipHours: ((row["skipHours"] as String?) ?? "").split(separator: ",").compactMap { Int($0) },
                    skipDays: ((row["skipDays"] as String?) ?? "").split(separator: ",").map(String.init),
                    adaptiveInterval: row["adaptiveInterval"]))
        }
    }
}
