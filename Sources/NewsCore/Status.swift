public import Foundation

/// What `newsctl status` shows: the daemon, its archive, its feeds and its peers.
public struct StatusReport: Codable, Sendable, Equatable {
    public var version: String
    public var nodeID: String
    public var pid: Int32
    public var startedAt: Date
    public var uptimeSeconds: Double
    public var dataDirectory: String
    /// Bytes used by the data directory (database, WAL and keys).
    public var dataBytes: Int64
    public var counts: ArchiveCounts
    public var feeds: [FeedStatus]
    public var peers: [PeerStatus]
    /// What the daemon is doing now: `idle`, or the polls and pulls under way.
    public var activity: String
    /// When the sync server speaks HTTPS: its key's pin, for peers' `pin`.
    public var tlsPin: String?
    /// The web interface's URL, or why it is off (`off: …`); absent when `web_listen` is empty.
    public var web: String?
    /// The last verification since the daemon started, or the one under way.
    public var verification: Verification?
    /// Trusted timestamps of captures; absent when no time-stamping authority is configured.
    public var timestamps: TimestampStatus?
    /// Revisits of archived articles, to catch edits their feeds do not announce; absent when `revisit_after` is empty.
    public var revisits: RevisitStatus?

    public init(
        version: String, nodeID: String, pid: Int32, startedAt: Date, uptimeSeconds: Double, dataDirectory: String,
        dataBytes: Int64, counts: ArchiveCounts, feeds: [FeedStatus], peers: [PeerStatus], activity: String = "idle",
        tlsPin: String? = nil, web: String? = nil
    ) {
        self.version = version
        self.nodeID = nodeID
        self.pid = pid
        self.startedAt = startedAt
        self.uptimeSeconds = uptimeSeconds
        self.dataDirectory = dataDirectory
        self.dataBytes = dataBytes
        self.counts = counts
        self.feeds = feeds
        self.peers = peers
        self.activity = activity
        self.tlsPin = tlsPin
        self.web = web
    }
}

/// How much the archive holds.
public struct ArchiveCounts: Codable, Sendable, Equatable {
    public var feeds: Int
    public var articles: Int
    public var captures: Int
    public var texts: Int
    public var blobs: Int
    /// Bytes of raw content held in blobs (uncompressed).
    public var blobBytes: Int64
    /// Bytes the blobs take as stored (compressed).
    public var storedBlobBytes: Int64
    /// The last change-log sequence number.
    public var lastSequence: Int64
    /// Growth: captures made (here or by peers) in the last 24 hours, and their raw bytes.
    public var capturesLastDay: Int = 0
    public var capturedBytesLastDay: Int64 = 0

    public init(
        feeds: Int, articles: Int, captures: Int, texts: Int, blobs: Int, blobBytes: Int64, storedBlobBytes: Int64 = 0,
        lastSequence: Int64
    ) {
        self.feeds = feeds
        self.articles = articles
        self.captures = captures
        self.texts = texts
        self.blobs = blobs
        self.blobBytes = blobBytes
        self.storedBlobBytes = storedBlobBytes
        self.lastSequence = lastSequence
    }
}

/// One feed's polling state.
public struct FeedStatus: Codable, Sendable, Equatable {
    public var url: String
    /// Where the feed is fetched now, when a permanent redirect moved it away from `url`.
    public var location: String?
    public var title: String?
    public var category: String?
    /// `config` for a feed declared in the config file, `user` for one added with newsctl.
    public var origin: String
    public var lastPollAt: Date?
    /// `ok`, `not-modified` or `error`; `nil` before the first poll.
    public var lastResult: String?
    public var lastError: String?
    /// Failed polls in a row.
    public var errorCount: Int
    /// Problems repaired while parsing the last document (0 for a clean one).
    public var warnings: Int
    public var nextPollAt: Date?
    public var articles: Int
    /// The site the feed says it belongs to (its own link; OPML's `htmlUrl`).
    public var site: String?
    /// Its moves by permanent redirect, oldest first.
    public var moves: [FeedMove]?

