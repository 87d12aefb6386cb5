import Foundation
import GRDB
import GRDBSQLite
import Synchronization

/// Ranks full-text matches by Okapi BM25 exactly as FTS5's own `bm25()` does, but with each text's length read from
/// memory rather than from the index's `docsize` table.
///
/// `bm25()` looks a row's length up in that table for every match: nine tenths of ranking a word most texts hold (at
/// 760,000 texts, a word in 46,669 of them took 43-64 ms to rank and 5 ms to count). Texts are never deleted or
/// changed (a new extraction is a new text), so a length once read stays true; the lengths of texts indexed since
/// are read before each search (``update(_:)``). The function is `newsd_bm25(text_search, weight...)`, on every
/// connection of the archive; its scores are `bm25()`'s to the last bit (`RankingTests`), but for a query of one
/// phrase, whose scores are `bm25()`'s divided by the phrase's weight: the same order, without counting its rows.
final class TextLengths: Sendable {
    /// Tokens (all columns) by `seq`, 0 where not read; and the highest `seq` read.
    private struct Lengths {
        var tokens: [UInt32] = []
        var through: Int64 = 0
    }

    private let lengths = Mutex(Lengths())

    /// The SQL function's name.
    static let function = "newsd_bm25"

    /// Reads the lengths of the texts indexed since the last call on any connection.
    func update(_ db: Database) throws {
        let through = lengths.withLock { $0.through }
        let rows = try Row.fetchCursor(
            db, sql: "SELECT id, sz FROM text_search_docsize WHERE id > ? ORDER BY id", arguments: [through])
        var read: [(seq: Int64, tokens: UInt32)] = []
        while let row = try rows.next() {
            read.append((row[0], try row.withUnsafeData(atIndex: 1) { Self.tokens(in: $0 ?? Data()) }))
        }
        guard let last = read.last else { return }
        lengths.withLock { lengths in
            for (seq, tokens) in read where seq > 0 && seq < Int64(Int32.max) {
                if Int(seq) >= lengths.tokens.count {
                    lengths.tokens += repeatElement(0, count: Int(seq) + 1 - lengths.tokens.count)
                }
                lengths.tokens[Int(seq)] = tokens
            }
            lengths.through = max(lengths.through, last.seq)
        }
    }

    /// The lengths read so far (a reference to them: the array is not copied).
    var current: [UInt32] { lengths.withLock { $0.tokens } }

    /// The sum of the column sizes in a `docsize` record: SQLite varints, one per column.
    static func tokens(in size: Data) -> UInt32 {
        var total: UInt64 = 0
        var value: UInt64 = 0
        var length = 0
        for byte in size {
            length += 1
            if length == 9 {
                value = value << 8 | UInt64(byte)
            } else {
                value = value << 7 | UInt64(byte & 0x7F)
                if byte & 0x80 != 0 { continue }
            }
            total &+= value
            value = 0
            length = 0
        }
        return UInt32(clamping: total)
    }

    /// Makes ``function`` on `db`, reading lengths from `self`.
    func register(on db: Database) throws {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(db.sqliteConnection, "SELECT fts5(?)", -1, &statement, nil) == SQLITE_OK else {
            throw DatabaseError(message: "FTS5 is not available")
        }
        defer { sqlite3_finalize(statement) }
        var api: UnsafeMutablePointer<fts5_api>?
        _ = withUnsafeMutablePointer(to: &api) { pointer in
            sqlite3_bind_pointer(statement, 1, pointer, "fts5_api_ptr", nil)
        }
        sqlite3_step(statement)
        guard let api, let create = api.pointee.xCreateFunction else {
            throw DatabaseError(message: "FTS5 is not available")
        }
        let code = create(
            api, Self.function, Unmanaged.passRetained(self).toOpaque(), rankRow,
            { Unmanaged<TextLengths>.fromOpaque($0!).release() })
        guard code == SQLITE_OK else { throw DatabaseError(resultCode: ResultCode(rawValue: code)) }
    }
}

/// What one query's ranking needs, made at its first row as `bm25()` makes its own: each phrase's inverse document
/// frequency, the mean length, and the lengths.
private final class RankQuery {
    let lengths: [UInt32]
    let idf: [Double]
    let meanLength: Double
    var frequency: [Double]

