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

    /// Words (lowercased; two capitalised words in a row also as one term), as 64-bit hashes, heaviest first, each
    /// with its weight; weights form a unit vector.
    public private(set) var terms: [UInt64]
    public private(set) var weights: [Float]
    /// Days since 1970-01-01 of the publication date, if the text has one.
    public let day: Int?

    /// The heaviest terms, which find the candidates.
    public var keys: ArraySlice<UInt64> { terms.prefix(Self.keyCount) }

    /// The profile of a text with `title` and `body`, published on `published` (a date as pages state them).
    public init(title: String?, body: String, published: String?) {
        var counts: [UInt64: Float] = [:]
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
        guard data.count % 12 == 0 else { return nil }
        var terms: [UInt64] = []
        var weights: [Float] = []
        terms.reserveCapacity(data.count / 12)
        weights.reserveCapacity(data.count / 12)
        data.withUnsafeBytes { bytes in
            for offset in stride(from: 0, to: bytes.count, by: 12) {
                terms.append(UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)))
                weights.append(
                    Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 8, as: UInt32.self))))
            }
        }
        self.terms = terms
        self.weights = weights
        self.day = day
    }

    /// Each term and its weight, in order: 8 bytes of hash and 4 of weight, little-endian.
    public func encoded() -> Data {
        var data = Data(capacity: terms.count * 12)
        for (term, weight) in zip(terms, weights) {
            withUnsafeBytes(of: term.littleEndian) { data.append(contentsOf: $0) }
            withUnsafeBytes(of: weight.bitPattern.littleEndian) { data.append(contentsOf: $0) }
        }
        return data
    }

    /// Cosine similarity of the two profiles' weights.
    public func similarity(to other: EventProfile) -> Float {
        var index: [UInt64: Float] = [:]
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
        return civilDays(year: year, month: month, day: dayOfMonth)
    }

    /// Weight of a capitalised word inside a sentence (a name, most likely), of a number, and of two names in a row.
    static let nameWeight: Float = 4
    static let numberWeight: Float = 1.5
    static let pairWeight: Float = 3

    /// Adds the weighted words of `text` to `counts`, by hash: per sentence (ended by `.`, `!`, `?` or a line break),
    /// each word (letters and digits, with their combining marks, an apostrophe inside kept) that is not a stop word and
    /// has two characters or more. One pass over the scalars, no string made: this runs for every text stored.
    static func count(_ text: String, into counts: inout [UInt64: Float]) {
        var word = Word()
        var position = 0
        var previousName: UInt64?
        func endWord() {
            defer { word = Word() }
            guard let first = word.first else { return }
            defer { position += 1 }
            guard word.length >= 2, !stopWords.contains(word.hash) else {
                previousName = nil
                return
            }
            let isName =
                !word.isNumber && position > 0
                && (first.value < 0x80 ? (0x41...0x5A).contains(first.value) : first.properties.isUppercase)
            counts[word.hash, default: 0] += word.isNumber ? numberWeight : isName ? nameWeight : 1
            if isName, let previousName { counts[pairHash(previousName, word.hash), default: 0] += pairWeight }
            previousName = isName ? word.hash : nil
        }
        for scalar in text.unicodeScalars {
            let value = scalar.value
            let inWord: Bool
            if value < 0x80 {
                inWord = (0x61...0x7A).contains(value) || (0x41...0x5A).contains(value) || (0x30...0x39).contains(value)
            } else {
                let properties = scalar.properties
                switch properties.generalCategory {
                case .nonspacingMark, .spacingMark, .enclosingMark: inWord = word.first != nil
                default: inWord = properties.isAlphabetic || properties.numericType != nil
                }
            }
            if inWord {
                word.append(scalar)
            } else if (scalar == "'" || scalar == "\u{2019}") && word.first != nil && word.apostrophe == nil {
                word.apostrophe = scalar
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

    /// A word being read: the FNV-1a hash of its lowercased UTF-8, its length in scalars, its first scalar, whether
    /// it is all digits, and an apostrophe that joins it to what follows if a letter does.
    struct Word {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        var length = 0
        var first: Unicode.Scalar?
        var isNumber = true
        var apostrophe: Unicode.Scalar?

        mutating func append(_ scalar: Unicode.Scalar) {
            if let mark = apostrophe {
                apostrophe = nil
                append(mark)
            }
            if first == nil { first = scalar }
            length += 1
            let value = scalar.value
            if value < 0x80 {
                mix(UInt8((0x41...0x5A).contains(value) ? value + 32 : value))
                if !(0x30...0x39).contains(value) { isNumber = false }
            } else {
                for byte in scalar.properties.lowercaseMapping.utf8 { mix(byte) }
                if scalar.properties.numericType == nil { isNumber = false }
            }
        }

        mutating func mix(_ byte: UInt8) { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }

        /// The hash of a whole word, as `append` makes it.
        static func hash(_ text: String) -> UInt64 {
            var word = Word()
            for scalar in text.unicodeScalars { word.append(scalar) }
            return word.hash
        }
    }

    /// The term for two names in a row.
    static func pairHash(_ first: UInt64, _ second: UInt64) -> UInt64 {
        var hash = (first &* 0x9E37_79B9_7F4A_7C15) ^ second
        hash = (hash ^ (hash >> 30)) &* 0xBF58_476D_1CE4_E5B9
        return hash ^ (hash >> 31)
    }

    /// The hashes of ``stopWordList``.
    static let stopWords: Set<UInt64> = Set(stopWordList.map(Word.hash))

    /// English function words and the words every news report uses.
    static let stopWordList = [
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

/// Days since 1970-01-01 of a civil date (proleptic Gregorian; Howard Hinnant's days-from-civil).
public func civilDays(year: Int, month: Int, day: Int) -> Int {
    let y = month <= 2 ? year - 1 : year
    let era = (y >= 0 ? y : y - 399) / 400
    let yearOfEra = y - era * 400
    let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
    let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
    return era * 146_097 + dayOfEra - 719_468
}
