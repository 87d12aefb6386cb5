public import Foundation
import GRDB
public import NewsCore

extension Archive {
    /// Makes the changes in `request`, signed by `key`'s node, in one transaction; returns the article's annotations
    /// after them.
    ///
    /// Each change's clock is a hybrid logical clock: the later of `now` and the latest change this archive holds,
    /// with a counter that orders changes within one millisecond, so a change made here wins over every change seen
    /// here before it whatever the clocks of the nodes that made them.
    public func annotate(_ request: AnnotationRequest, key: NodeKey, now: Date = Date()) throws -> ArticleAnnotations {
        for change in request.changes {
            if let problem = ArticleAnnotations.problem(key: change.key, value: change.value) {
                throw IntegrityError(problem)
            }
        }
        return try pool.write { db in
            let article = try Self.lookup(request.article, db: db)
            _ = try Self.insert(.node(key.record), db: db)
            for change in request.changes {
                let latest = try Row.fetchOne(
                    db, sql: "SELECT time, counter FROM annotation ORDER BY time DESC, counter DESC LIMIT 1")
                let latestTime: Int64 = latest?["time"] ?? 0
                let time = max(Int64((now.timeIntervalSince1970 * 1000).rounded(.down)), latestTime)
                let counter = time == latestTime ? (latest?["counter"] ?? -1) + 1 : 0
                let record = try key.sign(
                    AnnotationRecord(
                        articleID: article.id, key: change.key, value: change.value, time: time, counter: counter,
                        nodeID: key.record.id.hex))
                _ = try Self.insert(.annotation(record), db: db)
            }
            return try Self.annotations(of: article.id, db: db)
        }
    }

    /// The annotations an article has now.
    static func annotations(of article: ContentHash, db: Database) throws -> ArticleAnnotations {
        var annotations = ArticleAnnotations()
        for row in try Row.fetchAll(
            db, sql: "SELECT key, value FROM annotation_state WHERE articleID = ? AND value IS NOT NULL ORDER BY key",
            arguments: [article])
        {
            let key: String = row["key"]
            switch key {
            case ArticleAnnotations.Key.hidden: annotations.hidden = true
            case ArticleAnnotations.Key.note: annotations.note = row["value"]
            default: annotations.tags.append(String(key.dropFirst(4)))
            }
        }
        return annotations
    }

    /// Throws unless `record` is an annotation of an article stored here.
    static func requireAnnotatable(_ record: AnnotationRecord, db: Database) throws {
        if let problem = ArticleAnnotations.problem(key: record.key, value: record.value) {
            throw IntegrityError("annotation \(record.id): \(problem)")
        }
        guard
            try Bool.fetchOne(db, sql: "SELECT EXISTS(SELECT 1 FROM article WHERE id = ?)", arguments: [record.articleID])
                == true
        else { throw IntegrityError("annotation \(record.id) is of article \(record.articleID), which is not stored") }
    }

    /// Makes `record` its (article, key)'s current annotation if it is later (``AnnotationRecord/isLater(than:)``)
    /// than the current one.
    static func merge(_ record: AnnotationRecord, db: Database) throws {
        try db.execute(
            sql: """
                INSERT INTO annotation_state(articleID, key, value, time, counter, nodeID, changeID) VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(articleID, key) DO UPDATE SET value = excluded.value, time = excluded.time,
                    counter = excluded.counter, nodeID = excluded.nodeID, changeID = excluded.changeID
                WHERE (excluded.time, excluded.counter, excluded.nodeID, excluded.changeID)
                    > (annotation_state.time, annotation_state.counter, annotation_state.nodeID, annotation_state.changeID)
                """,
            arguments: [
                record.articleID, record.key, record.value, record.time, record.counter, record.nodeID, record.id,
            ])
    }
}
