public import Foundation

/// A record whose identity is the SHA-256 of its canonical encoding, so any node can verify it.
public protocol ContentAddressed: Codable, Sendable, Equatable {
    /// The identity this record claims; checked against `computedID` before anything is stored.
    var id: ContentHash { get }
    /// Writes every field but `id` (and `signature`, where there is one) to `writer`, in the order of their names'
    /// UTF-8 bytes.
    func writeCanonicalFields(to writer: inout CanonicalWriter)
    /// The identity its content gives it, and whether the content can be stored as it is (no string holds a NUL
    /// character, which SQLite's C strings would cut at).
    var computedIdentity: (id: ContentHash, storable: Bool) { get }
}

extension ContentAddressed {
    /// Whether `id` is the identity the record's content gives it, and the content can be stored as it is.
    public var isIntact: Bool {
        let identity = computedIdentity
        return identity.storable && id == identity.id
    }

    /// The identity the record's content gives it.
    public var computedID: ContentHash { computedIdentity.id }

    /// The canonical encoding of every field but `id` and `signature`, and whether it can be stored as it is.
    public var canonicalEncoding: (data: Data, storable: Bool) {
        var writer = CanonicalWriter()
        writeCanonicalFields(to: &writer)
        return writer.finish()
    }

    /// SHA-256 of the canonical encoding of every field but `id` (and a signature, where there is one).
    public var computedIdentity: (id: ContentHash, storable: Bool) {
        let encoding = canonicalEncoding
        return (ContentHash(of: encoding.data), encoding.storable)
    }
}

/// Writes a record's canonical encoding: a JSON object of its fields, keys sorted by their UTF-8 bytes, no
/// whitespace, absent optionals left out, strings escaped minimally (quote, backslash and control characters only;
/// controls as `\u00XX` except `\n`, `\r`, `\t`), integers in decimal. docs/PROTOCOL.md has examples.
///
/// Records write their fields by hand, in order: reflection cost more than the hashing on the sync and ingest paths.
public struct CanonicalWriter {
    private var bytes: [UInt8] = [UInt8(ascii: "{")]
    private var storable = true
    private var lastKey: StaticString?

    public init() { bytes.reserveCapacity(512) }

    /// Writes a string field; nothing when `value` is absent.
    public mutating func field(_ key: StaticString, _ value: String?) {
        guard let value else { return }
        self.key(key)
        quote(value)
    }

    /// Writes a hash field as its hex digits; nothing when `value` is absent.
    public mutating func field(_ key: StaticString, _ value: ContentHash?) {
        field(key, value?.hex)
    }

    /// Writes an integer field; nothing when `value` is absent.
    public mutating func field(_ key: StaticString, _ value: Int64?) {
        guard let value else { return }
        self.key(key)
        bytes.append(contentsOf: String(value).utf8)
    }

    /// Writes an integer field; nothing when `value` is absent.
    public mutating func field(_ key: StaticString, _ value: Int?) {
        field(key, value.map(Int64.init))
    }

    /// Writes a list of hashes as an array of their hex digits.
    public mutating func field(_ key: StaticString, _ values: [ContentHash]) {
        self.key(key)
        bytes.append(UInt8(ascii: "["))
        for (index, value) in values.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            quote(value.hex)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    private mutating func key(_ key: StaticString) {
        assert(lastKey.map { Self.precedes($0, key) } ?? true, "canonical fields are written in the order of their names")
        lastKey = key
        if bytes.count > 1 { bytes.append(UInt8(ascii: ",")) }
        bytes.append(UInt8(ascii: "\""))
        key.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
    }

    private static func precedes(_ a: StaticString, _ b: StaticString) -> Bool {
        a.withUTF8Buffer { a in b.withUTF8Buffer { b in a.lexicographicallyPrecedes(b) } }
    }

    private mutating func quote(_ string: String) {
        bytes.append(UInt8(ascii: "\""))
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case UInt8(ascii: "\n"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case UInt8(ascii: "\r"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case UInt8(ascii: "\t"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0..<0x20:
                if byte == 0 { storable = false }
                let hex = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: Array("\\u00".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 15)]])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// The encoding, and whether it can be stored as it is: `false` when a string holds NUL.
    public consuming func finish() -> (data: Data, storable: Bool) {
        bytes.append(UInt8(ascii: "}"))
        return (Data(bytes), storable)
    }
}

/// Record timestamps.
public enum Canonical {
    /// A timestamp with millisecond precision in UTC, as used in records: `2026-11-22T01:07:27.123Z`.
    public static func timestamp(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt))
    }

    /// Parses a record timestamp.
    public static func date(_ timestamp: String) -> Date? {
        try? Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt).parse(timestamp)
    }
}

