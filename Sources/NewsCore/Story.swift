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
