public import Foundation
import GRDB
public import NewsCore
import Synchronization

/// The local archive: one SQLite file in WAL mode.
///
/// ```swift
/// let archive = try Archive(path: dataDir.appendingPathComponent("archive.sqlite").path)
/// let outcome = try archive.store(ingest)
/// ```
public final class Archive: Sendable {
    let pool: DatabasePool
    /// Node records by id, once read: every capture stored is checked against its node's key.
    private let knownNodes = Mutex<[String: NodeRecord]>([:])
    /// zstd dictionaries, once read (see ``buildDictionaries(limit:)``).
    let dictionaryCache = DictionaryCache()
    /// What the idle passes that make dictionaries have read of the captures so far (see ``buildDictionaries(limit:)``).
    let dictionaryScan = Mutex(DictionaryScan())
    /// The texts' lengths in the full-text index, which ranking reads (see ``TextLengths``).
    let textLengths: TextLengths
    /// This database's epoch: a new one whenever the database is created anew, so peers know to start over.
    public let epoch: String

    /// Copies the WAL into the database beside the writer (see ``Checkpointer``).
    let checkpointer: Checkpointer

    /// Opens (creating and migrating if needed) the archive at `path`, copying its write-ahead log into it once the log
    /// holds `checkpointMiB` MiB.
    public convenience init(path: String, checkpointMiB: Int = 64) throws {
        try self.init(path: path, checkpointPages: Int32(checkpointMiB * 256)) { _ in }
    }

    /// Opens the archive at `path`, checkpointing its WAL once it holds `checkpointPages` pages; `observeCheckpoints`
    /// hears of each checkpoint.
    ///
    /// Every 64 MiB of WAL rather than SQLite's 4 MiB: a page written by many transactions in between (index pages, the
    /// full-text index) is copied into the database once, not once per 4 MiB. An ingest with its text writes about
    /// 300 KB, so 4 MiB meant a checkpoint after nearly every commit. The WAL file keeps the size it reached, up to
    /// the bound ``Checkpointer`` sets (four times that): writing frames over blocks the file already has is cheaper
    /// than growing it again after every checkpoint (5 % of storing pages went to zeroing new blocks).
    init(
        path: String, checkpointPages: Int32, observeCheckpoints: @escaping @Sendable (Checkpointer.Event) -> Void
    ) throws {
        try Self.restrictAccess(to: path)
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        let textLengths = TextLengths()
        self.textLengths = textLengths
        configuration.prepareDatabase { db in
            try textLengths.register(on: db)
            try db.execute(sql: "PRAGMA synchronous = FULL")
            try db.execute(sql: "PRAGMA journal_size_limit = \(Int(checkpointPages) * 4 * 4096)")
            if db.configuration.readonly { try db.execute(sql: "PRAGMA mmap_size = \(Self.readerMapBytes)") }
        }
        pool = try DatabasePool(path: path, configuration: configuration)
        let checkpointer = Checkpointer(
            path: path, configuration: configuration, threshold: checkpointPages, observe: observeCheckpoints)
        try pool.writeWithoutTransaction { db in
            // GRDB turns the writer to synchronous = NORMAL when it sets up WAL mode, after prepareDatabase: commits
            // were then not synced, and a power loss could take back articles newsd had reported stored
            // (PowerLossTests).
            try db.execute(sql: "PRAGMA synchronous = FULL")
            // The writer alone: the checkpointer's connection (which shares the configuration) copies WAL frames without
            // it, and readers map the file.
            try db.execute(sql: "PRAGMA cache_size = -\(Self.writerCacheBytes / 1024)")
            checkpointer.attach(to: db)
        }
        self.checkpointer = checkpointer
        // A new archive gives back the pages recompression frees (see ``reclaimFreePages()``). The setting takes on a
        // database without tables, and in WAL mode only through a VACUUM (of nothing, here).
        try pool.writeWithoutTransaction { db in
            if try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM sqlite_master") == 0 {
                try db.execute(sql: "PRAGMA auto_vacuum = INCREMENTAL")
                try db.execute(sql: "VACUUM")
            }
        }
        try Schema.migrator.migrate(pool)
        epoch = try pool.read { db in try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'epoch'") } ?? ""
    }

    deinit { checkpointer.stop() }

    /// How much of the file the writing connection keeps in its own page cache (`PRAGMA cache_size`; SQLite's own is
    /// 2 MiB). Filing a text reads the full-text index's and the event keys' pages it adds to; with SQLite's cache the
    /// writer of a large archive spent most of its time copying pages it had just read back in with `pread`. At
    /// 400,000-500,000 texts, 64 MiB made 182-187 texts a second of 153-158.
    static let writerCacheBytes = 64 << 20

    /// How much of the file a reading connection maps into memory (`PRAGMA mmap_size`), rather than copying each page
    /// it reads into its own cache with a system call.
    public static let readerMapBytes = 1 << 31

