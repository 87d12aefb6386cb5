import Foundation
import GRDB
public import NewsCore

extension Archive {
    /// Texts whose estimated Jaccard similarity (word 4-shingles) reaches this are one story.
    static let storyThreshold = 0.1
    /// Texts kept per LSH bucket.
    static let bucketCapacity = 16
    /// A condition on a text's buckets: a fingerprint always has `MinHash.count / MinHash.rows` bands, so the statements
    /// that use it are prepared once (a band that repeats is harmless in IN).
    private static let inBands =
        "bucket IN (" + Array(repeating: "?", count: MinHash.count / MinHash.rows).joined(separator: ",") + ")"

    /// Files `text` into a story: the story of every earlier text it is similar to (merging them if
    /// several), or a new one. A story's id is the smallest text id in it, so every node that holds the
    /// same texts names the same stories, whatever order they arrived in. Work per text depends on how
    /// many texts share its LSH buckets, not on the size of the archive. Returns the earlier stories it joined.
    @discardableResult
    static func assignStory(_ text: TextRecord, fingerprint: MinHash, db: Database) throws -> Set<String> {
        var stories = Set<String>()
        if fingerprint.shingles >= 8 {
            let bands = fingerprint.bands
            // The texts that share a bucket with this one, each once, with their stories. A candidate of a story
            // already found adds nothing: near-copies fill the buckets, and only the first of each story is compared.
            let candidates = try Row.fetchCursor(
                db.cachedStatement(
                    sql: """
                        SELECT story_member.storyID, text_fingerprint.shingles, text_fingerprint.minhash
                        FROM text_fingerprint JOIN story_member ON story_member.textID = text_fingerprint.textID
                        WHERE text_fingerprint.row IN (SELECT fingerprint FROM text_bucket WHERE \(Self.inBands))
                        """), arguments: StatementArguments(bands))
            while let candidate = try candidates.next() {
                let story: String = candidate[0]
                guard !stories.contains(story) else { continue }
                let other = MinHash(values: Self.unpack(candidate[2]), shingles: candidate[1])
                if fingerprint.similarity(to: other) >= storyThreshold { stories.insert(story) }
            }
            // A bucket holds at most `bucketCapacity` texts: enough to find the story of any near-copy,
            // while a story with thousands of copies does not make every new copy compare with all of them.
            let full = try Set(
                Int64.fetchAll(
                    db.cachedStatement(
                        sql: "SELECT bucket FROM text_bucket WHERE \(Self.inBands) GROUP BY bucket HAVING COUNT(*) >= ?"),
                    arguments: StatementArguments(bands) + [Self.bucketCapacity]))
            try db.cachedStatement(sql: "INSERT INTO text_fingerprint(textID, shingles, minhash) VALUES (?, ?, ?)")
                .execute(arguments: [text.id, fingerprint.shingles, Self.pack(fingerprint.values)])
            let row = db.lastInsertedRowID
            let join = try db.cachedStatement(sql: "INSERT OR IGNORE INTO text_bucket(bucket, fingerprint) VALUES (?, ?)")
            for band in Set(bands).subtracting(full) {
                try join.execute(arguments: [band, row])
            }
        }
        let story = (stories + [text.id.hex]).min()!
        for merged in stories where merged != story {
            try db.cachedStatement(sql: "UPDATE story_member SET storyID = ? WHERE storyID = ?").execute(arguments: [
                story, merged,
            ])
        }
        // An upsert, not a replace: a replace deletes without telling the triggers that keep the stories' sizes.
        try db.cachedStatement(
            sql:
                "INSERT INTO story_member(textID, storyID) VALUES (?, ?) ON CONFLICT(textID) DO UPDATE SET storyID = excluded.storyID"
        ).execute(arguments: [text.id, story])
        return stories
    }

