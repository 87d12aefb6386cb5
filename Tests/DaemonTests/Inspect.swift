import CZstd
import Foundation
import GRDB
import NewsCore

/// Reads a node's SQLite file directly, as an auditor would, independent of the Archive code.
struct ArchiveFile {
    let queue: DatabaseQueue

    init(path: String) throws {
        var configuration = Configuration()
        configuration.readonly = true
        queue = try DatabaseQueue(path: path, configuration: configuration)
    }

    /// Blob hashes (pages and feed documents, not the zstd dictionaries each node makes of its own pages), each checked
    /// against a SHA-256 recomputed here from the stored bytes.
    func verifiedBlobHashes() throws -> Set<String> {
        try queue.read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT hash, data, encoding, size FROM blob")
            let byHash = Dictionary(rows.map { ($0["hash"] as String, $0) }, uniquingKeysWith: { first, _ in first })
            let dictionaries = Set(try String.fetchAll(db, sql: "SELECT hash FROM dictionary"))
            var hashes = Set<String>()
            // A page compressed with a dictionary names it (`zstd:HASH`); a dictionary may name an earlier one.
            func original(_ row: Row, links: Int = 0) throws -> Data {
                let encoding: String = row["encoding"]
                var dictionary: Data?
                if encoding.hasPrefix("zstd:") {
                    guard links < 8, let stored = byHash[String(encoding.dropFirst(5))] else {
                        throw Mismatch(what: "dictionary")
                    }
                    dictionary = try original(stored, links: links + 1)
                }
                return try Self.original(row["data"], encoding: encoding, size: row["size"], dictionary: dictionary)
            }
            for row in rows {
                let hash: String = row["hash"]
                guard ContentHash(of: try original(row)).hex == hash else { throw Mismatch(what: "blob \(hash)") }
                if !dictionaries.contains(hash) { hashes.insert(hash) }
            }
            return hashes
        }
    }

    /// Text ids, each recomputed here from the stored fields.
    func verifiedTextIDs() throws -> Set<String> {
        try queue.read { db in
            var ids = Set<String>()
            for record in try TextRecord.fetchAllRows(db) {
                guard record.computedID == record.id else { throw Mismatch(what: "text \(record.id)") }
                ids.insert(record.id.hex)
            }
            return ids
        }
    }

    /// A blob's original bytes, decompressed here with libzstd directly (with `dictionary`, the one it names).
    static func original(_ data: Data, encoding: String, size: Int, dictionary: Data? = nil) throws -> Data {
        guard encoding.hasPrefix("zstd") else { return data }
        var output = Data(count: size)
        let written = output.withUnsafeMutableBytes { out in
            data.withUnsafeBytes { input in
                (dictionary ?? Data()).withUnsafeBytes { dictionary in
                    let context = ZSTD_createDCtx()
                    defer { ZSTD_freeDCtx(context) }
                    return ZSTD_decompress_usingDict(
                        context, out.baseAddress, size, input.baseAddress, input.count, dictionary.baseAddress,
                        dictionary.count)
                }
            }
        }
        guard ZSTD_isError(written) == 0, written == size else { throw Mismatch(what: "zstd frame") }
        return output
    }

    /// The first column of every row `sql` gives.
    func strings(_ sql: String) throws -> [String] {
        try queue.read { try String.fetchAll($0, sql: sql) }
    }

    func count(_ table: String) throws -> Int {
        try queue.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM \(table)") ?? 0 }
    }

    /// Each article's current annotations, one `article key=value` line per key set.
    func annotationState() throws -> Set<String> {
        try queue.read { db in
            Set(
                try Row.fetchAll(db, sql: "SELECT articleID, key, value FROM annotation_state WHERE value IS NOT NULL").map {
                    "\($0["articleID"] as String) \($0["key"] as String)=\($0["value"] as String)"
                })
        }
    }

    func captureIDs() throws -> Set<String> {
        try queue.read { Set(try String.fetchAll($0, sql: "SELECT id FROM capture")) }
    }

    struct Mismatch: Error {
        let what: String
    }
}

extension TextRecord {
    fileprivate static func fetchAllRows(_ db: Database) throws -> [TextRecord] {
        try Row.fetchAll(db, sql: "SELECT * FROM text").map { row in
            var record = TextRecord(
                title: row["title"], byline: row["byline"], published: row["published"], language: row["language"],
                body: row["body"])
            record.id = ContentHash(hex: row["id"])!
            return record
        }
    }
}
