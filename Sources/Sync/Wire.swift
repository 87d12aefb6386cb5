public import Archive
import Foundation

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
    public var changes: [Change]

    public init(nodeID: String, epoch: String, last: Int64, more: Bool, head: Int64? = nil, changes: [Change]) {
        self.nodeID = nodeID
        self.epoch = epoch
        self.last = last
        self.more = more
        self.head = head
        self.changes = changes
    }
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
    /// Bytes after which a node stops adding blobs to a `POST /v1/objects` answer.
    public static let objectsBytes = 16 << 20
    /// Largest object (a page) a puller accepts.
    public static let maxObjectBytes = 64 << 20
    /// Largest request body the sync server reads.
    public static let maxRequestBytes = 64 << 20
}

/// The wire's JSON conventions: records keep their canonical field names.
enum WireJSON {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return encoder
    }()
}

/// `POST /v1/objects`: the blobs named in `hashes`, as stored, in one answer.
///
/// The answer is a sequence of frames, one per blob the node has, in the order asked: a line of JSON
/// (``ObjectFrame``) and then exactly `length` bytes of the blob's stored form. A node stops adding frames once the
/// answer holds ``SyncLimits/objectsBytes``; the asker asks again for what is missing.
public struct ObjectsRequest: Codable, Sendable, Equatable {
    public var hashes: [String]

    public init(hashes: [String]) { self.hashes = hashes }
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