    private static func pack(_ values: [UInt32]) -> Data {
        var data = Data(capacity: values.count * 4)
        for value in values { withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) } }
        return data
    }

    private static func unpack(_ data: Data) -> [UInt32] {
        data.withUnsafeBytes { bytes in
            stride(from: 0, to: bytes.count - 3, by: 4).map {
                UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: $0, as: UInt32.self))
            }
        }
    }

    /// The story of each text in `texts` (by text id).
    public func stories(of texts: [ContentHash]) throws -> [ContentHash: String] {
        try groups(of: texts, in: "story")
    }

    /// The group (`story` or `event`, by its table's prefix) of each text in `texts`.
    func groups(of texts: [ContentHash], in kind: String) throws -> [ContentHash: String] {
        try pool.read { db in
            let statement = try db.cachedStatement(sql: "SELECT \(kind)ID FROM \(kind)_member WHERE textID = ?")
            var result: [ContentHash: String] = [:]
            for text in texts { result[text] = try String.fetchOne(statement, arguments: [text]) }
            return result
        }
    }

    /// Stories with at least `minimumMembers` texts, largest first, each with its members' articles in the order they
    /// were captured (of a larger story, `membersEach` of them) and how many texts it holds; the first `offset` skipped.
    public func stories(minimumMembers: Int = 2, limit: Int = 100, offset: Int = 0, membersEach: Int = Int.max) throws
        -> [Story]
    {
        try pool.read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT storyID, size FROM story_size WHERE size >= ? ORDER BY size DESC, storyID LIMIT ? OFFSET ?
                    """, arguments: [minimumMembers, limit, offset])
            return try rows.map { try Self.story($0, membersEach: membersEach, db: db) }
        }
    }

    /// The story `id` (or the first 8 hex digits or more of it), with the first `membersEach` of its texts; `nil` if
    /// no story, or more than one, has such an id.
    public func story(_ id: String, membersEach: Int = 500) throws -> Story? {
        try pool.read { db in
            guard id.count >= 8, id.allSatisfy(\.isHexDigit) else { return nil }
            let found = try Row.fetchAll(
                db,
                sql: """
                    SELECT storyID, size FROM story_size WHERE storyID >= ? AND storyID < ? || 'g' LIMIT 2
                    """, arguments: [id.lowercased(), id.lowercased()])
            guard found.count == 1, let row = found.first else { return nil }
            return try Self.story(row, membersEach: membersEach, db: db)
        }
    }

    /// The story of a `story_size` row, with `membersEach` of its texts.
    static func story(_ row: Row, membersEach: Int, db: Database) throws -> Story {
        var story = Story(id: row["storyID"], members: try members(of: row["storyID"], first: membersEach, db: db))
        story.size = row["size"]
        return story
    }

    /// Story `id`'s texts with their articles, in the order they were captured: of a larger story, the `limit` with the
    /// smallest ids (the same on every node that holds them).
    static func members(of id: String, first limit: Int, db: Database) throws -> [Story.Member] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT text.id AS textID, COALESCE(text.title, \(Self.entryTitle(of: "capture.articleID"))) AS title,
                       MIN(capture.fetchedAt) AS capturedAt,
                       \(Self.provenanceColumns),
                       (SELECT article.url FROM extraction JOIN capture c ON c.id = extraction.captureID
                        JOIN article ON article.id = c.articleID WHERE extraction.textID = text.id LIMIT 1) AS url
                FROM story_member JOIN text ON text.id = story_member.textID
                LEFT JOIN extraction ON extraction.textID = text.id
                LEFT JOIN capture ON capture.id = extraction.captureID
                WHERE story_member.storyID = ? AND story_member.textID IN (
                    SELECT member.textID FROM story_member AS member WHERE member.storyID = ? ORDER BY member.textID LIMIT ?)
                GROUP BY text.id ORDER BY capturedAt, text.id
                """, arguments: [id, id, limit]
        ).map { row in
            let url: String? = row["url"]
            return Story.Member(
                textID: row["textID"], title: row["title"], articleURL: url,
                source: url.flatMap { URL(string: $0)?.host }, capturedAt: row["capturedAt"],
                provenance: Self.provenance(row))
        }
    }
}