    public init(
        url: String, location: String? = nil, title: String?, category: String? = nil, origin: String = "config",
        lastPollAt: Date?, lastResult: String?, lastError: String?, errorCount: Int, warnings: Int = 0, nextPollAt: Date?,
        articles: Int, site: String? = nil, moves: [FeedMove]? = nil
    ) {
        self.url = url
        self.location = location
        self.title = title
        self.category = category
        self.origin = origin
        self.lastPollAt = lastPollAt
        self.lastResult = lastResult
        self.lastError = lastError
        self.errorCount = errorCount
        self.warnings = warnings
        self.nextPollAt = nextPollAt
        self.articles = articles
        self.site = site
        self.moves = moves
    }
}

/// A feed's move by permanent redirect (301 or 308).
public struct FeedMove: Codable, Sendable, Equatable {
    public var from: String
    public var to: String
    public var status: Int
    public var at: Date

    public init(from: String, to: String, status: Int, at: Date) {
        self.from = from
        self.to = to
        self.status = status
        self.at = at
    }
}

/// One peer's sync state.
public struct PeerStatus: Codable, Sendable, Equatable {
    public var name: String
    public var url: String
    /// The peer's node id, without which it cannot sync.
    public var node: String?
    public var lastSyncAt: Date?
    /// `ok` or `error`; `nil` before the first sync.
    public var lastResult: String?
    public var lastError: String?
    /// The peer's change-log sequence this node has stored everything up to.
    public var cursor: Int64
    /// Changes the peer had, when last asked, that this node has not pulled yet.
    public var behind: Int64?

    public init(
        name: String, url: String, node: String? = nil, lastSyncAt: Date?, lastResult: String?, lastError: String?, cursor: Int64,
        behind: Int64? = nil
    ) {
        self.behind = behind
        self.name = name
        self.url = url
        self.node = node
        self.lastSyncAt = lastSyncAt
        self.lastResult = lastResult
        self.lastError = lastError
        self.cursor = cursor
    }
}

/// The JSON conventions of the control API and `--json` output: keys as the Swift properties name them, ISO 8601 dates.
public enum JSONCoding {
    /// An encoder for API and `--json` output.
    public static func encoder(pretty: Bool = false) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting =
            pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    /// The matching decoder.
    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}

/// One line of `POST /v1/verify`'s answer: progress, then the report (or an error).
public struct VerifyEvent: Codable, Sendable {
    public var done: Int?
    public var total: Int?
    public var report: VerifyReport?
    public var error: String?

    public init(done: Int? = nil, total: Int? = nil, report: VerifyReport? = nil, error: String? = nil) {
        self.done = done
        self.total = total
        self.report = report
        self.error = error
    }
}

/// The archive's last verification, or the one under way.
public struct Verification: Codable, Sendable, Equatable {
    public var startedAt: Date
    /// Items checked so far, of how many.
    public var done: Int
    public var total: Int
    /// When it ended; `nil` while it runs.
    public var finishedAt: Date?
    /// What it found, once it ended without an error.
    public var report: VerifyReport?
    /// Why it could not finish.
    public var error: String?

    public init(startedAt: Date, done: Int = 0, total: Int = 0) {
        self.startedAt = startedAt
        self.done = done
        self.total = total
    }
}

/// How many captures hold a trusted timestamp (RFC 3161), and how each authority fares.
public struct TimestampStatus: Codable, Sendable, Equatable {
    /// One configured time-stamping authority.
    public struct Authority: Codable, Sendable, Equatable {
        public var url: String
        /// Captures it has vouched for (tokens asked for here or synced from peers).
        public var stamped: Int
        /// Captures waiting for its token.
        public var waiting: Int
        /// When its last token here was granted.
        public var lastTokenAt: Date?
        /// Why the last request failed, when it did.
        public var lastError: String?
        /// When the next batch goes.
        public var nextAt: Date?

        public init(url: String, stamped: Int, waiting: Int) {
            self.url = url
            self.stamped = stamped
            self.waiting = waiting
        }
    }

