import Foundation
import GRDB
public import NewsCore

/// A query FTS5 cannot read, with SQLite's explanation.
public struct SearchError: Error, CustomStringConvertible, Equatable {
    public let description: String
}

extension Archive {
    /// SQL conditions (and their arguments) on `capture` rows: article from `feed` (its URL or current
    /// location), captured at or after `since` and before `until`, tagged `tag`, not hidden unless `hidden`, from a feed
    /// of `category` (or a category under it: `World` holds `World/Region`).
    static func captureFilters(
        feed: String?, since: Date?, until: Date?, tag: String? = nil, hidden: Bool = true, category: String? = nil
    ) -> ([String], [any DatabaseValueConvertible]) {
        var conditions: [String] = []
        var arguments: [any DatabaseValueConvertible] = []
        if let category {
            conditions.append(
                """
                EXISTS (SELECT 1 FROM feed_entry JOIN feed ON feed.id = feed_entry.feedID
                        WHERE feed_entry.articleID = capture.articleID AND (feed.category = ? OR feed.category LIKE ? || '/%'))
                """)
            arguments += [category, category]
        }
        if let tag {
            conditions.append(
                "EXISTS (SELECT 1 FROM annotation_state WHERE key = ? AND articleID = capture.articleID AND value IS NOT NULL)")
            arguments.append(ArticleAnnotations.Key.tag(tag))
        }
        if !hidden {
            conditions.append(
                """
                NOT EXISTS (SELECT 1 FROM annotation_state
                            WHERE key = 'hidden' AND articleID = capture.articleID AND value IS NOT NULL)
                """)
        }
        if let feed {
            conditions.append(
                """
                EXISTS (SELECT 1 FROM feed_entry JOIN feed ON feed.id = feed_entry.feedID
                        WHERE feed_entry.articleID = capture.articleID AND (feed.url = ? OR feed.location = ?))
                """)
            arguments += [feed, feed]
        }
        if let since {
            conditions.append("capture.fetchedAt >= ?")
            arguments.append(Canonical.timestamp(since))
        }
        if let until {
            conditions.append("capture.fetchedAt < ?")
            arguments.append(Canonical.timestamp(until))
        }
        return (conditions, arguments)
    }

    /// FTS5's operators, as a query writes them.
    static let queryOperators: Set<Substring> = ["AND", "OR", "NOT", "NEAR"]

    /// The FTS5 expression for what a user typed: operators they wrote (quoted phrases, `AND`, `OR`, `NOT`,
    /// `NEAR(…)`, parentheses, `prefix*`, `title:`/`body:`) stay operators; any other word that FTS5 would read as
    /// syntax (`al-Balad`, `Assad's`, `70%`, `U.S.`, `9/11`) is searched for as the phrase it is.
    ///
    /// With `alternatives`, each word or phrase outside `NEAR(…)` that is no prefix becomes the `OR` of the phrases
    /// `alternatives` gives for its words (the words themselves first).
    static func matchExpression(
        _ text: String, alternatives: (([String]) throws -> [[String]])? = nil
    ) throws -> String {
        var tokens: [String] = []
        var rest = Substring(text)
        var nearDepth: Int?
        var depth = 0
        while let first = rest.first {
            if first.isWhitespace {
                rest = rest.dropFirst()
            } else if first == "\"" {
                guard let close = rest.dropFirst().firstIndex(of: "\"") else {
                    throw SearchError(description: "the query has a \" that is not closed: \(text)")
                }
                let prefix = rest[rest.index(after: close)...].first == "*"
                let phrase = String(rest[...close]) + (prefix ? "*" : "")
                tokens.append(
                    try alternatives.flatMap { expand in
                        prefix || nearDepth != nil
                            ? nil : try Self.either(rest[rest.index(after: rest.startIndex)..<close], expand)
                    } ?? phrase)
                rest = rest[rest.index(after: close)...].drop { $0 == "*" }
            } else if first == "(" || first == ")" || (first == "," && nearDepth != nil) {
                if first == "(" { depth += 1 }
                if first == ")" {
                    if nearDepth == depth { nearDepth = nil }
                    depth -= 1
                }
                tokens.append(String(first))
                rest = rest.dropFirst()
            } else {
                let word = rest.prefix {
                    !$0.isWhitespace && $0 != "\"" && $0 != "(" && $0 != ")" && !($0 == "," && nearDepth != nil)
                }
                rest = rest.dropFirst(word.count)
                if word == "NEAR", rest.first == "(" { nearDepth = depth + 1 }
                let plain =
                    !Self.queryOperators.contains(word) && !word.hasSuffix("*") && !word.hasPrefix("title:")
                    && !word.hasPrefix("body:") && nearDepth == nil
                tokens.append(
                    try alternatives.flatMap { expand in plain ? try Self.either(word, expand) : nil } ?? Self.term(String(word)))
            }
        }
        guard !tokens.isEmpty else { throw SearchError(description: "the query is empty") }
        return tokens.joined(separator: " ")
    }