    /// Takes the write lock and gives it back, writing nothing: returns once the writer is free, throws if it is not
    /// within the busy timeout.
    public func takeWriteLock() throws {
        try pool.writeWithoutTransaction { db in
            try db.execute(sql: "BEGIN IMMEDIATE")
            try db.execute(sql: "ROLLBACK")
        }
    }

    /// Makes the database, and its WAL and shared-memory files where they exist, readable and writable by their owner
    /// only, whatever the umask; a new database file is created so. SQLite gives the files it creates beside the
    /// database the database file's mode.
    private static func restrictAccess(to path: String) throws {
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw ArchiveFileError("cannot open \(path): \(String(cString: strerror(errno)))")
        }
        defer { Foundation.close(descriptor) }
        guard fchmod(descriptor, 0o600) == 0 else {
            throw ArchiveFileError("cannot make \(path) private to its owner: \(String(cString: strerror(errno)))")
        }
        for companion in [path + "-wal", path + "-shm"] where FileManager.default.fileExists(atPath: companion) {
            chmod(companion, 0o600)
        }
    }

    /// Blocks until no read or write is in progress, copies the WAL into the database and truncates it, and closes
    /// the database: afterwards `archive.sqlite` alone holds everything.
    ///
    /// SQLite checkpoints when its last connection closes, but GRDB closes the pool's writer before its readers, and a
    /// reader cannot checkpoint: without this the data stayed in the WAL, and a copy of the database file alone, made
    /// after a clean stop, was an empty archive.
    public func close() throws {
        checkpointer.stop()
        let checkpointed = Result { try pool.writeWithoutTransaction { db in try db.checkpoint(.truncate) } }
        try pool.close()
        _ = try checkpointed.get()
    }
}

// MARK: - Storing what was fetched

/// A feed's entry that links to an article.
public struct FeedLink: Sendable {
    /// The feed's URL (its identity).
    public var url: String
    /// The entry's id in the feed.
    public var entryID: String
    /// A digest of what the entry says about its article (see ``EntryState``).
    public var version: String
    /// The entry's title: the article's title when its page has none.
    public var title: String?

    public init(url: String, entryID: String, version: String, title: String? = nil) {
        self.url = url
        self.entryID = entryID
        self.version = version
        self.title = title
    }
}

/// Everything one fetch produced, stored together or not at all: an article page with its text, or a feed document.
public struct Ingest: Sendable {
    /// The feed entry that linked the article.
    public var feed: FeedLink?
    /// The article, absent for a feed document.
    public var article: ArticleRecord?
    public var capture: CaptureRecord
    /// The raw page, hashed once; its SHA-256 must equal `capture.blobHash`.
    public var raw: HashedBytes
    public var text: TextRecord?
    public var extraction: ExtractionRecord?
    /// For an article captured for the first time: its first revisit, planned in the same transaction.
    public var firstRevisit: PlannedRevisit?
    /// For an article captured for the first time: its page's blocks, counted toward its host's template in the same
    /// transaction (``Archive/learnTemplate(_:)``).
    public var templateSample: TemplateSample?

    public init(
        feed: FeedLink?, article: ArticleRecord?, capture: CaptureRecord,
        raw: HashedBytes, text: TextRecord?, extraction: ExtractionRecord?,
        firstRevisit: PlannedRevisit? = nil, templateSample: TemplateSample? = nil
    ) {
        self.feed = feed
        self.article = article
        self.capture = capture
        self.raw = raw
        self.text = text
        self.extraction = extraction
        self.firstRevisit = firstRevisit
        self.templateSample = templateSample
    }
}

/// When an article captured for the first time is first fetched again (see ``Revisit``).
public struct PlannedRevisit: Sendable {
    /// The feed it came through, if any.
    public var feedID: Int64?
    /// When it was first captured: the schedule counts from there.
    public var firstAt: Date
    public var due: Date

    public init(feedID: Int64?, firstAt: Date, due: Date) {
        self.feedID = feedID
        self.firstAt = firstAt
        self.due = due
    }
}

/// The text blocks of one article of a host, counted toward the host's template.
public struct TemplateSample: Sendable {
    public var host: String
    public var blocks: Set<UInt64>

    public init(host: String, blocks: some Sequence<UInt64>) {
        self.host = host
        self.blocks = Set(blocks)
    }

    /// Whether there is nothing to count: no host, or no blocks.
    var isEmpty: Bool { host.isEmpty || blocks.isEmpty }
}

/// A blob in its stored form.
public struct StoredBlob: Sendable, Equatable {
    /// SHA-256 of the original bytes.
    public var hash: ContentHash
    public var data: Data
    /// `zstd` or `identity`.
    public var encoding: String
    /// The size of the original bytes.
    public var size: Int

    public init(hash: ContentHash, data: Data, encoding: String, size: Int) {
        self.hash = hash
        self.data = data
        self.encoding = encoding
        self.size = size
    }

