public import Archive
public import Foundation
public import NewsCore

/// `GET /v1/info`: who a node is.
public struct NodeInfo: Codable, Sendable, Equatable {
    public var nodeID: String
    public var epoch: String
    public var lastSeq: Int64
    public var version: String

    public init(nodeID: String, epoch: String, lastSeq: Int64, version: String) {
        self.nodeID = nodeID
        self.epoch = epoch
        self.lastSeq = lastSeq
        self.version = version
    }
}

/// `GET /v1/changes?since=N&limit=M`: a page of the change log.
public struct ChangesPage: Codable, Sendable, Equatable {
    public var nodeID: String
    public var epoch: String
    /// The sequence number a puller may store as its cursor once it has stored this page.
    public var last: Int64
    /// Whether more changes follow `last`.
    public var more: Bool
    /// The node's last sequence number, so a puller knows how far behind it is.
    public var head: Int64?
    /// How much of the puller's own change log the node holds, so the puller knows what to push without asking.
    public var yours: PeerCursor?
    /// The changes at `since` and at `last` (`KIND/ID`): a puller that stored another change at `since` knows the
    /// node's log was restored from an older copy.
    public var sinceKey: String?
    public var lastKey: String?
    public var changes: [Change]
    /// Texts left out of `changes` because the puller said it makes them itself (`derive=EXTRACTOR`): each one's
    /// extraction, by that extractor, is in `changes`, and the puller runs the extractor on the capture's page.
    public var derived: [DerivedText]?

    public init(
        nodeID: String, epoch: String, last: Int64, more: Bool, head: Int64? = nil, yours: PeerCursor? = nil,
        sinceKey: String? = nil, lastKey: String? = nil, changes: [Change], derived: [DerivedText]? = nil
    ) {
        self.derived = derived
        self.nodeID = nodeID
        self.epoch = epoch
        self.last = last
        self.more = more
        self.head = head
        self.yours = yours
        self.sinceKey = sinceKey
        self.lastKey = lastKey
        self.changes = changes
    }
}

/// A text change a page of changes or a push leaves out for the node that reads it to make itself: its place in the
/// log and its id.
public struct DerivedText: Codable, Sendable, Equatable {
    public var seq: Int64
    public var id: String

    public init(seq: Int64, id: String) {
        self.seq = seq
        self.id = id
    }
}

/// `POST /v1/texts`: the texts named (a puller that could not make a left-out text itself asks for it).
public struct TextsRequest: Codable, Sendable, Equatable {
    public var ids: [String]

    public init(ids: [String]) { self.ids = ids }
}

/// The answer to `POST /v1/texts`: those of the texts asked for that the node holds.
public struct TextsAnswer: Codable, Sendable, Equatable {
    public var texts: [TextRecord]

    public init(texts: [TextRecord]) { self.texts = texts }
}

/// Limits of the sync protocol, on both sides.
public enum SyncLimits {
    /// Changes per page when the puller asks for no limit.
    public static let defaultPage = 500
    /// The most changes one page may hold.
    public static let maxPage = 5000
    /// Blob bytes a puller holds in memory before it commits what it has.
    public static let batchBytes = 64 << 20
    /// Largest JSON page a puller accepts.
    public static let maxPageBytes = 64 << 20
    /// Blobs one `POST /v1/objects` may ask for.
    public static let objectsPerRequest = 256
    /// Blobs a puller asks for in its first `POST /v1/objects`; each answer that comes whole doubles it. A node builds
    /// an answer whole before it sends any (the signature covers it), and 16 MiB of pages compressed as a whole take
    /// it half a second: a small first answer starts the link at once.
    public static let firstObjectsRequest = 16
    /// Bytes after which a node stops adding blobs to a `POST /v1/objects` answer.
    public static let objectsBytes = 16 << 20
    /// Largest object (a page) a puller accepts.
    public static let maxObjectBytes = 64 << 20
    /// Largest request body the sync server reads.
    public static let maxRequestBytes = 64 << 20
    /// Pages in a row that hold no change after which a pull stops with an error. An honest node sends an empty page
    /// only when every change it read for the page came from the puller (up to 20 pages' worth), so this many in a
    /// row stand for two million of the puller's own changes: a peer that keeps saying "more" with nothing in it.
    public static let maxEmptyPages = 200
    /// Pages one pull reads at most (a million changes at the default page); the rest comes with the next sync.
    public static let maxPagesPerPull = 2000
    /// How long one pull goes on at most; the rest comes with the next sync.
    public static let maxPullDuration: Duration = .seconds(3600)
    /// Seconds one sync request may take at most; one that stops moving is cut off sooner (the low-speed limit).
    public static let transferTimeout = 3600.0
    /// A link slower than this, in bytes a second, is slow: a puller makes texts itself from the pages
    /// (``ChangesPage/derived``) and asks for blobs compressed as a whole (``ObjectsRequest/whole``). The extractor makes
    /// some 4 MB of text a second from pages on one core, and zstd compresses some 26 MB of pages a second as a whole at
    /// level 9, so over a faster link fetching the texts, and blobs as stored, is quicker.
    public static let slowBelowBytesPerSecond = 4_000_000.0
}

