import Foundation
import GRDB
public import NewsCore

extension Archive {
    /// Writes a consistent copy of the archive, as it stood when the copy began, to a new file at `path` while the
    /// archive stays in use, and checks the copy; `progress` is told how many of how many database pages are copied.
    ///
    /// SQLite's online backup, read inside one read transaction (so writers go on, and the copy is one moment of the
    /// archive), a few thousand pages a step. The copy is one self-contained file (rollback journal, no WAL), readable
    /// by its owner only, and passes SQLite's integrity check; otherwise it is removed and this throws.
    public func backup(to path: String, progress: @escaping (_ done: Int, _ total: Int) -> Void) throws -> BackupResult {
        let descriptor = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw ArchiveFileError("cannot create \(path): \(String(cString: strerror(errno)))")
        }
        Foundation.close(descriptor)
        do {
            let copy = try DatabaseQueue(path: path)
            try pool.backup(to: copy, pagesPerStep: 4096) { step in progress(step.completedPageCount, step.totalPageCount) }
            let result = try copy.writeWithoutTransaction { db in
                // The copied header says WAL, as the archive's does: the copy is to be one file.
                try db.execute(sql: "PRAGMA journal_mode = DELETE")
                let integrity = try String.fetchAll(db, sql: "PRAGMA integrity_check(20)")
                return BackupResult(
                    integrity: integrity == ["ok"] ? "ok" : integrity.joined(separator: "; "),
                    articles: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM article") ?? 0,
                    captures: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM capture") ?? 0,
                    lastSequence: try Archive.lastSequence(db))
            }
            try copy.close()
            guard result.integrity == "ok" else {
                throw ArchiveFileError("the copy fails SQLite's integrity check: \(result.integrity)")
            }
            return result
        } catch {
            for file in [path, path + "-journal"] { try? FileManager.default.removeItem(atPath: file) }
            throw error
        }
    }
}