    /// `bytes` in the form the archive keeps them.
    public init(bytes: Data) {
        let stored = BlobCodec.encode(bytes, level: BlobCodec.compactLevel)
        self.init(hash: ContentHash(of: bytes), data: stored.data, encoding: stored.encoding, size: bytes.count)
    }

    /// The blob as its original bytes (`identity`); throws if the stored form is damaged.
    public func original() throws -> StoredBlob {
        encoding == "identity" ? self : StoredBlob(hash: hash, data: try bytes(), encoding: "identity", size: size)
    }

    /// The blob in the form the archive keeps pages it recompressed: the original bytes, as they came, are compressed.
    public func compressed() -> StoredBlob {
        guard encoding == "identity" else { return self }
        let stored = BlobCodec.encode(data, level: BlobCodec.compactLevel)
        return StoredBlob(hash: hash, data: stored.data, encoding: stored.encoding, size: size)
    }

    /// The dictionary the stored form was compressed with (encoding `zstd:HASH`), if any.
    public var dictionary: ContentHash? { BlobCodec.dictionary(of: encoding) }

    /// The dictionary a stored form in `encoding` was compressed with, if any.
    public static func dictionary(of encoding: String) -> ContentHash? { BlobCodec.dictionary(of: encoding) }

    /// Throws unless the stored form decodes to bytes that `hash` names.
    public func verify() throws {
        _ = try bytes()
    }

    /// The original bytes; throws unless the stored form decodes to bytes that `hash` names. A form compressed with a
    /// dictionary is not read here: it stays inside the archive that holds the dictionary.
    public func bytes() throws -> Data {
        try bytes(dictionaries: { _ in nil })
    }

    /// The original bytes; throws unless the stored form decodes to bytes that `hash` names (with the dictionary it
    /// names, if any, from `dictionaries`).
    func bytes(dictionaries: BlobCodec.DictionaryLookup) throws -> Data {
        let bytes = try BlobCodec.decode(data, encoding: encoding, size: size, dictionaries: dictionaries)
        let actual = ContentHash(of: bytes)
        guard actual == hash else { throw IntegrityError("blob \(hash) arrived with bytes hashing to \(actual)") }
        return bytes
    }
}

/// An ``Ingest`` checked, with the work that needs no lock done: see ``Archive/prepare(_:)``.
public struct PreparedIngest: Sendable {
    let items: [ArchiveItem]
    let feed: FeedLink?
    let blobHash: ContentHash
    let size: Int
    let stored: (data: Data, encoding: String)
    let traits: TextTraits?
    let firstRevisit: PlannedRevisit?
    let templateSample: TemplateSample?
}

/// What stories and events need of a text, worked out before the write lock is taken.
struct TextTraits: Sendable {
    let fingerprint: MinHash
    let profile: EventProfile

    init(_ text: TextRecord) {
        fingerprint = MinHash(text: text.body)
        profile = EventProfile(title: text.title, body: text.body, published: text.published)
    }
}

extension Ingest {
    /// The records of the ingest, in the order they are stored: article, capture, text, extraction.
    var items: [ArchiveItem] {
        var items: [ArchiveItem] = article.map { [.article($0)] } ?? []
        items.append(.capture(capture))
        if let text { items.append(.text(text)) }
        if let extraction { items.append(.extraction(extraction)) }
        return items
    }
}

/// Records whose ids and signatures ``Archive/check(_:)`` checked, so that storing them does not check them again
/// under the write lock.
public struct CheckedItems: Sendable {
    public let items: [ArchiveItem]

    /// No records.
    public static let none = CheckedItems(items: [])

    /// The records in `range`, still checked.
    public subscript(range: Range<Int>) -> CheckedItems { CheckedItems(items: Array(items[range])) }
}

/// What the archive holds of an article a feed entry links to.
public enum EntryState: Sendable, Equatable {
    /// Not archived yet: fetch it.
    case new
    /// Archived, and the entry has not changed since.
    case current
    /// Archived, but the entry changed: fetch again, conditionally on the last capture.
    case changed(last: CaptureRecord)
}

/// The archive's file cannot be opened, written or copied as asked.
public struct ArchiveFileError: Error, CustomStringConvertible {
    public let description: String

    public init(_ description: String) { self.description = description }
}

/// A record or blob that cannot be stored because it does not match its hash or lacks what it refers to.
public struct IntegrityError: Error, CustomStringConvertible, Equatable {
    public let description: String

    public init(_ description: String) { self.description = description }
}

extension Archive {
    /// Stores an ingest in one transaction; returns how many records were new.
    @discardableResult
    public func store(_ ingest: Ingest) throws -> Int {
        try store([prepare(ingest)])
    }

    /// Does the work of storing an ingest that needs no lock, on the caller's thread: checks the page against its
    /// hash and every record against its id and the capture's signature, compresses the page (with its host's
    /// dictionary or the general one, where the archive has one), and fingerprints the text for stories.
    public func prepare(_ ingest: Ingest) throws -> PreparedIngest {
        let prepared = try prepareUnsigned(ingest)
        try checkSignature(of: ingest.capture, kind: "capture")
        if let extraction = ingest.extraction, !extraction.nodeID.isEmpty {
            try checkSignature(of: extraction, kind: "extraction")
        }
        return prepared
    }

