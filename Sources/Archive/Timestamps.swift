import Foundation
import GRDB
public import NewsCore

extension Archive {
    /// Up to `limit` captures that no timestamp of the authority `tsa` covers yet, oldest first.
    public func capturesAwaitingTimestamp(tsa: String, limit: Int) throws -> [ContentHash] {
        try pool.read { db in
            try ContentHash.fetchAll(
                db,
                sql: """
                    SELECT id FROM capture
                    WHERE NOT EXISTS (SELECT 1 FROM timestamp_leaf WHERE captureID = capture.id AND tsa = ?)
                    ORDER BY fetchedAt, id LIMIT ?
                    """,
                arguments: [tsa, limit])
        }
    }

    /// Stores a timestamp this node was granted (signed by it), with the change-log row that lets peers have it.
    public func store(timestamp: TimestampRecord) throws {
        try pool.write { db in _ = try Self.insert(.timestamp(timestamp), db: db) }
    }

    /// Captures in the archive, those that any timestamp covers, and those that each of `authorities` covers.
    public func timestampCounts(authorities: [String]) throws -> (captures: Int, stamped: Int, byAuthority: [Int]) {
        try pool.read { db in
            let captures = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM capture") ?? 0
            let stamped = try Int.fetchOne(db, sql: "SELECT COUNT(DISTINCT captureID) FROM timestamp_leaf") ?? 0
            let byAuthority = try authorities.map { tsa in
                try Int.fetchOne(db, sql: "SELECT COUNT(DISTINCT captureID) FROM timestamp_leaf WHERE tsa = ?", arguments: [tsa])
                    ?? 0
            }
            return (captures, stamped, byAuthority)
        }
    }

    /// The timestamps that cover `capture`, oldest first.
    public func timestamps(of capture: ContentHash) throws -> [TimestampRecord] {
        try pool.read { db in
            try TimestampRecord.fetchAll(
                db,
                sql: """
                    SELECT timestamp.* FROM timestamp_leaf JOIN timestamp ON timestamp.id = timestamp_leaf.timestampID
                    WHERE timestamp_leaf.captureID = ? ORDER BY timestamp.time, timestamp.id
                    """,
                arguments: [capture])
        }
    }

    /// Every stored timestamp, in the order they were stored, for `body`.
    public func eachTimestamp(_ body: (TimestampRecord) throws -> Void) throws {
        try pool.read { db in
            let records = try TimestampRecord.fetchCursor(db, sql: "SELECT * FROM timestamp ORDER BY rowid")
            while let record = try records.next() { try body(record) }
        }
    }
}
