public import Foundation
import GRDB
public import NewsCore
import Synchronization

/// Dictionaries' bytes by hash, as read once: every page compressed with one needs it to be read.
final class DictionaryCache: Sendable {
    private let held = Mutex<[ContentHash: Data]>([:])
    /// At most this many are held (1 MiB each at most); past it, one is let go for each read.
    private static let limit = 32

    /// The latest dictionary of each host ('' for the general one) as last read, and how many dictionaries were added
    /// since this cache began: a map read before one was added is not kept.
    private let latest = Mutex<(added: Int, byHost: [String: ContentHash]?)>((0, nil))

    /// The latest dictionary of each host: as read by `read` the first time, and again after one is added.
    func latestByHost(_ read: () throws -> [String: ContentHash]) rethrows -> [String: ContentHash] {
        let (added, known) = latest.withLock { $0 }
        if let known { return known }
        let byHost = try read()
        latest.withLock { if $0.added == added { $0.byHost = byHost } }
        return byHost
    }

    /// Says a dictionary was added to the archive.
    func dictionaryAdded() { latest.withLock { $0 = ($0.added + 1, nil) } }

    /// The bytes of the dictionary `hash` names, if read before.
    func held(_ hash: ContentHash) -> Data? { held.withLock { $0[hash] } }