/// How a body of 1 KiB or more crosses the wire zstd-compressed (answers, and request bodies to a node that reads them).
public enum WireCompression: Sendable {
    /// As it is sent: zstd 3, about 300 MB/s a core, a 2 MB page of changes in 7 ms.
    case wire
    /// Pages sent together (``ObjectsRequest/whole``, pushes over a slow link): zstd 9, 26 MB of pages a second, 16 %
    /// fewer bytes than the pages compressed each on its own (300 real pages of many sites); with a 16 MiB window, an
    /// answer of objects whole, where level 9's own is 4 MiB (5 % fewer bytes again on 76 MB of real pages).
    case whole

    /// `data` compressed so, or `nil` when that is not smaller.
    public func compress(_ data: Data) -> Data? {
        switch self {
        case .wire: Zstd.compress(data, level: 3)
        case .whole: Zstd.compress(data, level: 9, windowLog: 24)
        }
    }
}

/// The wire's JSON conventions: records keep their canonical field names, and keys come sorted, so that the same
/// answer is the same bytes (the order of a type's keys is otherwise unspecified here) and compresses the same.
enum WireJSON {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        return encoder
    }()
}

/// `POST /v1/objects`: the blobs named in `hashes`, as stored, in one answer.
///
/// The answer is a sequence of frames, one per blob the node has, in the order asked: a line of JSON
/// (``ObjectFrame``) and then exactly `length` bytes of the blob's stored form. A node stops adding frames once the
/// answer holds ``SyncLimits/objectsBytes``; the asker asks again for what is missing.
///
/// With `whole`, the blobs come as their original bytes (`identity`) and the answer is compressed as a whole
/// (`Content-Encoding: zstd`, when the asker accepts it): pages of one answer share much of their markup, so this takes
/// a sixth fewer bytes than each page compressed on its own, for the node's time to compress it.
public struct ObjectsRequest: Codable, Sendable, Equatable {
    public var hashes: [String]
    public var whole: Bool?
    /// The asker reads pages compressed with the node's dictionaries (`zstd:HASH`), fetching each it lacks.
    public var dictionaries: Bool?

    public init(hashes: [String], whole: Bool? = nil, dictionaries: Bool? = nil) {
        self.hashes = hashes
        self.whole = whole
        self.dictionaries = dictionaries
    }
}

/// The header of one blob in a `POST /v1/objects` answer.
public struct ObjectFrame: Codable, Sendable, Equatable {
    public var hash: String
    /// `zstd` or `identity`.
    public var encoding: String
    /// The size of the original bytes.
    public var size: Int
    /// The number of bytes that follow the header line.
    public var length: Int

    public init(hash: String, encoding: String, size: Int, length: Int) {
        self.hash = hash
        self.encoding = encoding
        self.size = size
        self.length = length
    }
}

/// The frames of a `POST /v1/objects` answer or a `POST /v1/push` body: per blob a line of JSON (``ObjectFrame``),
/// then exactly `length` bytes of its stored form.
enum ObjectFrames {
    /// Appends `blob`'s frame to `body`.
    static func append(_ blob: StoredBlob, to body: inout Data) throws {
        let frame = ObjectFrame(hash: blob.hash.hex, encoding: blob.encoding, size: blob.size, length: blob.data.count)
        body.append(try WireJSON.encoder.encode(frame))
        body.append(0x0A)
        body.append(blob.data)
    }

    /// The blobs framed in `data`, each checked against its hash; `expected` says whether a blob with this hash may
    /// come at this position. Throws a description of the first thing wrong; `wholeOnly` (what came before a link
    /// broke), a last frame cut short ends the blobs instead.
    static func read(
        _ data: Data, wholeOnly: Bool = false, check: (StoredBlob) throws -> Void = { try $0.verify() },
        expected: (ContentHash, Int) -> Bool
    ) throws(FrameError) -> [StoredBlob] {
        var blobs: [StoredBlob] = []
        var rest = data[...]
        while !rest.isEmpty {
            guard let (frame, body) = whole(rest) else {
                if wholeOnly { break }
                throw FrameError("object frames that are not the frames asked for")
            }
            guard let hash = ContentHash(hex: frame.hash), expected(hash, blobs.count) else {
                throw FrameError("object frames that are not the frames asked for")
            }
            guard frame.size >= 0, frame.size <= SyncLimits.maxObjectBytes else {
                throw FrameError(
                    "blob \(frame.hash) claims \(frame.size) bytes, more than the \(SyncLimits.maxObjectBytes) allowed")
            }
            let blob = StoredBlob(hash: hash, data: Data(rest[body]), encoding: frame.encoding, size: frame.size)
            do {
                try check(blob)
            } catch {
                throw FrameError("\(error)")
            }
            blobs.append(blob)
            rest = rest[body.upperBound...]
        }
        return blobs
    }

