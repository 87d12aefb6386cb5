public import Foundation

/// A full-text query and its filters.
public struct SearchQuery: Codable, Sendable, Equatable {
    /// FTS5 syntax: words, `"a phrase"`, `prefix*`, `AND`/`OR`/`NOT`, `title:word`.
    public var text: String
    /// Only articles that came through the feed with this URL.
    public var feed: String?
    /// Only texts captured at or after / before this time.
    public var since: Date?
    public var until: Date?
    /// Only texts of this story (its id, or the first 8 or more hex digits of it).
    public var story: String?
    /// Only texts of this event (its id, or the first 8 or more hex digits of it).
    public var event: String?
    /// Only articles carrying this tag.
    public var tag: String?
    /// Whether hidden articles are searched too.
    public var includeHidden: Bool
    public var limit: Int
    /// Whether each word also finds the spellings of it the archive holds: within a letter or two, or with another
    /// article (`al-`/`el-`).
    public var variants: Bool?

    public init(
        text: String, feed: String? = nil, since: Date? = nil, until: Date? = nil, story: String? = nil,
        event: String? = nil, tag: String? = nil, includeHidden: Bool = false, limit: Int = 20, variants: Bool = false
    ) {
        self.text = text
        self.feed = feed
        self.since = since
        self.until = until
        self.story = story
        self.event = event
        self.tag = tag
        self.includeHidden = includeHidden
        self.limit = limit
        self.variants = variants ? true : nil
    }

}

/// One search result: an article's text, where it was captured, and the matching passage.
public struct SearchHit: Codable, Sendable, Equatable {
    public var articleURL: String
    public var title: String?
    /// The passage around the match, matched terms in `[` `]`.
    public var snippet: String
    public var textID: String
    public var capturedAt: String
    /// Which node extracted the text.
    public var provenance: TextProvenance

    public init(
        articleURL: String, title: String?, snippet: String, textID: String, capturedAt: String, provenance: TextProvenance
    ) {
        self.articleURL = articleURL
        self.title = title
        self.snippet = snippet
        self.textID = textID
        self.capturedAt = capturedAt
        self.provenance = provenance
    }
}

/// Which captures a WARC export holds.
public struct CaptureSelection: Codable, Sendable, Equatable {
    /// Only articles that came through this feed (its URL).
    public var feed: String?
    /// Only captures made at or after / before these times.
    public var since: Date?
    public var until: Date?
    /// Only the articles of this story.
    public var story: String?
    /// Only the articles of this event.
    public var event: String?
    /// Only these articles (their ids).
    public var articles: [String]?

    public init(
        feed: String? = nil, since: Date? = nil, until: Date? = nil, story: String? = nil, event: String? = nil,
        articles: [String]? = nil
    ) {
        self.feed = feed
        self.since = since
        self.until = until
        self.story = story
        self.event = event
        self.articles = articles
    }
}