    /// The bytes of the dictionary `hash` names, read in `db` the first time; `nil` when the archive does not hold it.
    /// A dictionary may be compressed with an earlier one, read through `chain` dictionaries at most (itself included).
    func bytes(_ hash: ContentHash, db: Database, chain: Int = Archive.dictionaryChain) throws -> Data? {
        if let bytes = held(hash) { return bytes }
        // Only a blob the archive lists as a dictionary is read as one (a page named as a dictionary is not).
        guard
            let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT data, encoding, size FROM blob
                    WHERE hash = ? AND EXISTS(SELECT 1 FROM dictionary WHERE hash = blob.hash)
                    """, arguments: [hash])
        else { return nil }
        // A longer chain than newsd makes (or a loop) fails here: its last link is read without dictionaries.
        let bytes = try StoredBlob(hash: hash, data: row["data"], encoding: row["encoding"], size: row["size"]).bytes {
            chain > 1 ? try self.bytes($0, db: db, chain: chain - 1) : nil
        }
        held.withLock {
            if $0.count >= Self.limit, let any = $0.keys.first { $0[any] = nil }
            $0[hash] = bytes
        }
        return bytes
    }
}

/// What the idle passes have read of the captures: the change log's position up to which they did, and of each host
/// the pages a dictionary may still be made of (see ``Archive/buildDictionaries(limit:)``).
struct DictionaryScan: Sendable {
    var read: Int64 = 0
    var hosts: [String: [Archive.HostPage]] = [:]
}

extension Archive {
    /// A host's dictionary is made once the archive holds this many of its pages.
    static let hostDictionaryPages = 2
    /// A host's dictionary is its first pages, up to this many bytes.
    static let hostDictionaryBytes = 1024 * 1024
    /// The general dictionary is trained once the archive holds pages of this many hosts without a dictionary of their
    /// own (and again at four times as many as when it last was)...
    static let generalDictionaryHosts = 16
    /// ...on up to this many bytes of them (a page of each host, the latest), into a dictionary of at most a quarter of
    /// what it was trained on, and at least and at most these sizes.
    static let generalSampleBytes = 8 << 20
    static let generalDictionaryBytes = 256 * 1024...512 * 1024
    /// A host's dictionary is made again of its newer pages once those add up to this many bytes (a quarter of a
    /// dictionary), so that pages compress against the ones just before them, a changed template too: the later halves
    /// of the wide dev sets' runs of one host take 1.08 times what they add to a stream of all, instead of 1.17 with
    /// their host's first dictionary alone (docs/DECISIONS.md, "zstd dictionaries").
    public static let renewalBytes = 256 * 1024
    /// A host's dictionary is compressed with its previous one (which holds the pages just before), unless reading it
    /// would then decompress more than this many dictionaries, itself included: it is compressed alone then.
    public static let dictionaryChain = 4
    /// A host has at most this many dictionaries: each costs idle work (its own compression and a level-19 `CDict` to
    /// recompress its pages, 0.6 s a MiB) and a request of a peer that pulls its pages, so a backlog of one site's
    /// gigabytes gets the first 16 MiB or so of its pages renewed, and its later pages use the last.
    static let hostDictionaryLimit = 16

    /// How blobs read in `db` find the dictionaries they were compressed with.
    func dictionaries(_ db: Database) -> BlobCodec.DictionaryLookup {
        { [dictionaryCache] hash in try dictionaryCache.bytes(hash, db: db) }
    }

    /// How blobs read outside a database access find their dictionaries.
    func dictionaries() -> BlobCodec.DictionaryLookup {
        { [dictionaryCache, pool] hash in
            try dictionaryCache.held(hash) ?? pool.read { db in try dictionaryCache.bytes(hash, db: db) }
        }
    }

    /// The latest dictionary of each host, by host ('' for the general one).
    func latestDictionaries() throws -> [String: ContentHash] {
        try dictionaryCache.latestByHost {
            try pool.read { db in
                try Row.fetchAll(db, sql: "SELECT host, hash FROM dictionary ORDER BY createdAt").reduce(into: [:]) {
                    $0[$1["host"]] = $1["hash"]
                }
            }
        }
    }

    /// The dictionary a page of `url` is compressed with as it arrives (``prepare(_:)``): its host's, or the general
    /// one; `nil` when there is none.
    func arrivalDictionary(for url: String) throws -> (hash: ContentHash, bytes: Data)? {
        guard let hash = dictionary(for: url, in: try latestDictionaries()), let bytes = try dictionaries()(hash) else {
            return nil
        }
        return (hash, bytes)
    }

    /// The host whose pages the dictionary `hash` was made of ('' for a general one); `nil` when `hash` is no
    /// dictionary of this archive.
    public func dictionaryHost(_ hash: ContentHash) throws -> String? {
        try pool.read { db in try String.fetchOne(db, sql: "SELECT host FROM dictionary WHERE hash = ?", arguments: [hash]) }
    }

    /// The dictionaries of `hashes` this archive lacks.
    public func missingDictionaries(_ hashes: Set<ContentHash>) throws -> [ContentHash] {
        try pool.read { db in
            try hashes.filter {
                try !Bool.fetchOne(db, sql: "SELECT EXISTS(SELECT 1 FROM dictionary WHERE hash = ?)", arguments: [$0])!
            }
        }
    }

    /// Stores a peer's dictionary (`blob`, checked against its hash, of the pages of `host`), so that the pages it sends
    /// compressed with it can be read and kept as they came. Compressed with an earlier dictionary (which this archive
    /// must hold), it is kept so while reading it takes no more than ``dictionaryChain`` dictionaries.
    public func storeDictionary(_ blob: StoredBlob, host: String) throws {
        // No larger than the dictionaries newsd makes: each one read is held in memory.
        guard blob.size <= Self.hostDictionaryBytes else {
            throw IntegrityError("a dictionary of \(blob.size) bytes, more than the \(Self.hostDictionaryBytes) newsd makes")
        }
        // Compressed with a dictionary this archive holds, it is read with it; kept so if its chain is short enough.
        let chained = try BlobCodec.dictionary(of: blob.encoding).map { try chainHasRoom(after: $0) }
        let bytes = try blob.bytes(dictionaries: dictionaries())
        // Kept as it came when compressed (at the peer's dictionary level, 19): compressing 1 MiB again takes 0.3 s.
        let stored =
            chained ?? (blob.encoding == "zstd")
            ? (blob.data, blob.encoding) : BlobCodec.encode(bytes, level: BlobCodec.dictionaryLevel)
        _ = try pool.write { db in
            try Self.insertDictionary(stored, bytes: bytes, host: host, pages: 0, since: nil, checked: nil, db: db)
        }
        dictionaryCache.dictionaryAdded()
    }

    /// The original bytes of `blob`, read with this archive's dictionaries; throws unless they hash to its hash.
    public func original(of blob: StoredBlob) throws -> Data {
        try blob.bytes(dictionaries: dictionaries())
    }

    /// Makes zstd dictionaries from the archive's own pages, and marks the pages they apply to for recompression
    /// (``compactBlobs(limit:)``); returns how many it made (up to `limit` hosts' and the general one).
    ///
    /// A host's dictionary is the bytes of its first pages, as they are: its later pages share their markup, so each
    /// compresses against them as if all were one stream, while each page stays a frame of its own, read alone. When
    /// the host's template changes, its latest pages make it again (``renewChangedDictionaries(_:latest:limit:)``). Pages
    /// of hosts without one use the general dictionary, trained (`ZDICT_trainFromBuffer`) on a page of each such host.
    /// Dictionaries are blobs like pages, named by their hash in the encoding of each page compressed with them
    /// (docs/DECISIONS.md, "zstd dictionaries").
    public func buildDictionaries(limit: Int = 8) throws -> Int {
        let (hosts, latest, general) = try dictionaryScan.withLock { scan in
            try pool.read { db -> ([String: [HostPage]], [String: LatestDictionary], Int?) in
                // SQLite takes a bare column of a MAX() aggregate from the row that holds the maximum: each host's latest.
                let latest = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT host, hash, checked, MAX(createdAt), COUNT(*) AS made FROM dictionary WHERE host != ''
                        GROUP BY host
                        """
                ).reduce(into: [String: LatestDictionary]()) {
                    $0[$1["host"]] = LatestDictionary(hash: $1["hash"], checked: $1["checked"] ?? "", made: $1["made"])
                }
                let general = try Int.fetchOne(
                    db, sql: "SELECT pages FROM dictionary WHERE host = '' ORDER BY createdAt DESC LIMIT 1")
                // The captures stored since the last pass, in the change log's order: a pass reads each capture once.
                let rows = try Row.fetchCursor(
                    db,
                    sql: """
                        SELECT change.seq, capture.url, capture.blobHash, capture.fetchedAt, capture.contentType,
                            capture.size
                        FROM change JOIN capture ON capture.id = change.key
                        WHERE change.seq > ? AND change.kind = 'capture' ORDER BY change.seq
                        """, arguments: [scan.read])
                while let row = try rows.next() {
                    scan.read = row[0]
                    let type: String? = row["contentType"]
                    guard type.map({ $0.lowercased().contains("html") }) ?? true, let host = Self.host(of: row["url"])
                    else { continue }
                    scan.hosts[host, default: []].append(
                        HostPage(blob: row["blobHash"], fetchedAt: row["fetchedAt"], size: row["size"]))
                }
                // Of a host with a dictionary, only the pages its renewal looks at are kept (none once it has as many
                // as it may): memory follows the pages that came since its last dictionary (less than
                // ``renewalBytes`` once renewed), not the archive.
                for (host, own) in latest {
                    scan.hosts[host]?.removeAll { own.made >= Self.hostDictionaryLimit || $0.fetchedAt <= own.checked }
                    if scan.hosts[host]?.isEmpty == true { scan.hosts[host] = nil }
                }
                return (scan.hosts, latest, general)
            }
        }
        let made = Set(latest.keys)
        var built = 0
        let due = hosts.filter { !made.contains($0.key) && Set($0.value.map(\.blob)).count >= Self.hostDictionaryPages }
        for (host, pages) in hosts.sorted(by: { $0.key < $1.key })
        where built < limit && (made.contains(host) || due[host] != nil) {
            let room = Self.hostDictionaryLimit - (latest[host]?.made ?? 0)
            built += try makeDictionaries(of: host, from: pages, after: latest[host]?.hash, limit: min(limit - built, room))
        }
        // The general dictionary is for the pages of hosts without one of their own (a dictionary nothing uses only
        // takes room); it is trained again once there are four times as many of those hosts.
        let alone = hosts.filter { !made.contains($0.key) && due[$0.key] == nil }
        if alone.count >= max(Self.generalDictionaryHosts, 4 * (general ?? 0)) {
            var samples: [Data] = []
            var sampled = 0
            for (_, pages) in alone.sorted(by: { $0.key < $1.key }) where sampled < Self.generalSampleBytes {
                guard let latest = pages.max(by: { $0.fetchedAt < $1.fetchedAt }), let bytes = try? blob(latest.blob),
                    !bytes.isEmpty
                else { continue }
                samples.append(bytes.prefix(Self.generalSampleBytes - sampled))
                sampled += samples[samples.count - 1].count
            }
            // Trained on less than four times its size, a dictionary learns the samples rather than what they share.
            // Up to 512 KB: 2-3 % fewer bytes than 256 KB on other sites' pages than those it was trained on.
            let capacity = min(sampled / 4, Self.generalDictionaryBytes.upperBound)
            if capacity >= Self.generalDictionaryBytes.lowerBound,
                let dictionary = Zstd.trainDictionary(on: samples, capacity: capacity)
            {
                try store(dictionary: dictionary, host: "", pages: alone.count, marking: [], checked: nil)
                built += 1
            }
        }
        return built
    }

    /// A host's latest dictionary, when the newest page it was made of was fetched, and how many the host has.
    private struct LatestDictionary {
        let hash: ContentHash
        let checked: String
        let made: Int
    }

    /// A stored page of a host: its blob, when it was fetched, and its size.
    struct HostPage {
        let blob: ContentHash
        let fetchedAt: String
        let size: Int
    }

    /// A dictionary of `host` made of `pages`, taken in that order until it holds ``hostDictionaryBytes``, and the
    /// pages it holds.
    private func hostDictionary(of host: String, from pages: [HostPage]) -> (Data, [HostPage]) {
        var dictionary = Data("newsd dictionary of \(host)\n".utf8)
        var used: [HostPage] = []
        for page in pages where !used.contains(where: { $0.blob == page.blob }) {
            guard dictionary.count < Self.hostDictionaryBytes, let bytes = try? blob(page.blob) else { continue }
            // The first page takes half the room at most, so that a large one leaves room for the next; a page
            // larger than its share gives its start and its end (where a template is).
            let room = Self.hostDictionaryBytes - dictionary.count
            let share = used.isEmpty ? min(room, Self.hostDictionaryBytes / 2) : room
            dictionary.append(bytes.count <= share ? bytes : bytes.prefix(share / 2) + bytes.suffix(share - share / 2))
            used.append(page)
        }
        return (dictionary, used)
    }

    /// Makes dictionaries of `host`'s `pages` (those fetched after the newest page its latest dictionary, `previous`,
    /// was made of; all of them when it has none), oldest first: a first once it has two pages, then another each time
    /// the pages after the newest one the last was made of add up to ``renewalBytes``; `limit` at most. Each holds the
    /// pages just before those it is for, so they compress against the ones before them (a changed template too), and
    /// is compressed with the one before it (``dictionaryChain``), so it costs little more than what its pages add to a
    /// stream of all. Each marks for recompression the pages it is for, up to the next one's: a backlog is
    /// recompressed once. Returns how many it made.
    private func makeDictionaries(
        of host: String, from pages: [HostPage], after previous: ContentHash?, limit: Int
    ) throws -> Int {
        var seen = Set<ContentHash>()
        var rest = pages.sorted { $0.fetchedAt < $1.fetchedAt }.filter { seen.insert($0.blob).inserted }
        var previous = previous
        var made = 0
        func due(_ pages: [HostPage], renewing: Bool) -> Bool {
            pages.count >= Self.hostDictionaryPages && (!renewing || pages.reduce(0) { $0 + $1.size } >= Self.renewalBytes)
        }
        while made < limit, due(rest, renewing: previous != nil) {
            let (dictionary, used) = hostDictionary(of: host, from: rest)
            guard used.count >= Self.hostDictionaryPages, let first = used.first, let last = used.last else { break }
            let after = rest.filter { $0.fetchedAt > last.fetchedAt }
            // The pages after it are its own too, unless they make the next one now.
            let next = made + 1 < limit && due(after, renewing: true)
            let marking = rest.filter { $0.fetchedAt <= last.fetchedAt } + (next ? [] : after)
            // A host's first dictionary is for all its pages until the next; a later one from its oldest page on.
            previous = try store(
                dictionary: dictionary, host: host, pages: used.count, marking: Set(marking.map(\.blob)),
                since: previous == nil ? nil : first.fetchedAt, checked: last.fetchedAt, after: previous)
            rest = after
            made += 1
        }
        return made
    }

    /// Stores `dictionary` for `host` ('' for the general one) and marks for recompression the pages in `marking`, or
    /// for the general dictionary every page not compressed with a host's dictionary; `since`: when the oldest page it
    /// is for was fetched (`nil`: all until the host's next), `checked`: when the newest page it was made of was;
    /// `after`: the host's previous dictionary, which it is compressed with unless that one ends a chain of
    /// ``dictionaryChain`` already. Returns its hash.
    @discardableResult
    private func store(
        dictionary: Data, host: String, pages: Int, marking: Set<ContentHash>, since: String? = nil, checked: String?,
        after previous: ContentHash? = nil
    ) throws -> ContentHash {
        var base: PreparedDictionary?
        if let previous, try chainHasRoom(after: previous), let bytes = try dictionaries()(previous) {
            // Made for this one frame: kept, it would push out a dictionary pages are compressed with.
            base = PreparedDictionary(hash: previous, bytes: bytes, level: BlobCodec.dictionaryLevel)
        }
        let stored = BlobCodec.encode(dictionary, level: BlobCodec.dictionaryLevel, prepared: base)
        let hash = try pool.write { db in
            let hash = try Self.insertDictionary(
                stored, bytes: dictionary, host: host, pages: pages, since: since, checked: checked, db: db)
            if host.isEmpty {
                try db.execute(
                    sql: """
                        UPDATE blob SET compacted = 0 WHERE compacted = 1 AND hash IN (SELECT blobHash FROM capture)
                            AND encoding NOT IN (SELECT ? || hash FROM dictionary WHERE host != '')
                        """, arguments: [BlobCodec.dictionaryEncoding])
            }
            for page in marking {
                try db.execute(sql: "UPDATE blob SET compacted = 0 WHERE hash = ?", arguments: [page])
            }
            return hash
        }
        dictionaryCache.dictionaryAdded()
        return hash
    }

    /// Whether a dictionary compressed with the dictionary `hash` is read through no more than ``dictionaryChain``
    /// dictionaries, itself included.
    private func chainHasRoom(after hash: ContentHash) throws -> Bool {
        try pool.read { db in
            var length = 2
            var next = hash
            while length <= Self.dictionaryChain,
                let encoding = try String.fetchOne(db, sql: "SELECT encoding FROM blob WHERE hash = ?", arguments: [next]),
                let base = BlobCodec.dictionary(of: encoding)
            {
                length += 1
                next = base
            }
            return length <= Self.dictionaryChain
        }
    }

    /// Stores the dictionary `bytes` (in its `stored` form) as a blob, lists it for `host`, and returns its hash.
    @discardableResult
    private static func insertDictionary(
        _ stored: (data: Data, encoding: String), bytes: Data, host: String, pages: Int, since: String?,
        checked: String?, db: Database
    ) throws -> ContentHash {
        let hash = ContentHash(of: bytes)
        try insertBlob(stored, hash: hash, size: bytes.count, compacted: true, db: db)
        // Later than the host's others, even within one clock tick: the latest is the one pages arrive compressed with.
        try db.execute(
            sql: """
                INSERT OR IGNORE INTO dictionary(hash, host, pages, createdAt, since, checked)
                VALUES (?1, ?2, ?3, MAX(?4, COALESCE((SELECT MAX(createdAt) FROM dictionary WHERE host = ?2), 0) + 0.001), ?5, ?6)
                """,
            arguments: [hash, host, pages, Date().timeIntervalSince1970, since, checked])
        return hash
    }

    /// The dictionary a page of `url` is compressed with: its host's, or the general one; `nil` when there is none.
    /// `dictionaries`: the latest of each host, by host ('' for the general one).
    func dictionary(for url: String?, in dictionaries: [String: ContentHash]) -> ContentHash? {
        guard let url else { return nil }
        return Self.host(of: url).flatMap { dictionaries[$0] } ?? dictionaries[""]
    }

    /// Each host's dictionaries ('' for the general ones), in the order of the pages they are for: from when the
    /// oldest page each was made of was fetched (a host's first: from its first page), then by when each was made.
    func dictionaryEras() throws -> [String: [(since: String, hash: ContentHash)]] {
        try pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT host, hash, COALESCE(since, '') AS since FROM dictionary ORDER BY since, createdAt"
            ).reduce(into: [:]) { $0[$1["host"], default: []].append(($1["since"], $1["hash"])) }
        }
    }

    /// The dictionary a stored page of `url`, fetched at `fetchedAt`, is recompressed with: the last of its host's
    /// made for pages from before then (`eras`: ``dictionaryEras()``), or the latest general one.
    func dictionary(
        for url: String?, fetchedAt: String?, in eras: [String: [(since: String, hash: ContentHash)]]
    ) -> ContentHash? {
        guard let url else { return nil }
        if let host = Self.host(of: url), let own = eras[host] {
            return (own.last { era in fetchedAt.map { era.since <= $0 } ?? true } ?? own[0]).hash
        }
        return eras[""]?.last?.hash
    }

    /// The host part of `url`, lowercased; `nil` when it has none.
    static func host(of url: String) -> String? {
        guard let scheme = url.range(of: "://") else { return nil }
        let rest = url[scheme.upperBound...]
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        let hostPort = authority.split(separator: "@").last ?? ""
        // An IPv6 address is bracketed, and holds colons of its own.
        let host = hostPort.hasPrefix("[") ? hostPort.prefix { $0 != "]" } + "]" : hostPort.prefix { $0 != ":" }
        return host.isEmpty ? nil : host.lowercased()
    }
}
