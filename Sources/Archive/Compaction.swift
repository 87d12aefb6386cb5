import Foundation
import GRDB
import NewsCore

extension Archive {
    /// Recompresses up to `limit` pages stored at ingest's fast level (or before a dictionary for them was made) at the
    /// smaller level meant to be kept, with their host's dictionary or the general one (``buildDictionaries(limit:)``),
    /// doing the work off the write lock; returns how many pages it took (0 when none waits). Ids and signatures name
    /// the uncompressed bytes, so nothing else changes. A stored form that does not decode to bytes with its hash is
    /// left as it is, for `newsctl verify` to report.
    public func compactBlobs(limit: Int) throws -> Int {
        // Pages of one dictionary at a time, from among a few times as many waiting: a dictionary made ready for a
        // level holds match tables of several MiB (``BlobCodec/prepared(_:level:)``), so few are kept.
        let candidates = try pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT blob.hash, capture.url, capture.fetchedAt FROM blob
                    LEFT JOIN capture ON capture.id = (SELECT id FROM capture WHERE blobHash = blob.hash ORDER BY id LIMIT 1)
                    WHERE blob.compacted = 0 LIMIT ?
                    """, arguments: [limit * 8]
            ).map { (hash: $0["hash"] as ContentHash, url: $0["url"] as String?, fetchedAt: $0["fetchedAt"] as String?) }
        }
        let eras = try dictionaryEras()
        let groups = Dictionary(grouping: candidates) { self.dictionary(for: $0.url, fetchedAt: $0.fetchedAt, in: eras) }
        guard let (chosen, group) = groups.max(by: { $0.value.count < $1.value.count }) else { return 0 }
        let waiting = try pool.read { db in
            try group.prefix(limit).compactMap {
                try Row.fetchOne(db, sql: "SELECT hash, size, encoding, data FROM blob WHERE hash = ?", arguments: [$0.hash])
            }
        }
        let lookup = self.dictionaries()
        // Made ready once for all the pages of this pass, whatever other archives of the process make ready meanwhile.
        var dictionary: PreparedDictionary?
        if let chosen, let bytes = try? lookup(chosen) {
            dictionary = BlobCodec.prepared((chosen, bytes), level: BlobCodec.idleLevel)
        }
        let smaller = waiting.map { row -> (hash: ContentHash, stored: (data: Data, encoding: String)?) in
            let blob = StoredBlob(hash: row["hash"], data: row["data"], encoding: row["encoding"], size: row["size"])
            guard let bytes = try? blob.bytes(dictionaries: lookup) else { return (blob.hash, nil) }
            // At the dictionary's level (19) with one; without one at 9: level 19 alone takes ten times as long for
            // 5-8 % fewer bytes.
            let stored = BlobCodec.encode(bytes, level: BlobCodec.compactLevel, prepared: dictionary)
            return (blob.hash, stored.data.count < blob.data.count ? stored : nil)
        }
        // Nothing else waits: the dictionaries' match tables are let go until pages wait again.
        if waiting.count == candidates.count { BlobCodec.releasePreparedDictionaries(at: BlobCodec.idleLevel) }
        try pool.write { db in
            for (hash, stored) in smaller {
                if let stored {
                    try db.execute(
                        sql: "UPDATE blob SET data = ?, encoding = ?, compacted = 1 WHERE hash = ? AND compacted = 0",
                        arguments: [stored.data, stored.encoding, hash])
                } else {
                    try db.execute(sql: "UPDATE blob SET compacted = 1 WHERE hash = ?", arguments: [hash])
                }
            }
        }
        return waiting.count
    }

    /// Gives the file's free pages back to the file system (those recompression freed), and returns how many there were.
    /// Archives made before newsd set `auto_vacuum` keep them for reuse instead: only a full `VACUUM` changes that.
    @discardableResult
    public func reclaimFreePages() throws -> Int {
        try pool.writeWithoutTransaction { db in
            let free = try Int.fetchOne(db, sql: "PRAGMA freelist_count") ?? 0
            guard free > 0, try Int.fetchOne(db, sql: "PRAGMA auto_vacuum") == 2 else { return 0 }
            try db.execute(sql: "PRAGMA incremental_vacuum")
            return free
        }
    }

    /// How many pages wait to be recompressed by ``compactBlobs(limit:)``.
    public func blobsAwaitingCompaction() throws -> Int {
        try pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM blob WHERE compacted = 0") ?? 0 }
    }
}