    /// Captures in the archive.
    public var captures: Int
    /// Captures that at least one authority vouched for.
    public var stamped: Int
    public var authorities: [Authority]

    public init(captures: Int, stamped: Int, authorities: [Authority]) {
        self.captures = captures
        self.stamped = stamped
        self.authorities = authorities
    }
}

/// Revisits: how many articles wait for one, and what today's cost and found (UTC day).
public struct RevisitStatus: Codable, Sendable, Equatable {
    public var waiting: Int
    public var requestsToday: Int
    public var bytesToday: Int
    public var changedToday: Int
    /// Revisits allowed in a day.
    public var budget: Int

    public init(waiting: Int, requestsToday: Int, bytesToday: Int, changedToday: Int, budget: Int) {
        self.waiting = waiting
        self.requestsToday = requestsToday
        self.bytesToday = bytesToday
        self.changedToday = changedToday
        self.budget = budget
    }
}

/// What one round of time-stamping did: `newsctl timestamp`.
public struct TimestampResult: Codable, Sendable, Equatable {
    /// Tokens granted and stored, and the captures they cover.
    public var tokens: Int
    public var captures: Int
    /// Each authority that failed, and why.
    public var errors: [String: String]

    public init(tokens: Int = 0, captures: Int = 0, errors: [String: String] = [:]) {
        self.tokens = tokens
        self.captures = captures
        self.errors = errors
    }
}

/// What `verify` found.
public struct VerifyReport: Codable, Sendable, Equatable {
    /// One thing that is not as it should be.
    public struct Problem: Codable, Sendable, Equatable {
        /// `blob`, `node`, `article`, `capture`, `text`, `extraction`, `annotation` or `database`.
        public var kind: String
        public var id: String
        public var message: String

        public init(kind: String, id: String, message: String) {
            self.kind = kind
            self.id = id
            self.message = message
        }
    }

    public var blobs = 0
    public var records = 0
    public var signatures = 0
    /// Trusted timestamps whose token was checked against its batch's root (and, where a CA is configured for its
    /// authority, the authority's certificate chain).
    public var timestamps = 0
    /// Extractions made before extractions were signed: no node vouches for their texts (not a problem, but said).
    public var unverifiedExtractions = 0
    /// With `--reextract`: texts made again from their pages and found the same, and extractions that could not be
    /// redone here (made by another extractor version than this node's).
    public var reextracted: Int?
    public var notReextracted: Int?
    /// What SQLite's `PRAGMA integrity_check` said: `ok`, or its first complaints.
    public var integrity = "ok"
    public var problems: [Problem] = []

    public init() {}

    /// Whether everything checked out.
    public var isClean: Bool { problems.isEmpty && integrity == "ok" }
}

/// What a backup copy holds, checked: `newsctl backup`.
public struct BackupResult: Codable, Sendable, Equatable {
    /// SQLite's integrity check of the copy: `ok`.
    public var integrity: String
    public var articles: Int
    public var captures: Int
    /// The change log's last sequence number in the copy.
    public var lastSequence: Int64
    /// The copy's name, to fetch it by (`GET /v1/backup?name=`), its size and its SHA-256; set by the daemon.
    public var name: String?
    public var bytes: Int64?
    public var sha256: String?

    public init(
        integrity: String, articles: Int, captures: Int, lastSequence: Int64, name: String? = nil, bytes: Int64? = nil,
        sha256: String? = nil
    ) {
        self.integrity = integrity
        self.articles = articles
        self.captures = captures
        self.lastSequence = lastSequence
        self.name = name
        self.bytes = bytes
        self.sha256 = sha256
    }
}

/// One line of `POST /v1/backup`'s answer: progress in database pages, then the copy made (or an error).
public struct BackupEvent: Codable, Sendable {
    public var done: Int?
    public var total: Int?
    public var backup: BackupResult?
    public var error: String?

    public init(done: Int? = nil, total: Int? = nil, backup: BackupResult? = nil, error: String? = nil) {
        self.done = done
        self.total = total
        self.backup = backup
        self.error = error
    }
}