/// The logical item that captures and texts belong to: one URL, whatever feeds it came through.
public struct ArticleRecord: ContentAddressed, Hashable {
    public var id: ContentHash
    /// The article's URL as the feed linked it (absolute).
    public var url: String

    public init(url: String) {
        self.url = url
        self.id = ContentHash(ofText: "")  // replaced below
        self.id = computedID
    }

    public func writeCanonicalFields(to writer: inout CanonicalWriter) {
        writer.field("url", url)
    }
}

/// One successful fetch of a URL: what was asked, what answered, when, and the bytes' hash.
///
/// Immutable. Its id is the SHA-256 of its canonical encoding.
public struct CaptureRecord: SignedRecord, Hashable {
    public var id: ContentHash
    /// The article this page belongs to; absent when the capture is of a feed document.
    public var articleID: ContentHash?
    /// The URL requested.
    public var url: String
    /// The URL that answered, after redirects.
    public var finalURL: String
    /// When the response was complete.
    public var fetchedAt: String
    /// The HTTP status (200 for `file://`).
    public var status: Int
    /// The `Content-Type` header, if any.
    public var contentType: String?
    /// The `ETag` header, if any.
    public var etag: String?
    /// The `Last-Modified` header, if any.
    public var lastModified: String?
    /// SHA-256 of the raw body.
    public var blobHash: ContentHash
    /// Size of the raw body in bytes.
    public var size: Int
    /// The node that made the capture.
    public var nodeID: String
    /// That node's Ed25519 signature over the canonical encoding (without `id` and `signature`), in hex.
    public var signature: String?

    public init(
        articleID: ContentHash?, url: String, finalURL: String, fetchedAt: String, status: Int, contentType: String?,
        etag: String?, lastModified: String?, blobHash: ContentHash, size: Int, nodeID: String
    ) {
        self.id = blobHash
        self.articleID = articleID
        self.url = url
        self.finalURL = finalURL
        self.fetchedAt = fetchedAt
        self.status = status
        self.contentType = contentType
        self.etag = etag
        self.lastModified = lastModified
        self.blobHash = blobHash
        self.size = size
        self.nodeID = nodeID
        self.id = computedID
    }

    public func writeCanonicalFields(to writer: inout CanonicalWriter) {
        writer.field("articleID", articleID)
        writer.field("blobHash", blobHash)
        writer.field("contentType", contentType)
        writer.field("etag", etag)
        writer.field("fetchedAt", fetchedAt)
        writer.field("finalURL", finalURL)
        writer.field("lastModified", lastModified)
        writer.field("nodeID", nodeID)
        writer.field("size", size)
        writer.field("status", status)
        writer.field("url", url)
    }
}

/// A record made and signed by one node (a capture, an annotation): its signature travels with it, unchanged, from
/// node to node.
public protocol SignedRecord: ContentAddressed {
    /// The node that made the record.
    var nodeID: String { get }
    /// That node's Ed25519 signature over ``signedBytes``, in hex.
    var signature: String? { get set }
}

extension SignedRecord {
    /// The bytes a node signs: the canonical encoding without `id` and `signature` (whose SHA-256 is `id`).
    public var signedBytes: Data { canonicalEncoding.data }
}

/// One change to an article's annotations, made by a node: `key` set to `value`, or cleared when `value` is absent.
///
/// Keys are `tag:NAME` (value `true` while the tag is on), `note` (the note's text) and `hidden` (`true` while the
/// article is hidden). The annotation an article has under a key is the latest change to it by ``isLater(than:)``:
/// last writer wins, whatever order changes arrive in.
public struct AnnotationRecord: SignedRecord, Hashable {
    public var id: ContentHash
    public var articleID: ContentHash
    public var key: String
    public var value: String?
    /// Hybrid logical clock: milliseconds since 1970, never behind any change the node had seen when it made this one,
    /// and a counter that orders changes within one millisecond.
    public var time: Int64
    public var counter: Int
    public var nodeID: String
    public var signature: String?

    public init(articleID: ContentHash, key: String, value: String?, time: Int64, counter: Int, nodeID: String) {
        self.id = articleID
        self.articleID = articleID
        self.key = key
        self.value = value
        self.time = time
        self.counter = counter
        self.nodeID = nodeID
        self.id = computedID
    }

    public func writeCanonicalFields(to writer: inout CanonicalWriter) {
        writer.field("articleID", articleID)
        writer.field("counter", counter)
        writer.field("key", key)
        writer.field("nodeID", nodeID)
        writer.field("time", time)
        writer.field("value", value)
    }