    /// The dictionaries the frames in `data` name (`zstd:HASH`): the asker must hold them to read those frames.
    static func dictionaries(in data: Data) -> Set<ContentHash> {
        var dictionaries = Set<ContentHash>()
        var rest = data[...]
        while let (frame, body) = whole(rest) {
            if let dictionary = StoredBlob.dictionary(of: frame.encoding) { dictionaries.insert(dictionary) }
            rest = rest[body.upperBound...]
        }
        return dictionaries
    }

    /// The first frame of `rest` and where its bytes are, when its header reads and all its bytes are there.
    private static func whole(_ rest: Data.SubSequence) -> (frame: ObjectFrame, body: Range<Int>)? {
        guard let (frame, start) = header(rest), frame.length <= rest.endIndex - start else { return nil }
        return (frame, start..<(start + frame.length))
    }

    /// The header of the first frame of `rest` and where the frame's bytes begin, when the header reads.
    private static func header(_ rest: Data.SubSequence) -> (frame: ObjectFrame, start: Int)? {
        guard let newline = rest.firstIndex(of: 0x0A),
            let frame = try? JSONDecoder().decode(ObjectFrame.self, from: Data(rest[..<newline])), frame.length >= 0
        else { return nil }
        return (frame, newline + 1)
    }

    /// The frame a link broke in the middle of, at the end of `data` (what came of an answer), and the bytes of it
    /// that came; `nil` when `data` ends where a frame ends, or within a frame's header line.
    static func cutShort(_ data: Data) -> (frame: ObjectFrame, bytes: Data)? {
        var rest = data[...]
        while let (frame, start) = header(rest) {
            guard frame.length <= rest.endIndex - start else {
                return start < rest.endIndex ? (frame, Data(rest[start...])) : nil
            }
            rest = rest[(start + frame.length)...]
        }
        return nil
    }
}

/// What is wrong with a sequence of object frames.
struct FrameError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) { self.description = description }
}

/// `POST /v1/missing`: which of a run of the asker's changes, and of their blobs, the node lacks.
public struct MissingRequest: Codable, Sendable, Equatable {
    /// Records as `KIND/ID`.
    public var records: [String]
    /// Blob hashes.
    public var blobs: [String]
    /// In the answer: the extractor the node makes texts with, so that a pusher may leave out the texts it made with
    /// the same one (``PushHeader/derived``); absent from a node that does not.
    public var derive: String? = nil
}

/// The answer to a `POST /v1/push`.
public struct PushResult: Codable, Sendable, Equatable {
    /// Records that were new to the node.
    public var added: Int
    /// The node's cursor for the pusher now.
    public var cursor: Int64
    /// Texts left out of the push that the node could not make from their pages: it stored nothing of the push, and
    /// takes it again with those texts in it.
    public var underived: [String]?

    public init(added: Int, cursor: Int64, underived: [String]? = nil) {
        self.added = added
        self.cursor = cursor
        self.underived = underived
    }
}

/// The first line of a `POST /v1/push` body: a run of the pushing node's change log, whose blobs follow as frames.
public struct PushHeader: Codable, Sendable, Equatable {
    /// The pusher's epoch.
    public var epoch: String
    /// The cursor the pusher was told (`GET /v1/cursor`); the changes follow it.
    public var since: Int64
    /// The sequence number of the last change sent: the receiver's new cursor.
    public var last: Int64
    /// The change at `last` (`KIND/ID`).
    public var lastKey: String?
    /// The pusher's last sequence number.
    public var head: Int64
    public var changes: [Change]
    /// Texts left out of `changes` for the node to make from their pages, with the extractor its `/v1/missing` answer
    /// named (``MissingRequest/derive``).
    public var derived: [DerivedText]?

    public init(
        epoch: String, since: Int64, last: Int64, lastKey: String?, head: Int64, changes: [Change],
        derived: [DerivedText]? = nil
    ) {
        self.epoch = epoch
        self.since = since
        self.last = last
        self.lastKey = lastKey
        self.head = head
        self.changes = changes
        self.derived = derived
    }
}
