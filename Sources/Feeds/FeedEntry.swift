public import Foundation

/// The formats the parser recognises.
public enum FeedFormat: String, Sendable, Codable {
    case rss
    case rdf
    case atom
    case json
    /// Channel Definition Format, the channels of Internet Explorer 4.
    case cdf
}

/// One item of a feed, whatever its format.
public struct FeedEntry: Sendable, Equatable, Codable {
    /// The entry's identity within its feed: guid or id, else its link, else a hash of title and date.
    public var id: String
    public var title: String?
    /// The article's URL, resolved against the feed's URL and any `xml:base`.
    public var link: URL?
    public var published: Date?
    public var updated: Date?
    public var author: String?
    public var summary: String?
    public var content: String?
    /// Enclosures, Media RSS content and thumbnails.
    public var enclosures: [URL]

    public init(
        id: String, title: String? = nil, link: URL? = nil, published: Date? = nil, updated: Date? = nil, author: String? = nil,
        summary: String? = nil, content: String? = nil, enclosures: [URL] = []
    ) {
        self.id = id
        self.title = title
        self.link = link
        self.published = published
        self.updated = updated
        self.author = author
        self.summary = summary
        self.content = content
        self.enclosures = enclosures
    }
}

/// A parsed feed document.
public struct ParsedFeed: Sendable, Equatable, Codable {
    public var format: FeedFormat
    public var title: String?
    /// The site the feed belongs to.
    public var link: URL?
    public var entries: [FeedEntry]
    /// Recoverable problems met while parsing (malformed markup that was repaired); 0 for a clean document.
    public var warnings: Int
    /// RSS `<ttl>`: minutes the feed may be cached.
    public var ttl: Int?
    /// RSS `<skipHours>`: hours (0–23, GMT) in which the feed need not be polled.
    public var skipHours: [Int] = []
    /// RSS `<skipDays>`: lowercased weekday names on which the feed need not be polled.
    public var skipDays: [String] = []

    public init(format: FeedFormat, title: String?, link: URL?, entries: [FeedEntry], warnings: Int) {
        self.format = format
        self.title = title
        self.link = link
        self.entries = entries
        self.warnings = warnings
    }
}

/// Why a document could not be read as a feed.
public enum FeedParseError: Error, Equatable, CustomStringConvertible {
    /// Nothing parseable, or an XML document that is no RSS, RDF or Atom feed.
    case notAFeed(String)

    public var description: String {
        switch self {
        case .notAFeed(let reason): "not a feed: \(reason)"
        }
    }
}
