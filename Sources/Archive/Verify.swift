import Foundation
import GRDB
public import NewsCore

extension Archive {
    /// Re-hashes every blob, recomputes every record's id, checks every signed record's signature, every capture's blob
    /// and every timestamp's tree (its token is the daemon's to check: ``eachTimestamp(_:)``), and
    /// runs SQLite's integrity check. `progress` is told how many of how many items are done.
    public func verify(progress: (_ done: Int, _ total: Int) -> Void = { _, _ in }) throws -> VerifyReport {
        try pool.read { db in
            var report = VerifyReport()
            let tables = ["node", "article", "capture", "text", "extraction", "annotation", "timestamp"]
            var total = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM blob") ?? 0
            for table in tables { total += try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table)") ?? 0 }
            var done = 0
            func step() {
                done += 1
                if done % 256 == 0 || done == total { progress(done, total) }
            }
            func problem(_ kind: String, _ id: String, _ message: String) {
                report.problems.append(.init(kind: kind, id: id, message: message))
            }

            let blobs = try Row.fetchCursor(db, sql: "SELECT hash, size, encoding, data FROM blob")
            var sizes: (raw: Int64, stored: Int64) = (0, 0)
            while let row = try blobs.next() {
                let hash: String = row["hash"]
                let data: Data = row["data"]
                sizes.raw += row["size"] as Int64
                sizes.stored += Int64(data.count)
                do {
                    let bytes = try BlobCodec.decode(
                        data, encoding: row["encoding"], size: row["size"], dictionaries: dictionaries(db))
                    let actual = ContentHash(of: bytes)
                    if actual.hex != hash { problem("blob", hash, "bytes hash to \(actual)") }
                } catch {
                    problem("blob", hash, "\(error)")
                }
                report.blobs += 1
                step()
            }
            let miscounted = try String.fetchAll(
                db,
                sql: """
                    SELECT storyID FROM (SELECT storyID, COUNT(*) AS size FROM story_member GROUP BY storyID) AS counted
                    WHERE size IS NOT (SELECT size FROM story_size WHERE story_size.storyID = counted.storyID)
                    UNION
                    SELECT storyID FROM story_size
                    WHERE NOT EXISTS (SELECT 1 FROM story_member WHERE story_member.storyID = story_size.storyID)
                    LIMIT 20
                    """)
            for story in miscounted { problem("story_size", story, "the story's size is not the number of its texts") }
            // A story's texts are all in one event. (A text in none is filed when the daemon starts.)
            let split = try String.fetchAll(
                db,
                sql: """
                    SELECT story_member.storyID FROM story_member JOIN event_member USING (textID)
                    GROUP BY story_member.storyID HAVING COUNT(DISTINCT event_member.eventID) > 1 LIMIT 20
                    """)
            for story in split { problem("event", story, "the story's texts are in more than one event") }
            if let tally = try Row.fetchOne(db, sql: "SELECT bytes, stored FROM blob_tally"),
                tally["bytes"] != sizes.raw || tally["stored"] != sizes.stored
            {
                problem(
                    "blob_tally", "1",
                    "the pages' tally says \(tally["bytes"] as Int64) bytes (\(tally["stored"] as Int64) stored), they hold "
                        + "\(sizes.raw) (\(sizes.stored))")
            }

            func check<Record: ContentAddressed & FetchableRecord & TableRecord>(
                _ type: Record.Type, _ kind: String, _ extra: (Record) throws -> Void
            ) throws {
                let records = try Record.fetchCursor(db)
                while let record = try records.next() {
                    if !record.isIntact { problem(kind, record.id.hex, "content hashes to \(record.computedID)") }
                    try extra(record)
                    report.records += 1
                    step()
                }
            }
            var nodes: [String: NodeRecord] = [:]
            try check(NodeRecord.self, "node") { nodes[$0.id.hex] = $0 }
            try check(ArticleRecord.self, "article") { _ in }
            func checkSignature(_ record: some SignedRecord, _ kind: String) {
                if let node = nodes[record.nodeID] {
                    if record.isSigned(by: node) {
                        report.signatures += 1
                    } else {
                        problem(kind, record.id.hex, "signature does not verify")
                    }
                } else {
                    problem(kind, record.id.hex, "signing node \(record.nodeID.prefix(16)) is not known")
                }
            }
            try check(CaptureRecord.self, "capture") { capture in
                checkSignature(capture, "capture")
                if try Bool.fetchOne(db, sql: "SELECT EXISTS(SELECT 1 FROM blob WHERE hash = ?)", arguments: [capture.blobHash])
                    != true
                {
                    problem("capture", capture.id.hex, "blob \(capture.blobHash) is missing")
                }
            }
            try check(TextRecord.self, "text") { _ in }
            try check(ExtractionRecord.self, "extraction") { extraction in
                if extraction.nodeID.isEmpty {
                    report.unverifiedExtractions += 1
                } else {
                    checkSignature(extraction, "extraction")
                }
            }
            try check(AnnotationRecord.self, "annotation") { checkSignature($0, "annotation") }
            try check(TimestampRecord.self, "timestamp") { timestamp in
                checkSignature(timestamp, "timestamp")
                if timestamp.root != MerkleTree.root(timestamp.captures) {
                    problem("timestamp", timestamp.id.hex, "its root is not the root of its captures' tree")
                }
            }

            let integrity = try String.fetchAll(db, sql: "PRAGMA integrity_check(20)")
            report.integrity = integrity == ["ok"] ? "ok" : integrity.joined(separator: "; ")
            return report
        }
    }
}
