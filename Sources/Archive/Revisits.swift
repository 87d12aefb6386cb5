public import Foundation
import GRDB
public import NewsCore

/// An article this node captured, due to be fetched again: a page can change without its feed saying so.
public struct Revisit: Sendable, Equatable {
    public var articleID: ContentHash
    public var url: String
    /// The feed it came through (for its headers, proxy and User-Agent), if it is still known.
    public var feedID: Int64?
    /// When it was first captured: the schedule counts from there.
    public var firstAt: Date
    /// How many revisits it had.
    public var step: Int
}

/// What a day's revisits cost and found.
public struct RevisitDay: Codable, Sendable, Equatable {
    /// `YYYY-MM-DD`, UTC.
    public var day: String
    public var requests: Int
    /// Bytes received (a 304 has none).
    public var bytes: Int
    /// Pages found changed.
    public var changed: Int
}

extension Archive {
    /// Schedules the first revisit of an article this node just captured, unless it has one.
    static func plan(_ revisit: PlannedRevisit, of article: ArticleRecord, db: Database) throws {
        try db.cachedStatement(
            sql: "INSERT OR IGNORE INTO revisit(articleID, url, feedID, firstAt, step, due) VALUES (?, ?, ?, ?, 0, ?)"
        ).execute(arguments: [
            article.id, article.url, revisit.feedID, revisit.firstAt.timeIntervalSince1970,
            revisit.due.timeIntervalSince1970,
        ])
    }

    /// Up to `limit` revisits due at `date`, the longest overdue first; and when the next one after them is due.
    public func dueRevisits(at date: Date, limit: Int) throws -> (due: [Revisit], next: Date?) {
        try pool.read { db in
            let rows = try Row.fetchAll(
                db, sql: "SELECT * FROM revisit WHERE due <= ? ORDER BY due LIMIT ?",
                arguments: [date.timeIntervalSince1970, limit])
            let next = try Double.fetchOne(
                db, sql: "SELECT MIN(due) FROM revisit WHERE due > ?", arguments: [date.timeIntervalSince1970])
            return (
                rows.map { row in
                    Revisit(
                        articleID: row["articleID"], url: row["url"], feedID: row["feedID"],
                        firstAt: Date(timeIntervalSince1970: row["firstAt"]), step: row["step"])
                }, next.map(Date.init(timeIntervalSince1970:))
            )
        }
    }

    /// Records a revisit of `revisit`'s article at `date`: the next is due at `next`, or none is left; `bytes` were
    /// received and the page had `changed` or not.
    public func revisited(_ revisit: Revisit, at date: Date, next: Date?, bytes: Int, changed: Bool) throws {
        try pool.write { db in
            if let next {
                try db.execute(
                    sql: "UPDATE revisit SET step = step + 1, due = ? WHERE articleID = ?",
                    arguments: [next.timeIntervalSince1970, revisit.articleID])
            } else {
                try db.execute(sql: "DELETE FROM revisit WHERE articleID = ?", arguments: [revisit.articleID])
            }
            try db.execute(
                sql: """
                    INSERT INTO revisit_day(day, requests, bytes, changed) VALUES (?, 1, ?, ?)
                    ON CONFLICT(day) DO UPDATE SET requests = requests + 1, bytes = bytes + excluded.bytes,
                        changed = changed + excluded.changed
                    """, arguments: [Self.day(date), bytes, changed ? 1 : 0])
        }
    }

    /// What revisits cost and found on the (UTC) day of `date`, if there were any.
    public func revisitDay(of date: Date) throws -> RevisitDay? {
        try pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM revisit_day WHERE day = ?", arguments: [Self.day(date)]).map { row in
                RevisitDay(day: row["day"], requests: row["requests"], bytes: row["bytes"], changed: row["changed"])
            }
        }
    }

    /// Revisits waiting (scheduled, due or not).
    public func revisitsWaiting() throws -> Int {
        try pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM revisit") ?? 0 }
    }

    /// The latest capture of `article`, if any.
    public func lastCapture(of article: ContentHash) throws -> CaptureRecord? {
        try pool.read { db in try Self.lastCapture(of: article, db: db) }
    }

    static func lastCapture(of article: ContentHash, db: Database) throws -> CaptureRecord? {
        try CaptureRecord.fetchOne(
            db, sql: "SELECT * FROM capture WHERE articleID = ? ORDER BY fetchedAt DESC LIMIT 1", arguments: [article])
    }

    /// Articles whose page changed after it was first captured (two captures or more with different bytes), the latest
    /// change first (a page is captured again only when its bytes changed); with `since`, only those that changed on
    /// or after it.
    public func changedArticles(since: Date?, limit: Int) throws -> [String] {
        try pool.read { db in
            try String.fetchAll(
                db,
                sql: """
                    SELECT articleID FROM capture WHERE articleID IS NOT NULL
                    GROUP BY articleID HAVING COUNT(DISTINCT blobHash) > 1 AND MAX(fetchedAt) >= ?
                    ORDER BY MAX(fetchedAt) DESC LIMIT ?
                    """, arguments: [since.map(Canonical.timestamp) ?? "", limit])
        }
    }

    private static func day(_ date: Date) -> String { String(Canonical.timestamp(date).prefix(10)) }
}
