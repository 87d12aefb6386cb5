public import Foundation

/// What a text says about the event it reports: its weighted words, names counting most, and the day it was
/// published. Two texts whose profiles are similar enough report the same event (``EventProfile/isSameEvent(as:)``).
///
/// A profile depends on its text alone, never on the rest of the archive (no document frequencies): so whether two
/// texts are linked is the same on every node and at any time, and the events, the groups of texts so linked, are the
/// same whatever order the texts arrived in. A stop-word list does the work a corpus's statistics would.
public struct EventProfile: Sendable, Equatable {
    /// Words kept per text, by weight.
    public static let termCount = 64
    /// The heaviest words, by which candidates are found: two linked texts share at least `sharedKeys` of them.
    public static let keyCount = 12
    public static let sharedKeys = 2
    /// Cosine similarity at or above which two texts report the same event.
    public static let threshold: Float = 0.35
    /// Texts published more than this many days apart report different events (texts without a date join any).
    public static let windowDays = 7

    /// Words (lowercased; two capitalised words in a row also as one term), heaviest first, each with its weight;
    /// weights form a unit vector.
    public private(set) var terms: [String]
    public private(set) var weights: [Float]
    /// Days since 1970-01-01 of the publication date, if the text has one.
    public let day: Int?

    /// The heaviest terms, which find the candidates.
    public var keys: ArraySlice<String> { terms.prefix(Self.keyCount) }

    /// The profile of a text with `title` and `body`, published on `published` (a date as pages state them).
    public init(title: String?, body: String, published: String?) {
        var counts: [String: Float] = [:]
        if let title { Self.count(title, into: &counts) }
        Self.count(body, into: &counts)
        let ranked = counts.map { (term: $0.key, weight: 1 + log($0.value)) }
            .sorted { ($0.weight, $1.term) > ($1.weight, $0.term) }
            .prefix(Self.termCount)
        let norm = sqrt(ranked.reduce(0) { $0 + $1.weight * $1.weight })
        terms = ranked.map(\.term)
        weights = ranked.map { $0.weight / max(norm, .leastNormalMagnitude) }
        day = published.flatMap(Self.day(of:))
    }

    /// A profile as ``encoded()`` wrote it, with its day.
    public init?(encoded data: Data, day: Int?) {
        guard let text = String(data: data, encoding: .utf8) else { return nil }
        var terms: [String] = []
        var weights: [Float] = []
        for line in text.split(separator: "\n") {
            guard let tab = line.lastIndex(of: "\t"), let weight = Float(line[line.index(after: tab)...]) else {
                return nil
            }
            terms.append(String(line[..<tab]))
            weights.append(weight)
        }
        self.terms = terms
        self.weights = weights
        self.day = day
    }

    /// The terms and weights, one per line (a term holds no tab or newline).
    public func encoded() -> Data {
        Data(zip(terms, weights).map { "\($0)\t\($1)" }.joined(separator: "\n").utf8)
    }

    /// Cosine similarity of the two profiles' weights.
    public func similarity(to other: EventProfile) -> Float {
        var index: [String: Float] = [:]
        index.reserveCapacity(other.terms.count)
        for (term, weight) in zip(other.terms, other.weights) { index[term] = weight }
        var sum: Float = 0
        for (term, weight) in zip(terms, weights) { sum += weight * (index[term] ?? 0) }
        return sum
    }

    /// Whether the two texts report the same event: published within the window (or either undated), sharing
    /// enough key terms, and similar enough.
    public func isSameEvent(as other: EventProfile) -> Bool {
        if let day, let otherDay = other.day, abs(day - otherDay) > Self.windowDays { return false }
        guard Set(keys).intersection(other.keys).count >= Self.sharedKeys else { return false }
        return similarity(to: other) >= Self.threshold
    }