    /// Whether this change wins over `other` to the same key: a later clock, then the larger node id, then the larger
    /// id, so that every node picks the same winner.
    public func isLater(than other: AnnotationRecord) -> Bool {
        (time, counter, nodeID, id.hex) > (other.time, other.counter, other.nodeID, other.id.hex)
    }
}

/// A cleaned article: the text an extractor made of a page, with its metadata.
public struct TextRecord: ContentAddressed, Hashable {
    public var id: ContentHash
    public var title: String?
    public var byline: String?
    /// Publication date as the page states it, if it does.
    public var published: String?
    public var language: String?
    /// The main text, paragraphs separated by blank lines.
    public var body: String
    /// The date of the last change as the page states it.
    public var modified: String?
    /// The URL the page names as its canonical one.
    public var canonicalURL: String?
    /// The lead image the page names.
    public var imageURL: String?

    public init(
        title: String?, byline: String?, published: String?, language: String?, body: String, modified: String? = nil,
        canonicalURL: String? = nil, imageURL: String? = nil
    ) {
        self.id = ContentHash(ofText: body)
        self.title = title
        self.byline = byline
        self.published = published
        self.language = language
        self.body = body
        self.modified = modified
        self.canonicalURL = canonicalURL
        self.imageURL = imageURL
        self.id = computedID
    }

    public func writeCanonicalFields(to writer: inout CanonicalWriter) {
        writer.field("body", body)
        writer.field("byline", byline)
        writer.field("canonicalURL", canonicalURL)
        writer.field("imageURL", imageURL)
        writer.field("language", language)
        writer.field("modified", modified)
        writer.field("published", published)
        writer.field("title", title)
    }
}

/// Which text an extractor version made of which capture, and the node that made it and vouches for it by its
/// signature. Re-extraction adds a new one.
///
/// Its `template` names the blocks of the page that were left out as its host's template: with the page, the
/// extractor and these, anyone can make the text again (`newsctl verify --reextract`). Extractions recorded before
/// they were signed have no node and no signature: they are shown as unverified.
public struct ExtractionRecord: SignedRecord, Hashable {
    public var id: ContentHash
    public var captureID: ContentHash
    public var textID: ContentHash
    /// The extractor and its version, e.g. `newsd-extract/2`.
    public var extractor: String
    /// Fingerprints of the page's blocks left out as its host's template: 16 hex digits each, ascending, separated by
    /// spaces; absent when none was.
    public var template: String?
    /// The node that made the text; empty for an extraction made before extractions were signed.
    public var nodeID: String
    public var signature: String?

    public init(captureID: ContentHash, textID: ContentHash, extractor: String, template: [UInt64] = [], nodeID: String = "") {
        self.id = captureID
        self.captureID = captureID
        self.textID = textID
        self.extractor = extractor
        self.template =
            template.isEmpty
            ? nil
            : template.sorted().map { String(repeating: "0", count: 16 - String($0, radix: 16).count) + String($0, radix: 16) }
                .joined(separator: " ")
        self.nodeID = nodeID
        self.id = computedID
    }

    /// The fingerprints `template` names.
    public var templateBlocks: Set<UInt64> {
        Set((template ?? "").split(separator: " ").compactMap { UInt64($0, radix: 16) })
    }

    /// Whether a node vouches for the text: the extraction is signed (and was checked when it was stored).
    public var isSigned: Bool { !nodeID.isEmpty && signature != nil }

    public func writeCanonicalFields(to writer: inout CanonicalWriter) {
        writer.field("captureID", captureID)
        writer.field("extractor", extractor)
        writer.field("nodeID", nodeID.isEmpty ? nil : nodeID)
        writer.field("template", template)
        writer.field("textID", textID)
    }

    private enum CodingKeys: String, CodingKey {
        case id, captureID, textID, extractor, template, nodeID, signature
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(ContentHash.self, forKey: .id)
        captureID = try container.decode(ContentHash.self, forKey: .captureID)
        textID = try container.decode(ContentHash.self, forKey: .textID)
        extractor = try container.decode(String.self, forKey: .extractor)
        template = try container.decodeIfPresent(String.self, forKey: .template)
        nodeID = try container.decodeIfPresent(String.self, forKey: .nodeID) ?? ""
        signature = try container.decodeIfPresent(String.self, forKey: .signature)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(captureID, forKey: .captureID)
        try container.encode(textID, forKey: .textID)
        try container.encode(extractor, forKey: .extractor)
        try container.encodeIfPresent(template, forKey: .template)
        try container.encodeIfPresent(nodeID.isEmpty ? nil : nodeID, forKey: .nodeID)
        try container.encodeIfPresent(signature, forKey: .signature)
    }
}

