/// An article with its provenance: every capture of it and every version of its text.
public struct ArticleDetail: Codable, Sendable, Equatable {
    /// One capture: when, what answered, and who captured it.
    public struct Capture: Codable, Sendable, Equatable {
        public var id: String
        public var fetchedAt: String
        public var status: Int
        public var finalURL: String
        public var blobHash: String
        public var size: Int
        public var nodeID: String
        /// Whether its signature is its node's over the capture record, checked as it was read; `nil` when unsigned.
        public var signatureValid: Bool?

        public init(id: String, fetchedAt: String, status: Int, finalURL: String, blobHash: String, size: Int, nodeID: String) {
            self.id = id
            self.fetchedAt = fetchedAt
            self.status = status
            self.finalURL = finalURL
            self.blobHash = blobHash
            self.size = size
            self.nodeID = nodeID
        }
    }

    /// One version of the cleaned text, first seen in the capture made at `firstSeen`.
    public struct Version: Codable, Sendable, Equatable {
        public var textID: String
        public var firstSeen: String
        public var extractor: String
        /// The node that extracted the text and signed its extraction; `nil` when none did (unverified).
        public var extractedBy: String?
        /// The node that made the capture the text was extracted from.
        public var capturedBy: String?
        public var title: String?
        public var byline: String?
        public var published: String?
        public var language: String?
        public var body: String
        /// The address the page names as its own (`<link rel="canonical">`, `og:url`), when it names one.
        public var canonicalURL: String?
        /// When the page says it was last changed.
        public var modified: String?

        public init(
            textID: String, firstSeen: String, extractor: String, extractedBy: String? = nil, capturedBy: String? = nil,
            title: String?, byline: String?, published: String?, language: String?, body: String
        ) {
            self.textID = textID
            self.firstSeen = firstSeen
            self.extractor = extractor
            self.extractedBy = extractedBy
            self.capturedBy = capturedBy
            self.title = title
            self.byline = byline
            self.published = published
            self.language = language
            self.body = body
        }
    }

    public var id: String
    public var url: String
    /// The story the latest version belongs to.
    public var story: String?
    /// URLs of the feeds that linked it.
    public var feeds: [String]
    /// The title a feed's entry gave it: its title wherever its page has none.
    public var entryTitle: String?
    /// Its tags, note and visibility now.
    public var annotations: ArticleAnnotations
    /// Oldest first.
    public var captures: [Capture]
    /// Texts extracted by the capturing node or by this node, oldest first; the last is the current text.
    public var versions: [Version]
    /// Texts of its captures that another node extracted, or that no node vouches for (made before extractions were
    /// signed): shown for what they are, never as the current text.
    public var otherTexts: [Version] = []

    public init(
        id: String, url: String, story: String?, feeds: [String], annotations: ArticleAnnotations = ArticleAnnotations(),
        captures: [Capture], versions: [Version], otherTexts: [Version] = [], entryTitle: String? = nil
    ) {
        self.id = id
        self.url = url
        self.story = story
        self.feeds = feeds
        self.entryTitle = entryTitle
        self.annotations = annotations
        self.captures = captures
        self.versions = versions
        self.otherTexts = otherTexts
    }
}

/// A word-level difference between two texts.
/// An article whose page changed after it was first captured: each change, newest last, with its word diff.
public struct ArticleEdits: Codable, Sendable, Equatable {
    /// One version of the text against the one before it.
    public struct Change: Codable, Sendable, Equatable {
        /// The versions compared, numbered from 1 (the oldest), as `newsctl diff` takes them.
        public var from: Int
        public var to: Int
        /// When the newer version was first captured.
        public var at: String
        /// Whether the title changed.
        public var titleChanged: Bool
        /// The word diff of title and text, as ``WordDiff/render(_:)`` writes it.
        public var diff: String

        public init(from: Int, to: Int, at: String, titleChanged: Bool, diff: String) {
            self.from = from
            self.to = to
            self.at = at
            self.titleChanged = titleChanged
            self.diff = diff
        }
    }

    public var id: String
    public var url: String
    public var title: String?
    /// When the article was first captured, and its first version's publication date, if it gives one.
    public var firstCaptured: String
    public var published: String?
    public var changes: [Change]

    /// The edits between the versions of `article`; empty when it has one version.
    public init(_ article: ArticleDetail) {
        id = article.id
        url = article.url
        title = article.versions.last?.title
        firstCaptured = article.captures.first?.fetchedAt ?? ""
        published = article.versions.first?.published
        changes = zip(article.versions, article.versions.dropFirst()).enumerated().map { index, pair in
            let (older, newer) = pair
            return Change(
                from: index + 1, to: index + 2, at: newer.firstSeen, titleChanged: older.title != newer.title,
                diff: WordDiff.render(WordDiff.between(older, newer)))
        }
    }
}

public enum WordDiff {
    /// The changes from `older` to `newer`: the title, then the text, paragraphs kept.
    public static func between(_ older: ArticleDetail.Version, _ newer: ArticleDetail.Version) -> [Change] {
        changes(from: "\(older.title ?? "")\n\(older.body)", to: "\(newer.title ?? "")\n\(newer.body)")
    }

    /// One run of words: kept, removed or added.
    public enum Change: Equatable, Sendable {
        case same(String)
        case removed(String)
        case added(String)
    }

