/// The annotations an article has now: its tags, its note, whether it is hidden.
public struct ArticleAnnotations: Codable, Sendable, Equatable {
    /// Sorted.
    public var tags: [String]
    public var note: String?
    /// Hidden articles are left out of article lists and search unless asked for; nothing of them is deleted.
    public var hidden: Bool

    public init(tags: [String] = [], note: String? = nil, hidden: Bool = false) {
        self.tags = tags
        self.note = note
        self.hidden = hidden
    }

    /// The keys of annotation records and what they mean.
    public enum Key {
        /// `true` while the article is hidden.
        public static let hidden = "hidden"
        /// The note's text.
        public static let note = "note"
        /// `true` while the article carries this tag.
        public static func tag(_ name: String) -> String { "tag:" + name }
        /// The value of a tag or of `hidden` that is on.
        public static let on = "true"
        /// The longest tag name, in characters.
        public static let maximumTagLength = 64
        /// The longest note, in UTF-8 bytes.
        public static let maximumNoteBytes = 64 << 10
    }

    /// Why `key` set to `value` is not an annotation, or `nil` when it is one.
    public static func problem(key: String, value: String?) -> String? {
        if key == Key.note {
            guard let value else { return nil }
            return value.utf8.count <= Key.maximumNoteBytes ? nil : "a note holds at most \(Key.maximumNoteBytes) bytes"
        }
        if key == Key.hidden {
            return value == nil || value == Key.on ? nil : "hidden is \(Key.on) or absent"
        }
        if key.hasPrefix("tag:") {
            let name = key.dropFirst(4)
            guard !name.isEmpty, name.count <= Key.maximumTagLength,
                !name.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7F })
            else { return "a tag is 1 to \(Key.maximumTagLength) characters without spaces or controls: \(name)" }
            return value == nil || value == Key.on ? nil : "a tag's value is \(Key.on) or absent"
        }
        return "unknown annotation key \(key.prefix(64))"
    }
}

/// Changes to one article's annotations, asked of the daemon (`POST /v1/annotations`).
public struct AnnotationRequest: Codable, Sendable, Equatable {
    /// The article: its URL, or its id or the first 8 or more hex digits of it.
    public var article: String
    public var changes: [Change]

    /// One key set to a value, or cleared when `value` is absent.
    public struct Change: Codable, Sendable, Equatable {
        public var key: String
        public var value: String?

        public init(key: String, value: String?) {
            self.key = key
            self.value = value
        }
    }

    public init(article: String, changes: [Change]) {
        self.article = article
        self.changes = changes
    }
}
