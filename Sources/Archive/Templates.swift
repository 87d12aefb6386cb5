import Foundation
import GRDB
public import NewsCore

extension Archive {
    /// A block seen on this many articles of one host is part of the host's template.
    public static let templateThreshold = 3

    /// Past this many blocks of one host, those seen only once are forgotten: article text rarely repeats, a
    /// template does at once, so the table stays small whatever the archive's size.
    static let templateCapacity = 4000

    /// Fingerprints of the text blocks seen on at least ``templateThreshold`` articles of `host`.
    public func template(host: String) throws -> Set<UInt64> {
        try pool.read { db in
            let hashes = try Int64.fetchAll(
                db, sql: "SELECT hash FROM host_block WHERE host = ? AND pages >= ?",
                arguments: [host, Self.templateThreshold])
            return Set(hashes.map { UInt64(bitPattern: $0) })
        }
    }

    /// Counts the blocks of one more article of the sample's host.
    public func learnTemplate(_ sample: TemplateSample) throws {
        // Nothing to count takes no write lock.
        guard !sample.isEmpty else { return }
        try pool.write { db in try Self.learn(sample, db: db) }
    }

    /// Counts `sample`'s blocks toward its host's template, within the transaction of `db`.
    static func learn(_ sample: TemplateSample, db: Database) throws {
        guard !sample.isEmpty else { return }
        let statement = try db.cachedStatement(
            sql: """
                INSERT INTO host_block(host, hash, pages) VALUES (?, ?, 1)
                ON CONFLICT(host, hash) DO UPDATE SET pages = pages + 1
                """)
        for block in sample.blocks { try statement.execute(arguments: [sample.host, Int64(bitPattern: block)]) }
        let count =
            try Int.fetchOne(
                db.cachedStatement(sql: "SELECT count(*) FROM host_block WHERE host = ?"), arguments: [sample.host]) ?? 0
        if count > templateCapacity {
            try db.execute(sql: "DELETE FROM host_block WHERE host = ? AND pages = 1", arguments: [sample.host])
        }
    }

    /// Ids of the captures to clean again, oldest first: every capture of the article `reference`, or, when it is
    /// `nil`, every capture no text by `extractor` was made of.
    public func capturesToClean(by extractor: String, article reference: String?) throws -> [ContentHash] {
        try pool.read { db in
            if let reference {
                let article = try Self.lookup(reference, db: db)
                return try ContentHash.fetchAll(
                    db, sql: "SELECT id FROM capture WHERE articleID = ? ORDER BY fetchedAt, id", arguments: [article.id])
            }
            return try ContentHash.fetchAll(
                db,
                sql: """
                    SELECT id FROM capture WHERE articleID IS NOT NULL
                    AND NOT EXISTS (SELECT 1 FROM extraction WHERE captureID = capture.id AND extractor = ?)
                    ORDER BY fetchedAt, id
                    """,
                arguments: [extractor])
        }
    }

    /// The capture record `id`, if stored.
    public func capture(_ id: ContentHash) throws -> CaptureRecord? {
        try pool.read { db in try CaptureRecord.fetchOne(db, key: id) }
    }

    /// Up to `limit` extractions with ids after `after`, in id order; only those no node signed if `unsigned`.
    public func extractions(after: String, limit: Int, unsigned: Bool = false) throws -> [ExtractionRecord] {
        try pool.read { db in
            try ExtractionRecord.fetchAll(
                db,
                sql: "SELECT * FROM extraction WHERE id > ? \(unsigned ? "AND nodeID IS NULL" : "") ORDER BY id LIMIT ?",
                arguments: [after, limit])
        }
    }

    /// The value of the archive's setting `key`, if set.
    public func setting(_ key: String) throws -> String? {
        try pool.read { db in try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = ?", arguments: [key]) }
    }

    /// Sets the archive's setting `key`.
    public func set(_ key: String, to value: String) throws {
        try pool.write { db in
            try db.execute(
                sql: "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                arguments: [key, value])
        }
    }

    /// Stores a text made of a stored capture beside the texts already made of it; returns how many records were new.
    @discardableResult
    public func addText(_ text: TextRecord, extraction: ExtractionRecord) throws -> Int {
        try commit(check([.text(text), .extraction(extraction)]), blobs: [])
    }
}
