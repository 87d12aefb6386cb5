public import Foundation
import GRDB
public import NewsCore

/// A reference to an article that matches none, or several.
public struct ArticleLookupError: Error, CustomStringConvertible, Equatable {
    public let description: String
}

extension Archive {
    /// The one article whose URL is `reference`, or whose id starts with it (8 hex digits at least).
    static func lookup(_ reference: String, db: Database) throws -> ArticleRecord {
        var articles = try ArticleRecord.fetchAll(db, sql: "SELECT * FROM article WHERE url = ?", arguments: [reference])
        if articles.isEmpty, reference.count >= 8,
            ContentHash(hex: reference.padding(toLength: 64, withPad: "0", startingAt: 0)) != nil
        {
            articles = try ArticleRecord.fetchAll(
                db, sql: "SELECT * FROM article WHERE id >= ? AND id < ? LIMIT 2",
                arguments: [reference.lowercased(), reference.lowercased() + "g"])
        }
        guard let article = articles.first else { throw ArticleLookupError(description: "no article \(reference)") }
        guard articles.count == 1 else { throw ArticleLookupError(description: "\(reference) names more than one article") }
        return article
    }

    /// The article whose URL is `reference`, or whose id starts with it (8 hex digits at least), with all
    /// its captures and versions.
    public func article(_ reference: String) throws -> ArticleDetail {
        try pool.read { db in
            let article = try Self.lookup(reference, db: db)
            let captures = try CaptureRecord.fetchAll(
                db, sql: "SELECT * FROM capture WHERE articleID = ? ORDER BY fetchedAt, id", arguments: [article.id])
            var versions: [ArticleDetail.Version] = []
            var seen = Set<ContentHash>()
            for capture in captures {
                let rows = try Row.fetchAll(
                    db,
                    // In the order they were stored: a re-extraction's text comes after the texts it was made beside.
                    sql: """
                        SELECT text.*, extraction.extractor FROM extraction JOIN text ON text.id = extraction.textID
                        LEFT JOIN change ON change.kind = 'extraction' AND change.key = extraction.id
                        WHERE captureID = ? ORDER BY change.seq
                        """,
                    arguments: [capture.id])
                for row in rows {
                    let text = try TextRecord(row: row)
                    guard seen.insert(text.id).inserted else { continue }
                    versions.append(
                        ArticleDetail.Version(
                            textID: text.id.hex, firstSeen: capture.fetchedAt, extractor: row["extractor"], title: text.title,
                            byline: text.byline, published: text.published, language: text.language, body: text.body))
                }
            }
            let feeds = try String.fetchAll(
                db,
                sql:
                    "SELECT feed.url FROM feed_entry JOIN feed ON feed.id = feed_entry.feedID WHERE articleID = ? ORDER BY feed.id",
                arguments: [article.id])
            let story = try versions.last.flatMap { version in
                try String.fetchOne(db, sql: "SELECT storyID FROM story_member WHERE textID = ?", arguments: [version.textID])
            }
            return ArticleDetail(
                id: article.id.hex, url: article.url, story: story, feeds: feeds,
                annotations: try Self.annotations(of: article.id, db: db),
                captures: captures.map {
                    ArticleDetail.Capture(
                        id: $0.id.hex, fetchedAt: $0.fetchedAt, status: $0.status, finalURL: $0.finalURL,
                        blobHash: $0.blobHash.hex,
                        size: $0.size, nodeID: $0.nodeID)
                }, versions: versions)
        }
    }
}

extension Archive {
    /// Articles most recently captured first, optionally only those of `feed`, captured between `since` and
    /// `until`, or tagged `tag`; hidden ones only if `includeHidden`; at most `limit`.
    public func articles(
        feed: String?, since: Date?, until: Date?, tag: String? = nil, includeHidden: Bool = false, limit: Int
    ) throws -> [ArticleSummary] {
        let (conditions, filters) = Self.captureFilters(
            feed: feed, since: since, until: until, tag: tag, hidden: includeHidden)
        return try pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT article.id, article.url, MIN(capture.fetchedAt) AS first, MAX(capture.fetchedAt) AS last,
                        COUNT(DISTINCT capture.id) AS captures, COUNT(DISTINCT extraction.textID) AS versions,
                        (SELECT text.title FROM capture AS latest JOIN extraction AS made ON made.captureID = latest.id
                            JOIN text ON text.id = made.textID
                            WHERE latest.articleID = article.id ORDER BY latest.fetchedAt DESC LIMIT 1) AS title
                    FROM article JOIN capture ON capture.articleID = article.id
                    LEFT JOIN extraction ON extraction.captureID = capture.id
                    \(conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND "))
                    GROUP BY article.id ORDER BY last DESC, article.url LIMIT ?
                    """, arguments: StatementArguments(filters + [max(1, min(limit, 100_000))])
            ).map { row in
                ArticleSummary(
                    id: row["id"], url: row["url"], title: row["title"], firstCaptured: row["first"], lastCaptured: row["last"],
                    captures: row["captures"], versions: row["versions"])
            }
        }
    }
}
