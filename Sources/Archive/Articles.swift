public import Foundation
import GRDB
public import NewsCore

/// A reference to an article that matches none, or several.
public struct ArticleLookupError: Error, CustomStringConvertible, Equatable {
    public let description: String
}

extension Archive {
    /// The title the feeds' entries give article `articleID` (an SQL expression naming it): for a page without one.
    static func entryTitle(of articleID: String) -> String {
        "(SELECT feed_entry.title FROM feed_entry WHERE feed_entry.articleID = \(articleID) AND feed_entry.title IS NOT NULL LIMIT 1)"
    }

    /// Columns for the ``TextProvenance`` of the text `text.id`: `capturingExtractor`, the capturing node where it signed
    /// an extraction of the text, and `anyExtractor`, a node that did (the index alone answers it).
    static let provenanceColumns = """
        (SELECT e.nodeID FROM extraction e JOIN capture c ON c.id = e.captureID WHERE e.textID = text.id
            AND e.nodeID = c.nodeID LIMIT 1) AS capturingExtractor,
        (SELECT e.nodeID FROM extraction e WHERE e.textID = text.id AND e.nodeID IS NOT NULL LIMIT 1) AS anyExtractor
        """

    /// The ``TextProvenance`` of a row with ``provenanceColumns``.
    static func provenance(_ row: Row) -> TextProvenance {
        provenance(capturing: row["capturingExtractor"], any: row["anyExtractor"])
    }

    /// The ``TextProvenance`` of a text that the capturing node extracted (`capturing`, its id) or not, and that node
    /// `any` extracted (`nil`: none signed an extraction of it).
    static func provenance(capturing: String?, any: String?) -> TextProvenance {
        TextProvenance(extractedBy: capturing ?? any, byCapturingNode: capturing != nil)
    }

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
    /// its captures and versions. Its versions are the texts that the capturing node, or `localNode` (this node),
    /// extracted and signed; texts others made of its captures are listed apart, each with who made it.
    public func article(_ reference: String, localNode: String? = nil) throws -> ArticleDetail {
        try pool.read { db in
            let article = try Self.lookup(reference, db: db)
            let captures = try CaptureRecord.fetchAll(
                db, sql: "SELECT * FROM capture WHERE articleID = ? ORDER BY fetchedAt, id", arguments: [article.id])
            var versions: [ArticleDetail.Version] = []
            var others: [ArticleDetail.Version] = []
            var seen = Set<ContentHash>()
            var seenElsewhere = Set<ContentHash>()
            for capture in captures {
                let rows = try Row.fetchAll(
                    db,
                    // In the order they were stored: a re-extraction's text comes after the texts it was made beside.
                    // Of the extractions of one text, a signed one first.
                    sql: """
                        SELECT text.*, extraction.extractor, extraction.nodeID AS extractedBy
                        FROM extraction JOIN text ON text.id = extraction.textID
                        LEFT JOIN change ON change.kind = 'extraction' AND change.key = extraction.id
                        WHERE captureID = ? ORDER BY change.seq, extraction.nodeID IS NULL
                        """,
                    arguments: [capture.id])
                for row in rows {
                    let text = try TextRecord(row: row)
                    let extractedBy: String? = row["extractedBy"]
                    var version = ArticleDetail.Version(
                        textID: text.id.hex, firstSeen: capture.fetchedAt, extractor: row["extractor"], extractedBy: extractedBy,
                        capturedBy: capture.nodeID, title: text.title, byline: text.byline, published: text.published,
                        language: text.language, body: text.body)
                    version.canonicalURL = text.canonicalURL
                    version.modified = text.modified
                    if extractedBy != nil, extractedBy == capture.nodeID || extractedBy == localNode {
                        guard seen.insert(text.id).inserted else { continue }
                        versions.append(version)
                    } else if seenElsewhere.insert(text.id).inserted {
                        others.append(version)
                    }
                }
            }
            others.removeAll { seen.contains(ContentHash(hex: $0.textID)!) }
            let feeds = try String.fetchAll(
                db,
                sql:
                    "SELECT feed.url FROM feed_entry JOIN feed ON feed.id = feed_entry.feedID WHERE articleID = ? ORDER BY feed.id",
                arguments: [article.id])
            let entryTitle = try String.fetchOne(db, sql: "SELECT \(Self.entryTitle(of: "?"))", arguments: [article.id])
            let story = try versions.last.flatMap { version in
                try String.fetchOne(db, sql: "SELECT storyID FROM story_member WHERE textID = ?", arguments: [version.textID])
            }
            var nodes: [String: NodeRecord] = [:]
            for node in Set(captures.map(\.nodeID)) {
                if let hash = ContentHash(hex: node), let record = try NodeRecord.fetchOne(db, key: hash) { nodes[node] = record }
            }
            return ArticleDetail(
                id: article.id.hex, url: article.url, story: story, feeds: feeds,
                annotations: try Self.annotations(of: article.id, db: db),
                captures: captures.map { capture in
                    var shown = ArticleDetail.Capture(
                        id: capture.id.hex, fetchedAt: capture.fetchedAt, status: capture.status, finalURL: capture.finalURL,
                        blobHash: capture.blobHash.hex,
                        size: capture.size, nodeID: capture.nodeID)
                    shown.signatureValid =
                        capture.signature == nil ? nil : nodes[capture.nodeID].map(capture.isSigned(by:)) ?? false
                    return shown
                }, versions: versions, otherTexts: others, entryTitle: entryTitle)
        }
    }
}