    /// ``prepare(_:)`` for a capture this node has just made: signs it with `key`, this node's (registered here),
    /// rather than checking a signature. Checking one the archive made itself would only cost time: verifying an
    /// Ed25519 signature takes four times as long as making one, 7 % of storing a page.
    public func prepare(_ ingest: Ingest, signingWith key: NodeKey) throws -> PreparedIngest {
        guard ingest.capture.nodeID == key.record.id.hex, try node(key.record.id.hex) == key.record else {
            throw IntegrityError("capture \(ingest.capture.id) is not by node \(key.record.id.hex.prefix(16)), registered here")
        }
        var signed = ingest
        signed.capture = try key.sign(ingest.capture)
        if let extraction = ingest.extraction, !extraction.nodeID.isEmpty {
            guard extraction.nodeID == key.record.id.hex else {
                throw IntegrityError("extraction \(extraction.id) is not by node \(key.record.id.hex.prefix(16))")
            }
            signed.extraction = try key.sign(extraction)
        }
        return try prepareUnsigned(signed)
    }

    /// What ``prepare(_:)`` does but check the capture's signature.
    private func prepareUnsigned(_ ingest: Ingest) throws -> PreparedIngest {
        let blobHash = ingest.raw.hash
        guard blobHash == ingest.capture.blobHash else {
            throw IntegrityError(
                "capture \(ingest.capture.id) names blob \(ingest.capture.blobHash) but the bytes hash to \(blobHash)")
        }
        let items = ingest.items
        try Self.requireIntact(items)
        return PreparedIngest(
            items: items, feed: ingest.feed, blobHash: blobHash, size: ingest.raw.bytes.count,
            stored: BlobCodec.encode(
                ingest.raw.bytes, level: BlobCodec.ingestLevel, dictionary: try arrivalDictionary(for: ingest.capture.url)),
            traits: ingest.text.map(TextTraits.init), firstRevisit: ingest.firstRevisit, templateSample: ingest.templateSample)
    }

    /// The node record of `id` stored here (or among those read before), if any.
    private func node(_ id: String) throws -> NodeRecord? {
        if let node = knownNodes.withLock({ $0[id] }) { return node }
        let node = try pool.read { db in try NodeRecord.fetchOne(db, key: ContentHash(hex: id)) }
        if let node { knownNodes.withLock { $0[id] = node } }
        return node
    }

    /// Throws unless `record` carries a valid signature of a node this archive knows, or of one in `arriving`.
    private func checkSignature(
        of record: some SignedRecord, kind: String, arriving: [String: NodeRecord] = [:]
    ) throws {
        guard let node = try arriving[record.nodeID] ?? node(record.nodeID) else {
            throw IntegrityError("\(kind) \(record.id) is by node \(record.nodeID.prefix(16)), which is not known here")
        }
        guard record.isSigned(by: node) else {
            throw IntegrityError("\(kind) \(record.id) does not carry a valid signature of node \(record.nodeID.prefix(16))")
        }
    }

    /// Checks records that came from elsewhere (a peer) without taking the write lock: every id against its content,
    /// every capture's, annotation's and signed extraction's signature against its node, known here, among `items`, or
    /// among `pending` (node records that arrived before these and are being stored with them: an earlier page of the
    /// same pull). An extraction without a node (made before extractions were signed) is taken, and shown as unverified.
    public func check(_ items: [ArchiveItem], pending: [String: NodeRecord] = [:]) throws -> CheckedItems {
        try Self.requireIntact(items)
        var arriving = pending
        for case .node(let node) in items { arriving[node.id.hex] = node }
        for item in items {
            switch item {
            case .capture(let record): try checkSignature(of: record, kind: item.kind, arriving: arriving)
            case .annotation(let record): try checkSignature(of: record, kind: item.kind, arriving: arriving)
            case .timestamp(let record): try checkSignature(of: record, kind: item.kind, arriving: arriving)
            case .extraction(let record) where !record.nodeID.isEmpty:
                try checkSignature(of: record, kind: item.kind, arriving: arriving)
            default: break
            }
        }
        return CheckedItems(items: items)
    }

    /// Stores prepared ingests in one transaction (one commit, one sync to disk for all); returns how many records
    /// were new. If one of them is refused, none is stored.
    @discardableResult
    public func store(_ batch: [PreparedIngest]) throws -> Int {
        try storeEach(batch).reduce(0, +)
    }

