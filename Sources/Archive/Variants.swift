import Foundation
import GRDB

extension Archive {
    /// The spellings of `word` (a word of a query, as typed) that the archive's texts hold besides its own, most used
    /// first: words within one letter of it (two, for words of seven letters or more) once case and diacritics are
    /// folded, that start with the same letter; at most `limit`. Then the same word, or one of those, written as two
    /// (the index splits "Dar'aa" into "dar" and "aa"), where the archive holds both halves: "dar aa", a phrase.
    public func variants(of word: String, limit: Int = 5) throws -> [String] {
        try pool.read { db in try Self.variants(of: word, limit: limit, db: db) }
    }

    static func variants(of word: String, limit: Int, db: Database) throws -> [String] {
        let folded = Self.folded(word)
        guard let first = folded.unicodeScalars.first, folded.count >= 3 else { return [] }
        let upper = String(Character(Unicode.Scalar(first.value + 1) ?? first))
        let allowed = folded.count >= 7 ? 2 : 1
        let rows = try Row.fetchAll(
            db, sql: "SELECT term, doc FROM text_vocabulary WHERE term >= ? AND term < ?", arguments: [String(first), upper])
        let target = Array(folded.unicodeScalars)
        let close =
            rows.compactMap { row -> (term: String, texts: Int)? in
                let term: String = row["term"]
                let scalars = Array(term.unicodeScalars)
                guard term != folded, abs(scalars.count - target.count) <= allowed,
                    Self.editDistance(scalars, target, atMost: allowed) <= allowed
                else { return nil }
                return (term, row["doc"])
            }
            .sorted { ($0.texts, $1.term) > ($1.texts, $0.term) }.prefix(limit).map(\.term)
        // Every way of cutting each spelling in two (halves of two letters or more), then those whose halves both
        // stand in the vocabulary, looked up at once.
        let cuts = ([folded] + close).flatMap { spelling -> [[String]] in
            let scalars = Array(spelling.unicodeScalars)
            guard scalars.count >= 4 else { return [] }
            return (2...(scalars.count - 2)).map { cut in
                [scalars[..<cut], scalars[cut...]].map { String(String.UnicodeScalarView($0)) }
            }
        }
        let halves = Array(Set(cuts.joined()))
        let held =
            halves.isEmpty
            ? []
            : Set(
                try String.fetchAll(
                    db, sql: "SELECT term FROM text_vocabulary WHERE term IN (\(databaseQuestionMarks(count: halves.count)))",
                    arguments: StatementArguments(halves)))
        let split = cuts.filter { $0.allSatisfy(held.contains) }.map { $0.joined(separator: " ") }
        return close + split.prefix(limit)
    }

    /// `text` as the index keeps its words: lower case, without diacritics.
    static func folded(_ text: String) -> String {
        text.folding(options: [.caseInsensitive, .diacriticInsensitive], locale: nil)
    }

    /// The Levenshtein distance of `a` and `b`, or `limit + 1` once it is sure to exceed `limit`.
    static func editDistance(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar], atMost limit: Int) -> Int {
        var previous = Array(0...b.count)
        for (i, left) in a.enumerated() {
            var current = [i + 1] + Array(repeating: 0, count: b.count)
            for (j, right) in b.enumerated() {
                current[j + 1] = min(previous[j + 1] + 1, current[j] + 1, previous[j] + (left == right ? 0 : 1))
            }
            if current.min()! > limit { return limit + 1 }
            previous = current
        }
        return previous[b.count]
    }
}
