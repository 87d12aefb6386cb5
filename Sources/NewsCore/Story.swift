/// Texts that report the same story: syndicated copies, rewrites and updates.
public struct Story: Codable, Sendable, Equatable {
    /// One text of the story and where it came from.
    public struct Member: Codable, Sendable, Equatable {
        public var textID: String
        public var title: String?
        public var articleURL: String?
        /// The host the article came from.
        public var source: String?
        public var capturedAt: String?
        /// Which node extracted the text.
        public var provenance: TextProvenance

        public init(
            textID: String, title: String?, articleURL: String?, source: String?, capturedAt: String?, provenance: TextProvenance
        ) {
            self.textID = textID
            self.title = title
            self.articleURL = articleURL
            self.source = source
            self.capturedAt = capturedAt
            self.provenance = provenance
        }
    }

    /// The smallest text id among the members: the same on every node that holds the same texts.
    public var id: String
    public var members: [Member]
    /// How many texts the story holds, where `members` lists only some of them.
    public var size: Int?

    public init(id: String, members: [Member]) {
        self.id = id
        self.members = members
    }
}

/// Every outlet's report of one real-world event: its stories (copy groups), each with its texts.
public struct Event: Codable, Sendable, Equatable {
    /// The smallest text id among the texts: the same on every node that holds the same texts.
    public var id: String
    /// How many texts the event holds.
    public var size: Int
    /// Its copy groups, the earliest captured first, each with its texts in the order they were captured (of a larger
    /// event, some of them).
    public var stories: [Story]
    /// The hosts its articles came from.
    public var sources: [String]
    public var firstCaptured: String?
    public var lastCaptured: String?
    /// Earlier ids of this event: events that were merged into it as evidence arrived.
    public var merged: [String]

    public init(
        id: String, size: Int, stories: [Story], sources: [String], firstCaptured: String?, lastCaptured: String?,
        merged: [String]
    ) {
        self.id = id
        self.size = size
        self.stories = stories
        self.sources = sources
        self.firstCaptured = firstCaptured
        self.lastCaptured = lastCaptured
        self.merged = merged
    }

    /// A letter for each copy group (by story id), A, B, …, Z, AA, … in the order of their first capture: texts with
    /// the same letter are copies, rewrites or updates of one report.
    public var letters: [String: String] {
        func letter(_ index: Int) -> String {
            (index >= 26 ? letter(index / 26 - 1) : "") + String(Character(UnicodeScalar(UInt8(65 + index % 26))))
        }
        return Dictionary(uniqueKeysWithValues: stories.enumerated().map { ($1.id, letter($0)) })
    }

    /// Every text of the event in the order it was captured, with the story it is a copy in.
    public var timeline: [(story: String, member: Story.Member)] {
        stories.flatMap { story in story.members.map { (story.id, $0) } }
            .sorted { ($0.member.capturedAt ?? "", $0.member.textID) < ($1.member.capturedAt ?? "", $1.member.textID) }
    }
}