    /// Stores prepared ingests in one transaction, with their first revisits and template samples; returns how many
    /// records of each were new.
    func storeEach(_ batch: [PreparedIngest]) throws -> [Int] {
        try pool.write { db in
            var counts: [Int] = []
            for prepared in batch {
                var added = 0
                try Self.insertBlob(
                    prepared.stored, hash: prepared.blobHash, size: prepared.size, compacted: false, db: db)
                for item in prepared.items
                where try Self.insert(item, db: db, traits: prepared.traits) {
                    added += 1
                }
                if case .article(let article) = prepared.items.first {
                    if let feed = prepared.feed { try Self.link(article: article.id, feed, db: db) }
                    if let revisit = prepared.firstRevisit { try Self.plan(revisit, of: article, db: db) }
                }
                // In the article's transaction: each in one of its own cost a sync to disk per article.
                if let sample = prepared.templateSample { try Self.learn(sample, db: db) }
                counts.append(added)
            }
            return counts
        }
    }

    /// What the archive holds of an article a feed entry links to, and so whether to fetch it.
    ///
    /// When the article is archived, the entry is linked to the feed (one article, several feeds). An
    /// entry whose version (a digest of its dates, title and content) differs from the one recorded
    /// means the article may have changed: it is fetched again, conditionally on its last capture.
    public func entryState(articleURL: String, entry: FeedLink) throws -> EntryState {
        let articleID = ArticleRecord(url: articleURL).id
        return try pool.write { db in
            guard let last = try Self.lastCapture(of: articleID, db: db) else { return .new }
            let recorded = try String.fetchOne(
                db,
                sql:
                    "SELECT version FROM feed_entry JOIN feed ON feed.id = feed_entry.feedID WHERE feed.url = ? AND articleID = ?",
                arguments: [entry.url, articleID])
            if recorded == nil {
                // First seen through this feed: linked, and current as of now.
                try Self.link(article: articleID, entry, db: db)
                return .current
            }
            return recorded == entry.version ? .current : .changed(last: last)
        }
    }

    /// Records that `entry`, linking to `articleURL`, is now at its version.
    public func entryIsCurrent(articleURL: String, entry: FeedLink) throws {
        try pool.write { db in try Self.link(article: ArticleRecord(url: articleURL).id, entry, db: db) }
    }