extension Archive {
    /// Articles most recently captured first, optionally only those of `feed` or of a feed in `category`, captured
    /// between `since` and `until`, or tagged `tag`; hidden ones only if `includeHidden`; at most `limit`.
    public func articles(
        feed: String?, category: String? = nil, since: Date?, until: Date?, tag: String? = nil, includeHidden: Bool = false,
        limit: Int
    ) throws -> [ArticleSummary] {
        let (conditions, filters) = Self.captureFilters(
            feed: feed, since: since, until: until, tag: tag, hidden: includeHidden, category: category)
        let filtered = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let wanted = max(1, min(limit, 100_000))
        return try pool.read { db in
            // The articles of the newest matching captures, read newest first through the capture(fetchedAt) index
            // until `wanted` are found: grouping every capture first would read the whole archive for one page.
            var ids: [DatabaseValue] = []
            var seen = Set<DatabaseValue>()
            let newest = try DatabaseValue.fetchCursor(
                db, sql: "SELECT capture.articleID FROM capture \(filtered) ORDER BY capture.fetchedAt DESC",
                arguments: StatementArguments(filters))
            while ids.count < wanted, let id = try newest.next() {
                if seen.insert(id).inserted { ids.append(id) }
            }
            guard !ids.isEmpty else { return [] }
            let chosen = "capture.articleID IN (\(Array(repeating: "?", count: ids.count).joined(separator: ", ")))"
            return try Row.fetchAll(
                db,
                sql: """
                    SELECT article.id, article.url, MIN(capture.fetchedAt) AS first, MAX(capture.fetchedAt) AS last,
                        COUNT(DISTINCT capture.id) AS captures, COUNT(DISTINCT extraction.textID) AS versions,
                        COALESCE(
                            (SELECT text.title FROM capture AS latest JOIN extraction AS made ON made.captureID = latest.id
                                JOIN text ON text.id = made.textID
                                WHERE latest.articleID = article.id ORDER BY latest.fetchedAt DESC LIMIT 1),
                            \(Self.entryTitle(of: "article.id"))) AS title
                    FROM article JOIN capture ON capture.articleID = article.id
                    LEFT JOIN extraction ON extraction.captureID = capture.id
                    WHERE \((conditions + [chosen]).joined(separator: " AND "))
                    GROUP BY article.id ORDER BY last DESC, article.url
                    """, arguments: StatementArguments(filters + ids.map { $0 as any DatabaseValueConvertible })
            ).map { row in
                ArticleSummary(
                    id: row["id"], url: row["url"], title: row["title"], firstCaptured: row["first"], lastCaptured: row["last"],
                    captures: row["captures"], versions: row["versions"])
            }
        }
    }
}
