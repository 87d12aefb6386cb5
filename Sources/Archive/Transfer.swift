public import Foundation
import GRDB
public import NewsCore

/// One line of a JSON Lines export: a record (`{"kind":"capture","record":{…}}`) or a blob
/// (`{"kind":"blob","hash":"…","data":"base64…"}`), in change-log order, each blob before the first
/// capture that needs it.
public enum ExportLine: Codable, Sendable, Equatable {
    case record(ArchiveItem)
    case blob(hash: ContentHash, data: Data)

    private enum CodingKeys: String, CodingKey { case kind, hash, data }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if try container.decode(String.self, forKey: .kind) == "blob" {
            self = .blob(
                hash: try container.decode(ContentHash.self, forKey: .hash), data: try container.decode(Data.self, forKey: .data))
        } else {
            self = .record(try ArchiveItem(from: decoder))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .record(let item):
            try item.encode(to: encoder)
        case .blob(let hash, let data):
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode("blob", forKey: .kind)
            try container.encode(hash, forKey: .hash)
            try container.encode(data, forKey: .data)
        }
    }
}

extension Archive {
    /// The export lines for the change log after `sequence`, at most `limit` records (and their blobs),
    /// with the sequence to continue after; an empty page means the end.
    public func exportPage(after sequence: Int64, limit: Int = 500) throws -> (lines: [ExportLine], last: Int64) {
        let changes = try changes(since: sequence, limit: limit)
        var lines: [ExportLine] = []
        var emitted = Set<ContentHash>()
        for change in changes {
            if case .capture(let capture) = change.item, emitted.insert(capture.blobHash).inserted,
                let bytes = try blob(capture.blobHash)
            {
                lines.append(.blob(hash: capture.blobHash, data: bytes))
            }
            lines.append(.record(change.item))
        }
        return (lines, changes.last?.seq ?? sequence)
    }

    /// The export lines of one article (its URL, or its id or 8 hex digits or more of it), as `newsctl import` takes
    /// them: the nodes that signed its records (those not in `nodesSent`, which is added to), the article, each capture
    /// after its page, the texts and extractions made of them, and its annotations.
    public func exportLines(article reference: String, nodesSent: inout Set<String>) throws -> [ExportLine] {
        let sent = nodesSent
        let (nodes, records) = try pool.read { db -> ([NodeRecord], [ArchiveItem]) in
            let article = try Self.lookup(reference, db: db)
            let captures = try CaptureRecord.fetchAll(
                db, sql: "SELECT * FROM capture WHERE articleID = ? ORDER BY fetchedAt, id", arguments: [article.id])
            let extractions = try ExtractionRecord.fetchAll(
                db,
                sql: """
                    SELECT extraction.* FROM extraction JOIN capture ON capture.id = extraction.captureID
                    WHERE capture.articleID = ? ORDER BY capture.fetchedAt, extraction.id
                    """, arguments: [article.id])
            var texts: [TextRecord] = []
            for id in Set(extractions.map(\.textID)).sorted(by: { $0.hex < $1.hex }) {
                if let text = try TextRecord.fetchOne(db, key: ["id": id]) { texts.append(text) }
            }
            let annotations = try AnnotationRecord.fetchAll(
                db, sql: "SELECT * FROM annotation WHERE articleID = ? ORDER BY time, counter", arguments: [article.id])
            let signers = Set(captures.map(\.nodeID) + extractions.map(\.nodeID) + annotations.map(\.nodeID))
            let nodes = try signers.subtracting(sent).sorted().compactMap { id in
                try ContentHash(hex: id).flatMap { try NodeRecord.fetchOne(db, key: $0) }
            }
            let records =
                [.article(article)] + captures.map(ArchiveItem.capture) + texts.map(ArchiveItem.text)
                + extractions.map(ArchiveItem.extraction) + annotations.map(ArchiveItem.annotation)
            return (nodes, records)
        }
        nodesSent.formUnion(nodes.map(\.id.hex))
        var lines = nodes.map { ExportLine.record(.node($0)) }
        var pages = Set<ContentHash>()
        for record in records {
            if case .capture(let capture) = record, pages.insert(capture.blobHash).inserted,
                let bytes = try blob(capture.blobHash)
            {
                lines.append(.blob(hash: capture.blobHash, data: bytes))
            }
            lines.append(.record(record))
        }
        return lines
    }

    /// Imports export lines in one transaction: every blob and record is checked against its hash, and
    /// nothing of the batch is stored if one does not match. Returns how many records were new.
    public func importLines(_ lines: [ExportLine]) throws -> Int {
        var items: [ArchiveItem] = []
        var blobs: [StoredBlob] = []
        for line in lines {
            switch line {
            case .record(let item): items.append(item)
            case .blob(let hash, let data):
                let blob = StoredBlob(bytes: data)
                guard blob.hash == hash else { throw IntegrityError("blob \(hash) hashes to \(blob.hash)") }
                blobs.append(blob)
            }
        }
        return try commit(check(items), blobs: blobs)
    }
}