    /// Days since 1970-01-01 of a date that starts `YYYY-MM-DD`, as metadata and feeds give it.
    static func day(of date: String) -> Int? {
        let parts = date.prefix(10).split(separator: "-")
        guard parts.count == 3, parts[0].count == 4, let year = Int(parts[0]), let month = Int(parts[1]),
            let dayOfMonth = Int(parts[2]), (1...12).contains(month), (1...31).contains(dayOfMonth)
        else { return nil }
        // Days from civil (proleptic Gregorian), as in Howard Hinnant's algorithm.
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + dayOfMonth - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// Weight of a capitalised word inside a sentence (a name, most likely), of a number, and of two names in a row.
    static let nameWeight: Float = 4
    static let numberWeight: Float = 1.5
    static let pairWeight: Float = 3

    /// Adds the weighted words of `text` to `counts`: per sentence (ended by `.`, `!`, `?` or a line break), each word
    /// (letters and digits, with their combining marks, an apostrophe inside kept) that is not a stop word and has two
    /// characters or more. One pass over the scalars: this runs for every text stored.
    static func count(_ text: String, into counts: inout [String: Float]) {
        var word = String.UnicodeScalarView()
        var apostrophe: Unicode.Scalar?
        var position = 0
        var previousName: String?
        func endWord() {
            defer {
                word = String.UnicodeScalarView()
                apostrophe = nil
            }
            guard let first = word.first else { return }
            let lowered = String(word).lowercased()
            defer { position += 1 }
            guard lowered.count >= 2, !stopWords.contains(lowered) else {
                previousName = nil
                return
            }
            let isNumber = word.allSatisfy { $0.properties.numericType != nil }
            let isName = !isNumber && position > 0 && first.properties.isUppercase
            counts[lowered, default: 0] += isNumber ? numberWeight : isName ? nameWeight : 1
            if isName, let previousName { counts[previousName + " " + lowered, default: 0] += pairWeight }
            previousName = isName ? lowered : nil
        }
        for scalar in text.unicodeScalars {
            let value = scalar.value
            let inWord: Bool
            if value < 0x80 {
                inWord = (0x61...0x7A).contains(value) || (0x41...0x5A).contains(value) || (0x30...0x39).contains(value)
            } else {
                let properties = scalar.properties
                switch properties.generalCategory {
                case .nonspacingMark, .spacingMark, .enclosingMark: inWord = !word.isEmpty
                default: inWord = properties.isAlphabetic || properties.numericType != nil
                }
            }
            if inWord {
                if let mark = apostrophe {
                    word.append(mark)
                    apostrophe = nil
                }
                word.append(scalar)
            } else if (scalar == "'" || scalar == "\u{2019}") && !word.isEmpty && apostrophe == nil {
                apostrophe = scalar
            } else {
                endWord()
                if scalar == "." || scalar == "!" || scalar == "?" || scalar == "\n" {
                    position = 0
                    previousName = nil
                }
            }
        }
        endWord()
    }

    /// English function words and the words every news report uses.
    static let stopWords: Set<String> = [
        "a", "about", "above", "after", "again", "against", "all", "am", "an", "and", "any", "are", "as", "at", "be",
        "because", "been", "before", "being", "below", "between", "both", "but", "by", "can", "could", "did", "do",
        "does", "doing", "down", "during", "each", "few", "for", "from", "further", "had", "has", "have", "having",
        "he", "her", "here", "hers", "herself", "him", "himself", "his", "how", "i", "if", "in", "into", "is", "it",
        "its", "itself", "just", "me", "more", "most", "my", "myself", "no", "nor", "not", "now", "of", "off", "on",
        "once", "only", "or", "other", "our", "ours", "ourselves", "out", "over", "own", "same", "she", "should", "so",
        "some", "such", "than", "that", "the", "their", "theirs", "them", "themselves", "then", "there", "these",
        "they", "this", "those", "through", "to", "too", "under", "until", "up", "very", "was", "we", "were", "what",
        "when", "where", "which", "while", "who", "whom", "why", "will", "with", "would", "you", "your", "yours",
        "yourself", "yourselves", "also", "said", "says", "say", "one", "two", "new", "may", "might", "must", "shall",
        "us", "mr", "mrs", "ms", "it's", "told", "according", "like", "get", "got", "last", "first", "year", "years",
        "time", "people",
    ]
}