    static func link(article: ContentHash, _ entry: FeedLink, db: Database) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO feed_entry(feedID, articleID, entryID, version, title) SELECT id, ?, ?, ?, ? FROM feed WHERE url = ?
                ON CONFLICT(feedID, articleID) DO UPDATE SET entryID = excluded.entryID, version = excluded.version,
                    title = excluded.title
                """
        ).execute(arguments: [article, entry.entryID, entry.version, entry.title, entry.url])
    }

    /// Records a node (this one, at start) so that its captures can be verified.
    public func register(_ node: NodeRecord) throws {
        try Self.requireIntact([.node(node)])
        _ = try pool.write { db in try Self.insert(.node(node), db: db) }
    }

    /// Whether a capture of `url` with exactly these bytes is archived.
    public func hasCapture(url: String, blobHash: ContentHash) throws -> Bool {
        try pool.read { db in
            try Bool.fetchOne(
                db, sql: "SELECT EXISTS(SELECT 1 FROM capture WHERE url = ? AND blobHash = ?)", arguments: [url, blobHash])
                == true
        }
    }

    /// The raw bytes stored under `hash`, if any; throws if what is stored is damaged.
    public func blob(_ hash: ContentHash) throws -> Data? {
        try storedBlob(hash, original: true)?.data
    }

    /// The blob stored under `hash` in the form peers are sent, with its original size: compressed (`zstd`) or not
    /// (`identity`) as it is stored, so that what crosses the wire is what the disk holds; a page compressed with one
    /// of this archive's dictionaries goes compressed without it, unless the peer takes `dictionaries` (it fetches each
    /// one it lacks: ``dictionaryHost(_:)``). `original`: as it came.
    public func storedBlob(_ hash: ContentHash, original: Bool = false, dictionaries: Bool = false) throws -> StoredBlob? {
        try pool.read { db in
            guard
                let row = try Row.fetchOne(
                    db, sql: "SELECT data, encoding, size FROM blob WHERE hash = ?", arguments: [hash])
            else { return nil }
            let stored = StoredBlob(hash: hash, data: row["data"], encoding: row["encoding"], size: row["size"])
            guard original || (!dictionaries && BlobCodec.dictionary(of: stored.encoding) != nil) else { return stored }
            let bytes = try stored.bytes(dictionaries: self.dictionaries(db))
            let form = original ? (bytes, "identity") : BlobCodec.encode(bytes, level: BlobCodec.ingestLevel)
            return StoredBlob(hash: hash, data: form.0, encoding: form.1, size: stored.size)
        }
    }

    /// Which of `hashes` have no blob here.
    public func missingBlobs(_ hashes: some Collection<ContentHash>) throws -> [ContentHash] {
        try pool.read { db in
            try hashes.filter { hash in
                try Bool.fetchOne(db, sql: "SELECT EXISTS(SELECT 1 FROM blob WHERE hash = ?)", arguments: [hash]) != true
            }
        }
    }

    /// Which of the records named `kind` and `id` this archive lacks.
    public func missingRecords(_ records: [(kind: String, id: ContentHash)]) throws -> [(kind: String, id: ContentHash)] {
        try pool.read { db in
            try records.filter { record in
                try Bool.fetchOne(
                    db, sql: "SELECT EXISTS(SELECT 1 FROM change WHERE kind = ? AND key = ?)",
                    arguments: [record.kind, record.id])
                    != true
            }
        }
    }

    /// Stores a blob of `size` bytes (whose SHA-256 is `hash`) in its stored form, unless it is stored already; one
    /// not `compacted` waits for ``compactBlobs(limit:)``.
    static func insertBlob(
        _ stored: (data: Data, encoding: String), hash: ContentHash, size: Int, compacted: Bool, db: Database
    ) throws {
        try db.cachedStatement(
            sql: "INSERT OR IGNORE INTO blob(hash, size, encoding, data, compacted) VALUES (?, ?, ?, ?, ?)"
        ).execute(arguments: [hash, size, stored.encoding, stored.data, compacted])
    }

    /// Throws unless every record's id matches its content.
    static func requireIntact(_ items: [ArchiveItem]) throws {
        if let bad = items.first(where: { !$0.isIntact }) {
            throw IntegrityError("\(bad.kind) \(bad.id) does not match its content")
        }
    }

    /// Inserts a record unless present, and adds a change-log row when it is new (naming the node it came from,
    /// `origin`, if it came from one). The record's id and signature were checked before the write lock was taken
    /// (``check(_:)``, ``prepare(_:)``) or it was made here; what needs the database is checked here.
    static func insert(_ item: ArchiveItem, db: Database, traits: TextTraits? = nil, origin: String? = nil) throws -> Bool {
        switch item {
        case .node(let record): try record.insert(db, onConflict: .ignore)
        case .article(let record): try record.insert(db, onConflict: .ignore)
        case .capture(let record):
            guard
                try Bool.fetchOne(
                    db.cachedStatement(sql: "SELECT EXISTS(SELECT 1 FROM blob WHERE hash = ?)"), arguments: [record.blobHash])
                    == true
            else { throw IntegrityError("capture \(record.id) refers to blob \(record.blobHash), which is not stored") }
            try record.insert(db, onConflict: .ignore)
        case .text(let record): try record.insert(db, onConflict: .ignore)
        case .extraction(let record): try record.insert(db, onConflict: .ignore)
        case .annotation(let record):
            try requireAnnotatable(record, db: db)
            try record.insert(db, onConflict: .ignore)
        case .timestamp(let record): try record.insert(db, onConflict: .ignore)
        }
        guard db.changesCount > 0 else { return false }
        if case .annotation(let annotation) = item { try Self.merge(annotation, db: db) }
        if case .timestamp(let timestamp) = item {
            for capture in timestamp.captures {
                try db.execute(
                    sql: "INSERT OR IGNORE INTO timestamp_leaf(captureID, tsa, timestampID) VALUES (?, ?, ?)",
                    arguments: [capture, timestamp.tsa, timestamp.id])
            }
        }
        if case .text(let text) = item {
            try db.cachedStatement(
                sql: "INSERT INTO text_search(rowid, title, body) SELECT seq, title, body FROM text WHERE id = ?"
            ).execute(arguments: [text.id])
            let traits = traits ?? TextTraits(text)
            let copies = try Self.assignStory(text, fingerprint: traits.fingerprint, db: db)
            try Self.fileEvent(textID: text.id.hex, profile: traits.profile, copies: Array(copies), db: db)
        }
        try db.cachedStatement(sql: "INSERT OR IGNORE INTO change(kind, key, origin) VALUES (?, ?, ?)").execute(
            arguments: [item.kind, item.id, origin])
        return true
    }
}

// MARK: - The change log and peers

/// One change-log entry: a sequence number and the record it added.
public struct Change: Sendable, Equatable, Codable {
    public var seq: Int64
    public var item: ArchiveItem

    public init(seq: Int64, item: ArchiveItem) {
        self.seq = seq
        self.item = item
    }
}

/// A push that does not follow what this node holds of the pusher's change log.
public struct PushConflict: Error, CustomStringConvertible {
    /// Where this node stands with the pusher.
    public let stored: PeerCursor

    public var description: String {
        "this node holds the pusher's changes up to \(stored.cursor) of epoch \(stored.epoch ?? "none"); push from there"
    }
}

/// How much of a peer's change log this node holds: its sync state for the peer, and, on the wire, what a node tells a
/// peer it holds of that peer's log (`GET /v1/cursor`, `yours` in a changes page).
public struct PeerCursor: Sendable, Equatable, Codable {
    /// The peer's epoch the cursor belongs to; `nil` before the first sync.
    public var epoch: String?
    /// The peer's sequence number up to which everything is stored here.
    public var cursor: Int64
    /// The peer's change at `cursor` (`KIND/ID`), as the peer said: if its log holds another change there, the log
    /// was restored from an older copy, and its sequence numbers mean something else now.
    public var key: String?

    public init(epoch: String?, cursor: Int64, key: String? = nil) {
        self.epoch = epoch
        self.cursor = cursor
        self.key = key
    }
}

extension Archive {
    /// Up to `limit` changes after sequence `since`, in order.
    public func changes(since: Int64, limit: Int) throws -> [Change] {
        try changes(since: since, limit: limit, skipping: nil).changes
    }

    /// Up to `limit` changes after sequence `since`, in order, leaving out those received from the node `origin` (it
    /// has them), and the sequence number up to which the log was read: everything up to `last` not returned came
    /// from `origin`.
    public func changes(since: Int64, limit: Int, skipping origin: String?) throws -> (changes: [Change], last: Int64) {
        try pool.read { db in
            // The changes that came from `origin` are passed over in SQL, however many: a page that holds fewer than
            // `limit` read the log to its end.
            var arguments: StatementArguments = [since]
            if let origin { arguments += [origin] }
            arguments += [limit]
            let kept = try Row.fetchAll(
                db,
                sql: "SELECT seq, kind, key FROM change WHERE seq > ? \(origin == nil ? "" : "AND origin IS NOT ?") "
                    + "ORDER BY seq LIMIT ?",
                arguments: arguments)
            let last: Int64 =
                kept.count == limit
                ? kept[limit - 1]["seq"] : max(since, try Self.lastSequence(db))
            let changes = try kept.compactMap { row -> Change? in
                let key: ContentHash = row["key"]
                let item: ArchiveItem? =
                    switch row["kind"] as String {
                    case "node": try NodeRecord.fetchOne(db, key: key).map(ArchiveItem.node)
                    case "article": try ArticleRecord.fetchOne(db, key: key).map(ArchiveItem.article)
                    case "capture": try CaptureRecord.fetchOne(db, key: key).map(ArchiveItem.capture)
                    case "text": try TextRecord.fetchOne(db, key: ["id": key]).map(ArchiveItem.text)
                    case "extraction": try ExtractionRecord.fetchOne(db, key: key).map(ArchiveItem.extraction)
                    case "annotation": try AnnotationRecord.fetchOne(db, key: key).map(ArchiveItem.annotation)
                    case "timestamp": try TimestampRecord.fetchOne(db, key: key).map(ArchiveItem.timestamp)
                    default: nil
                    }
                return item.map { Change(seq: row["seq"], item: $0) }
            }
            return (changes, last)
        }
    }

    /// The texts with `ids` that the archive holds, in the order asked.
    public func texts(_ ids: [ContentHash]) throws -> [TextRecord] {
        try pool.read { db in try ids.compactMap { try TextRecord.fetchOne(db, key: ["id": $0]) } }
    }

    /// The last sequence number in the change log (0 when empty).
    public func lastSequence() throws -> Int64 {
        try pool.read(Self.lastSequence)
    }

    /// The last sequence number in `db`'s change log (0 when empty).
    static func lastSequence(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM change") ?? 0
    }

    /// Where this node stands with `peer`.
    public func cursor(peer: String) throws -> PeerCursor {
        try pool.read { db in try Self.cursor(peer: peer, db: db) }
    }

    private static func cursor(peer: String, db: Database) throws -> PeerCursor {
        let row = try Row.fetchOne(db, sql: "SELECT epoch, cursor, cursorKey FROM peer WHERE name = ?", arguments: [peer])
        return PeerCursor(epoch: row?["epoch"], cursor: row?["cursor"] ?? 0, key: row?["cursorKey"])
    }

    /// Forgets which changes came from the node `origin`, so that they are offered to it again: its archive was
    /// recreated or restored from an older copy, and it may lack them now.
    public func forgetOrigin(_ origin: String) throws {
        try pool.write { db in try Self.forgetOrigin(origin, db: db) }
    }

    private static func forgetOrigin(_ origin: String, db: Database) throws {
        try db.execute(sql: "UPDATE change SET origin = NULL WHERE origin = ?", arguments: [origin])
    }

    /// The change at sequence number `seq` as `KIND/ID`, if there is one.
    public func changeKey(at seq: Int64) throws -> String? {
        try pool.read { db in
            try Row.fetchOne(db, sql: "SELECT kind, key FROM change WHERE seq = ?", arguments: [seq]).map {
                ArchiveItem.changeKey(kind: $0["kind"], id: $0["key"])
            }
        }
    }

    /// Stores records pulled from `peer` and moves its cursor (and its `head`, the last sequence number it reported),
    /// in one transaction. New records are logged as received from the node `origin`.
    ///
    /// Every record must match its hash, every blob its hash, and every capture's blob must be stored here
    /// or among `blobs`; otherwise nothing is stored and the cursor does not move.
    /// Returns how many records were new.
    @discardableResult
    public func apply(
        _ items: [ArchiveItem], blobs: [StoredBlob], from peer: String, url: String, epoch: String, cursor: Int64,
        cursorKey: String? = nil, head: Int64? = nil, origin: String? = nil
    ) throws
        -> Int
    {
        try apply(
            check(items), blobs: blobs, from: peer, url: url, epoch: epoch, cursor: cursor, cursorKey: cursorKey, head: head,
            origin: origin)
    }

    /// ``apply(_:blobs:from:url:epoch:cursor:cursorKey:head:origin:)`` for records checked already.
    @discardableResult
    public func apply(
        _ checked: CheckedItems, blobs: [StoredBlob], from peer: String, url: String, epoch: String, cursor: Int64,
        cursorKey: String? = nil, head: Int64? = nil, origin: String? = nil
    ) throws -> Int {
        try commit(checked, blobs: blobs, origin: origin) { db in
            try db.execute(
                sql: """
                    INSERT INTO peer(name, url, epoch, cursor, cursorKey, head) VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT(name) DO UPDATE SET url = excluded.url, epoch = excluded.epoch, cursor = excluded.cursor,
                        cursorKey = excluded.cursorKey, head = COALESCE(excluded.head, peer.head)
                    """, arguments: [peer, url, epoch, cursor, cursorKey, head])
        }
    }

    /// Stores a run of `peer`'s change log that the peer pushed, the changes after `since` up to `last`, and moves
    /// this node's cursor for the peer, in one transaction. The run must follow what is stored: the same epoch and a
    /// cursor at or past `since`, or `since` 0 (a new epoch, or a pusher starting over), which sets the cursor anew;
    /// otherwise ``PushConflict`` says where this node stands and nothing is stored. `lastKey` is the change at
    /// `last`. New records are logged as received from the node `origin`. Returns how many records were new and the
    /// new cursor.
    public func receive(
        _ items: [ArchiveItem], blobs: [StoredBlob], from peer: String, url: String, epoch: String, since: Int64, last: Int64,
        lastKey: String?, head: Int64, origin: String? = nil
    ) throws -> (added: Int, cursor: Int64) {
        var cursor = last
        var cursorKey = lastKey
        let added = try commit(check(items), blobs: blobs, origin: origin) { db in
            let stored = try Self.cursor(peer: peer, db: db)
            if stored.epoch == epoch, since > 0 {
                guard stored.cursor >= since else { throw PushConflict(stored: stored) }
                if stored.cursor > last { (cursor, cursorKey) = (stored.cursor, stored.key) }
            } else {
                // A new epoch, or the pusher starting over (its archive was restored from a copy): the cursor is what
                // this push brings, whatever it was, and the pusher may lack what it once sent.
                guard since == 0 else { throw PushConflict(stored: PeerCursor(epoch: stored.epoch, cursor: 0)) }
                if let origin, stored.epoch != nil { try Self.forgetOrigin(origin, db: db) }
            }
            try db.execute(
                sql: """
                    INSERT INTO peer(name, url, epoch, cursor, cursorKey, head) VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT(name) DO UPDATE SET epoch = excluded.epoch, cursor = excluded.cursor,
                        cursorKey = excluded.cursorKey, head = excluded.head
                    """, arguments: [peer, url, epoch, cursor, cursorKey, head])
        }
        return (added, cursor)
    }

    /// Stores records that came from elsewhere (a peer, an import), checked by ``check(_:)``, and blobs (checked on
    /// arrival, see ``StoredBlob/verify()``) in one transaction; `also` runs in the same transaction. Returns how many
    /// records were new.
    func commit(
        _ checked: CheckedItems, blobs: [StoredBlob], origin: String? = nil, also: (Database) throws -> Void = { _ in }
    ) throws -> Int {
        try pool.write { db in
            // With dictionaries here, pages from elsewhere are recompressed with them when newsd is idle.
            let dictionaries = try !blobs.isEmpty && Bool.fetchOne(db, sql: "SELECT EXISTS(SELECT 1 FROM dictionary)") == true
            for blob in blobs {
                // A page that came compressed with a dictionary is kept so.
                let final = !dictionaries || BlobCodec.dictionary(of: blob.encoding) != nil
                try Self.insertBlob((blob.data, blob.encoding), hash: blob.hash, size: blob.size, compacted: final, db: db)
            }
            let added = try checked.items.reduce(0) { $0 + (try Self.insert($1, db: db, origin: origin) ? 1 : 0) }
            try also(db)
            return added
        }
    }

    /// Records the outcome of a sync attempt with `peer`.
    public func recordSync(peer: String, url: String, at date: Date, error: String?) throws {
        try pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO peer(name, url, lastSyncAt, lastResult, lastError) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT(name) DO UPDATE SET url = excluded.url, lastSyncAt = excluded.lastSyncAt,
                        lastResult = excluded.lastResult, lastError = excluded.lastError
                    """, arguments: [peer, url, date.timeIntervalSince1970, error == nil ? "ok" : "error", error])
        }
    }
}