    /// The changes that turn `old` into `new`, words compared exactly, runs merged.
    public static func changes(from old: String, to new: String) -> [Change] {
        let a = tokens(old)
        let b = tokens(new)
        // Common prefix and suffix first: edits are usually local, and that keeps the table small.
        var prefix = 0
        while prefix < a.count, prefix < b.count, a[prefix] == b[prefix] { prefix += 1 }
        var suffix = 0
        while suffix < a.count - prefix, suffix < b.count - prefix, a[a.count - 1 - suffix] == b[b.count - 1 - suffix] {
            suffix += 1
        }
        let x = Array(a[prefix..<(a.count - suffix)])
        let y = Array(b[prefix..<(b.count - suffix)])
        var middle: [Change] = []
        if x.count * y.count > 16_000_000 {
            middle = x.map { .removed($0) } + y.map { .added($0) }
        } else {
            // Longest common subsequence, lengths from the end.
            let columns = y.count + 1
            var table = [Int32](repeating: 0, count: (x.count + 1) * columns)
            for i in stride(from: x.count - 1, through: 0, by: -1) {
                for j in stride(from: y.count - 1, through: 0, by: -1) {
                    table[i * columns + j] =
                        x[i] == y[j]
                        ? table[(i + 1) * columns + j + 1] + 1 : max(table[(i + 1) * columns + j], table[i * columns + j + 1])
                }
            }
            var i = 0
            var j = 0
            while i < x.count || j < y.count {
                if i < x.count, j < y.count, x[i] == y[j] {
                    middle.append(.same(x[i]))
                    i += 1
                    j += 1
                } else if i < x.count, j == y.count || table[(i + 1) * columns + j] >= table[i * columns + j + 1] {
                    middle.append(.removed(x[i]))
                    i += 1
                } else {
                    middle.append(.added(y[j]))
                    j += 1
                }
            }
        }
        let words = a[..<prefix].map { Change.same($0) } + middle + a[(a.count - suffix)...].map { Change.same($0) }
        return merge(words)
    }

    /// The words of `text`, and a `\n` for each line break, so that a diff keeps the title and the paragraphs apart.
    private static func tokens(_ text: String) -> [String] {
        var tokens: [String] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if index > 0 { tokens.append("\n") }
            tokens += line.split(whereSeparator: \.isWhitespace).map(String.init)
        }
        return tokens
    }

    /// `a` and `b` joined as the text had them: a space between words, nothing around a line break.
    private static func join(_ a: String, _ b: String) -> String {
        a.isEmpty || b.isEmpty || a.hasSuffix("\n") || b.hasPrefix("\n") ? a + b : a + " " + b
    }

    private static func merge(_ words: [Change]) -> [Change] {
        var out: [Change] = []
        for word in words {
            switch (out.last, word) {
            case (.same(let run)?, .same(let next)): out[out.count - 1] = .same(join(run, next))
            case (.removed(let run)?, .removed(let next)): out[out.count - 1] = .removed(join(run, next))
            case (.added(let run)?, .added(let next)): out[out.count - 1] = .added(join(run, next))
            default: out.append(word)
            }
        }
        return out
    }

    /// The changes as text: removals as `[-…-]`, additions as `{+…+}`, line breaks kept.
    public static func render(_ changes: [Change]) -> String {
        changes.map { change in
            switch change {
            case .same(let text): text
            case .removed(let text): "[-\(text)-]"
            case .added(let text): "{+\(text)+}"
            }
        }.reduce("", join)
    }
}

/// What `reextract` did: the current extractor run over stored pages, new texts stored beside the old.
public struct ReextractReport: Codable, Sendable, Equatable {
    /// The extractor that ran, e.g. `newsd-extract/2`.
    public var extractor: String
    /// Captures it ran over (those it had not cleaned before).
    public var captures: Int
    /// Captures whose text differs from every text stored before: a new text each.
    public var newTexts: Int
    /// Captures whose text came out the same as one already stored.
    public var sameTexts: Int
    /// Captures in which it found no text.
    public var noText: Int

    public init(extractor: String, captures: Int, newTexts: Int = 0, sameTexts: Int = 0, noText: Int = 0) {
        self.extractor = extractor
        self.captures = captures
        self.newTexts = newTexts
        self.sameTexts = sameTexts
        self.noText = noText
    }
}

/// One line of `newsctl articles list`: an article, its latest title, and how often it was captured and changed.
public struct ArticleSummary: Codable, Sendable, Equatable {
    public var id: String
    public var url: String
    public var title: String?
    public var firstCaptured: String
    public var lastCaptured: String
    public var captures: Int
    /// Distinct texts made of its captures.
    public var versions: Int

    public init(
        id: String, url: String, title: String?, firstCaptured: String, lastCaptured: String, captures: Int, versions: Int
    ) {
        self.id = id
        self.url = url
        self.title = title
        self.firstCaptured = firstCaptured
        self.lastCaptured = lastCaptured
        self.captures = captures
        self.versions = versions
    }
}

extension ArticleDetail.Version {
    /// Who made this text, in words: the capturing node, this node, another node, or nobody who vouches for it.
    public func provenance(localNode: String? = nil) -> String {
        TextProvenance(extractedBy: extractedBy, byCapturingNode: extractedBy != nil && extractedBy == capturedBy)
            .description(localNode: localNode)
    }
}

/// Which node extracted a text and vouches for it by its signature.
public struct TextProvenance: Codable, Sendable, Equatable {
    /// The node that signed an extraction of the text (the capturing node's, where it did); `nil` when none did.
    public var extractedBy: String?
    /// Whether the node that captured the page extracted the text.
    public var byCapturingNode: Bool

    public init(extractedBy: String?, byCapturingNode: Bool) {
        self.extractedBy = extractedBy
        self.byCapturingNode = byCapturingNode
    }

    /// In words, naming `localNode` as this node.
    public func description(localNode: String? = nil) -> String {
        guard let extractedBy else { return "unverified: no node signed this text's extraction" }
        if byCapturingNode { return "extracted by the capturing node" }
        if extractedBy == localNode { return "extracted by this node, node \(extractedBy.prefix(12))" }
        return "extracted by node \(extractedBy.prefix(12)), not the capturing node"
    }
}