    /// The `OR` of the phrases `expand` makes of the words of `text`, or `nil` when it makes only the words themselves.
    private static func either(_ text: Substring, _ expand: ([String]) throws -> [[String]]) throws -> String? {
        // Split where the index splits (letters, digits and combining marks make words), so that a decomposed
        // diacritic stays in its word.
        let words = text.unicodeScalars.split { !Snippet.isWordScalar($0) }
            .map { String(String.UnicodeScalarView($0)) }
        guard !words.isEmpty else { return nil }
        let phrases = try expand(words)
        guard phrases.count > 1 else { return nil }
        return "(" + phrases.map { "\"" + $0.joined(separator: " ") + "\"" }.joined(separator: " OR ") + ")"
    }

    /// One word of a query as FTS5 reads it: an operator, a bareword (with `*` for a prefix), a column filter, or else
    /// the phrase its characters make.
    private static func term(_ word: String) -> String {
        if Self.queryOperators.contains(Substring(word)) { return word }
        for column in ["title:", "body:"] where word.hasPrefix(column) && word.count > column.count {
            return column + " " + term(String(word.dropFirst(column.count)))
        }
        let stem = word.hasSuffix("*") ? String(word.dropLast()) : word
        // FTS5's barewords: ASCII letters, digits and "_", and anything beyond ASCII.
        let bare =
            !stem.isEmpty
            && stem.unicodeScalars.allSatisfy { scalar in
                scalar.value >= 128 || scalar == "_" || ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar)
                    || ("0"..."9").contains(scalar)
            }
        if bare { return word }
        return "\"" + stem.replacingOccurrences(of: "\"", with: "\"\"") + "\"" + (word.hasSuffix("*") && !stem.isEmpty ? "*" : "")
    }

    /// The texts matching `query`, best first, one hit per text.
    public func search(_ query: SearchQuery) throws -> [SearchHit] { try searchWithVariants(query).hits }

    /// The texts matching `query`, best first, and, when it asks for variants, the spellings each of its words was
    /// also searched as (those the archive holds).
    public func searchWithVariants(_ query: SearchQuery) throws -> (hits: [SearchHit], variants: [String: [String]]) {
        var used: [String: [String]] = [:]
        let match = try Self.matchExpression(
            query.text,
            alternatives: query.variants == true
                ? { words in
                    var choices: [[String]] = []
                    for word in words {
                        let folded = Self.folded(word)
                        if folded == "al" || folded == "el" {
                            choices.append([folded, folded == "al" ? "el" : "al"])
                            continue
                        }
                        let found = try self.variants(of: word)
                        if !found.isEmpty { used[word] = found }
                        choices.append([folded] + found)
                    }
                    // Each word with each of its spellings, the words as typed first; at most eight phrases.
                    var phrases: [[String]] = [[]]
                    for options in choices {
                        phrases = Array(phrases.flatMap { phrase in options.map { phrase + [$0] } }.prefix(8))
                    }
                    // And without a leading article: "al-Balad" is also "Balad".
                    if words.count > 1, choices[0].contains("al") { phrases.append(Array(phrases[0].dropFirst())) }
                    return phrases
                } : nil)
        return (try hits(match, query), used)
    }

    /// Reads what ranking needs into memory (``TextLengths``), as the first search would otherwise. The daemon does it
    /// as it starts.
    public func prepareSearch() throws {
        try pool.read { db in try textLengths.update(db) }
    }

    private func hits(_ match: String, _ query: SearchQuery) throws -> [SearchHit] {
        var (conditions, filters) = Self.captureFilters(
            feed: query.feed, since: query.since, until: query.until, tag: query.tag, hidden: query.includeHidden)
        for (kind, id, table) in [("story", query.story, "story"), ("event", query.event, "event")] {
            guard let id else { continue }
            guard id.count >= 8, ContentHash(hex: id.padding(toLength: 64, withPad: "0", startingAt: 0)) != nil else {
                throw SearchError(
                    description:
                        "\(id) is not \(kind == "event" ? "an" : "a") \(kind) id (8 or more hex digits, as `newsctl stories` shows)"
                )
            }
            conditions.append(
                "EXISTS (SELECT 1 FROM \(table)_member WHERE textID = text.id AND \(table)ID >= ? AND \(table)ID < ?)")
            filters += [id.lowercased(), id.lowercased() + "g"]
        }
        let limit = max(1, min(query.limit, 500))
        // FTS5 ranks (bm25, title weighted 5:1) and cuts the list itself; only the best candidates are
        // joined to their articles and filtered, page by page, and only the hits get snippets (see ``Snippet``). Without
        // filters the first page is all it takes; with them, each page is four times the one before.
        var page = conditions.isEmpty ? limit : limit * 4
        // Every extraction of the candidate, one row each (one, most often): the hit is made of the rows its filters
        // let through (the earliest capture among them), its provenance of all of them.
        let details = """
            SELECT article.url AS url, COALESCE(text.title, \(Self.entryTitle(of: "article.id"))) AS title,
                text.body AS body, text.id AS textID, capture.fetchedAt AS capturedAt,
                extraction.nodeID AS extractor, capture.nodeID AS capturer,
                \(conditions.isEmpty ? "1" : conditions.joined(separator: " AND ")) AS passes
            FROM text
            JOIN extraction ON extraction.textID = text.id
            JOIN capture ON capture.id = extraction.captureID
            JOIN article ON article.id = capture.articleID
            WHERE text.seq = ?
            """
        do {
            return try pool.read { db in
                try textLengths.update(db)
                // Prepared once per connection: each search and each hit runs them again. Ranked as the index's own
                // `rank` (bm25, title weighted 5:1), the lengths read from memory (``TextLengths``).
                let candidatesStatement = try db.cachedStatement(
                    sql: """
                        SELECT rowid FROM text_search WHERE text_search MATCH ?
                        ORDER BY \(TextLengths.function)(text_search, 5.0, 1.0), rowid LIMIT ? OFFSET ?
                        """)
                let detailsStatement = try db.cachedStatement(sql: details)
                var snippets = Snippet(expression: match)
                var hits: [SearchHit] = []
                var offset = 0
                while hits.count < limit {
                    let candidates = try Int64.fetchAll(candidatesStatement, arguments: [match, page, offset])
                    for candidate in candidates where hits.count < limit {
                        // A cursor's row is read where SQLite holds it, without a copy, while the cursor lives.
                        let rows = try Row.fetchCursor(detailsStatement, arguments: StatementArguments(filters + [candidate]))
                        var hit: SearchHit?
                        var capturing: String?
                        var any: String?
                        try withExtendedLifetime(rows) {
                            while let row = try rows.next() {
                                let extractor: String? = row["extractor"]
                                if capturing == nil, let extractor, extractor == row["capturer"] { capturing = extractor }
                                any = any ?? extractor
                                guard row["passes"] as Bool else { continue }
                                let capturedAt: String = row["capturedAt"]
                                if let earlier = hit?.capturedAt {
                                    hit?.capturedAt = min(earlier, capturedAt)
                                    continue
                                }
                                // The body too; only the snippet's part of it is decoded.
                                let title: String? = row["title"]
                                let snippet = try row.withUnsafeData(named: "body") { body in
                                    body.map { bytes in
                                        bytes.withUnsafeBytes {
                                            snippets.make(utf8: $0.assumingMemoryBound(to: UInt8.self), title: title)
                                        }
                                    } ?? ""
                                }
                                hit = SearchHit(
                                    articleURL: row["url"], title: title, snippet: snippet, textID: row["textID"],
                                    capturedAt: capturedAt, provenance: TextProvenance(extractedBy: nil, byCapturingNode: false))
                            }
                        }
                        guard var hit else { continue }
                        hit.provenance = Self.provenance(capturing: capturing, any: any)
                        hits.append(hit)
                    }
                    guard candidates.count == page else { break }
                    offset += page
                    page *= 4
                }
                return hits
            }
        } catch let error as DatabaseError where error.resultCode == .SQLITE_ERROR {
            // The statement is fixed; an SQL error here comes from the operators the user wrote.
            throw SearchError(
                description:
                    "cannot read the query \"\(query.text)\": check its quotes, parentheses and operators (AND, OR, NOT, NEAR)")
        }
    }
}
