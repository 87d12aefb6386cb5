import Foundation
import GRDB
public import NewsCore

/// A query FTS5 cannot read, with SQLite's explanation.
public struct SearchError: Error, CustomStringConvertible, Equatable {
    public let description: String
}

extension Archive {
    /// The texts matching `query`, best first, one hit per text.
    public func search(_ query: SearchQuery) throws -> [SearchHit] {
        var conditions: [String] = []
        var arguments: [any DatabaseValueConvertible] = [query.text]
        if let feed = query.feed {
            conditions.append(
                """
                EXISTS (SELECT 1 FROM feed_entry JOIN feed ON feed.id = feed_entry.feedID
                        WHERE feed_entry.articleID = article.id AND (feed.url = ? OR feed.location = ?))
                """)
            arguments += [feed, feed]
        }
        if let since = query.since {
            conditions.append("capture.fetchedAt >= ?")
            arguments.append(Canonical.timestamp(since))
        }
        if let until = query.until {
            conditions.append("capture.fetchedAt < ?")
            arguments.append(Canonical.timestamp(until))
        }
        arguments.append(max(1, min(query.limit, 500)))
        // Ranking and snippets come from FTS5 in a subquery (its functions do not mix with GROUP BY);
        // the join then finds each text's article and first capture.
        let sql = """
            WITH hits AS MATERIALIZED (
                SELECT textID, snippet(text_search, 1, '[', ']', '…', 16) AS snippet, bm25(text_search, 5.0, 1.0) AS rank
                FROM text_search WHERE text_search MATCH ?
            )
            SELECT article.url AS url, text.title AS title, hits.textID AS textID, MIN(capture.fetchedAt) AS capturedAt,
                   hits.snippet AS snippet, hits.rank AS rank
            FROM hits
            JOIN text ON text.id = hits.textID
            JOIN extraction ON extraction.textID = text.id
            JOIN capture ON capture.id = extraction.captureID
            JOIN article ON article.id = capture.articleID
            \(conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND "))
            GROUP BY hits.textID
            ORDER BY rank
            LIMIT ?
            """
        do {
            return try pool.read { db in
                try Row.fetchAll(db, sql: sql, arguments: StatementArguments(arguments)).map { row in
                    SearchHit(
                        articleURL: row["url"], title: row["title"], snippet: row["snippet"], textID: row["textID"],
                        capturedAt: row["capturedAt"])
                }
            }
        } catch let error as DatabaseError where error.resultCode == .SQLITE_ERROR {
            // The statement is fixed; an SQL error here comes from the FTS5 query the user wrote.
            throw SearchError(description: "cannot read the query \"\(query.text)\": \(error.message ?? "\(error)")")
        }
    }
}