    init(lengths: [UInt32], idf: [Double], meanLength: Double) {
        self.lengths = lengths
        self.idf = idf
        self.meanLength = meanLength
        frequency = Array(repeating: 0, count: idf.count)
    }
}

/// `newsd_bm25(text_search, weight...)` for one row: `bm25()`'s formula and order of operations (k1 = 1.2, b = 0.75,
/// an inverse document frequency of at least 1e-6, 1 for a query of one phrase, the column weights given, 1 for the
/// others), negated as it is.
private let rankRow: fts5_extension_function = { api, fts, context, argumentCount, arguments in
    guard let api = api?.pointee else { return }
    var code = SQLITE_OK
    let query: RankQuery
    if let data = api.xGetAuxdata!(fts, 0) {
        query = Unmanaged<RankQuery>.fromOpaque(data).takeUnretainedValue()
    } else {
        var rows: Int64 = 0
        var tokens: Int64 = 0
        code = api.xRowCount!(fts, &rows)
        if code == SQLITE_OK { code = api.xColumnTotalSize!(fts, -1, &tokens) }
        // A query of one phrase: its weight multiplies every score alike and cannot change their order, so the pass
        // that counts the phrase's rows for it (matching it in every text a second time) is left out, and the scores
        // are bm25()'s divided by that weight.
        let phrases = api.xPhraseCount!(fts)
        var idf: [Double] = phrases == 1 ? [1] : []
        for phrase in 0..<phrases where code == SQLITE_OK && phrases > 1 {
            var hits: Int64 = 0
            code = api.xQueryPhrase!(fts, phrase, &hits) { _, _, hits in
                hits!.assumingMemoryBound(to: Int64.self).pointee += 1
                return SQLITE_OK
            }
            let value = log((Double(rows) - Double(hits) + 0.5) / (Double(hits) + 0.5))
            idf.append(value <= 0 ? 1e-6 : value)
        }
        guard code == SQLITE_OK, let user = api.xUserData!(fts) else {
            sqlite3_result_error_code(context, code == SQLITE_OK ? SQLITE_MISUSE : code)
            return
        }
        let lengths = Unmanaged<TextLengths>.fromOpaque(user).takeUnretainedValue().current
        query = RankQuery(lengths: lengths, idf: idf, meanLength: Double(tokens) / Double(rows))
        // On failure SQLite calls the destructor itself.
        code = api.xSetAuxdata!(fts, Unmanaged.passRetained(query).toOpaque()) {
            Unmanaged<RankQuery>.fromOpaque($0!).release()
        }
        guard code == SQLITE_OK else {
            sqlite3_result_error_code(context, code)
            return
        }
    }
    for index in query.frequency.indices { query.frequency[index] = 0 }
    var instances: Int32 = 0
    code = api.xInstCount!(fts, &instances)
    for instance in 0..<instances where code == SQLITE_OK {
        var phrase: Int32 = 0
        var column: Int32 = 0
        var offset: Int32 = 0
        code = api.xInst!(fts, instance, &phrase, &column, &offset)
        if code == SQLITE_OK {
            query.frequency[Int(phrase)] += argumentCount > column ? sqlite3_value_double(arguments![Int(column)]) : 1
        }
    }
    var length: Double = 0
    if code == SQLITE_OK {
        let seq = api.xRowid!(fts)
        if seq > 0, seq < query.lengths.count, query.lengths[Int(seq)] > 0 {
            length = Double(query.lengths[Int(seq)])
        } else {
            var tokens: Int32 = 0
            code = api.xColumnSize!(fts, -1, &tokens)
            length = Double(tokens)
        }
    }
    guard code == SQLITE_OK else {
        sqlite3_result_error_code(context, code)
        return
    }
    let k1 = 1.2
    let b = 0.75
    var score = 0.0
    for (idf, frequency) in zip(query.idf, query.frequency) {
        score += idf * ((frequency * (k1 + 1.0)) / (frequency + k1 * (1 - b + b * length / query.meanLength)))
    }
    sqlite3_result_double(context, -1.0 * score)
}