/// A node: its Ed25519 public key. Its id, the node id, is the SHA-256 of the raw 32-byte key.
public struct NodeRecord: ContentAddressed, Hashable {
    public var id: ContentHash
    /// The raw public key, in hex.
    public var publicKey: String

    public init(publicKey: Data) {
        self.publicKey = publicKey.hexString
        self.id = ContentHash(of: publicKey)
    }

    public func writeCanonicalFields(to writer: inout CanonicalWriter) {
        writer.field("publicKey", publicKey)
    }

    public var computedIdentity: (id: ContentHash, storable: Bool) { (ContentHash(of: Data(hex: publicKey) ?? Data()), true) }

    /// The key as an Ed25519 SubjectPublicKeyInfo (RFC 8410: a fixed 12-byte header, then the raw key), the DER that
    /// OpenSSL and others read; `nil` when `publicKey` is not hex.
    public var subjectPublicKeyInfo: Data? {
        Data(hex: publicKey).map { Data([0x30, 0x2A, 0x30, 0x05, 0x06, 0x03, 0x2B, 0x65, 0x70, 0x03, 0x21, 0x00]) + $0 }
    }
}

/// Any record that the change log carries, tagged with its kind on the wire: `{"kind":"capture","record":{…}}`.
public enum ArchiveItem: Sendable, Equatable, Codable {
    case node(NodeRecord)
    case article(ArticleRecord)
    case capture(CaptureRecord)
    case text(TextRecord)
    case extraction(ExtractionRecord)
    case annotation(AnnotationRecord)
    case timestamp(TimestampRecord)

    /// The kind's name in the change log and on the wire.
    public var kind: String {
        switch self {
        case .node: "node"
        case .article: "article"
        case .capture: "capture"
        case .text: "text"
        case .extraction: "extraction"
        case .annotation: "annotation"
        case .timestamp: "timestamp"
        }
    }

    /// The record's claimed id.
    public var id: ContentHash {
        switch self {
        case .node(let record): record.id
        case .article(let record): record.id
        case .capture(let record): record.id
        case .text(let record): record.id
        case .extraction(let record): record.id
        case .annotation(let record): record.id
        case .timestamp(let record): record.id
        }
    }

    /// How the change log names the record on the wire: `KIND/ID`.
    public var changeKey: String { Self.changeKey(kind: kind, id: id) }

    /// `KIND/ID`, the name of the record of `kind` with `id`.
    public static func changeKey(kind: String, id: ContentHash) -> String { "\(kind)/\(id.hex)" }

    /// The kind and id a `KIND/ID` name gives, if it is one.
    public static func parseChangeKey(_ key: String) -> (kind: String, id: ContentHash)? {
        let parts = key.split(separator: "/", maxSplits: 1)
        guard parts.count == 2, let id = ContentHash(hex: String(parts[1])) else { return nil }
        return (String(parts[0]), id)
    }

    /// Whether the id matches the record's content.
    public var isIntact: Bool {
        switch self {
        case .node(let record): record.isIntact
        case .article(let record): record.isIntact
        case .capture(let record): record.isIntact
        case .text(let record): record.isIntact
        case .extraction(let record): record.isIntact
        case .annotation(let record): record.isIntact
        case .timestamp(let record): record.isIntact && record.root == MerkleTree.root(record.captures)
        }
    }

    private enum CodingKeys: String, CodingKey { case kind, record }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        switch try container.decode(String.self, forKey: .kind) {
        case "node": self = .node(try container.decode(NodeRecord.self, forKey: .record))
        case "article": self = .article(try container.decode(ArticleRecord.self, forKey: .record))
        case "capture": self = .capture(try container.decode(CaptureRecord.self, forKey: .record))
        case "text": self = .text(try container.decode(TextRecord.self, forKey: .record))
        case "extraction": self = .extraction(try container.decode(ExtractionRecord.self, forKey: .record))
        case "annotation": self = .annotation(try container.decode(AnnotationRecord.self, forKey: .record))
        case "timestamp": self = .timestamp(try container.decode(TimestampRecord.self, forKey: .record))
        case let other:
            throw DecodingError.dataCorruptedError(forKey: .kind, in: container, debugDescription: "unknown record kind \(other)")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(kind, forKey: .kind)
        switch self {
        case .node(let record): try container.encode(record, forKey: .record)
        case .article(let record): try container.encode(record, forKey: .record)
        case .capture(let record): try container.encode(record, forKey: .record)
        case .text(let record): try container.encode(record, forKey: .record)
        case .extraction(let record): try container.encode(record, forKey: .record)
        case .annotation(let record): try container.encode(record, forKey: .record)
        case .timestamp(let record): try container.encode(record, forKey: .record)
        }
    }
}
