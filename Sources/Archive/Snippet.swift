import Foundation

/// The words of a text around the first place a query's terms occur, the terms marked `[` `]`.
///
/// FTS5's own `snippet()` tokenizes the whole text to choose its window: for a long page (a few hundred
/// KB) that cost milliseconds a hit, and most of a search's time. This reads the text only until its window is full,
/// tokenizing as the index's `unicode61 remove_diacritics 2` tokenizer does: letters and digits make words,
/// compared without case or diacritics.
struct Snippet {
    private let terms: [(word: [Unicode.Scalar], prefix: Bool)]
    /// The terms as typed and as folded, each in lower case, capitalised and in capitals: what a byte search looks for.
    private let literals: [[UInt8]]
    private var folded: [UInt32: [Unicode.Scalar]] = [:]

    /// Words of the window before the first match, and in all.
    private static let lead = 4
    private static let size = 16

    /// The terms of an FTS5 expression as ``Archive/matchExpression(_:)`` writes it: every word of its phrases and
    /// barewords, `*` marking a prefix; operators, column names and `NEAR`'s distance left out.
    init(expression: String) {
        var terms: [(word: [Unicode.Scalar], prefix: Bool)] = []
        var scratch: [UInt32: [Unicode.Scalar]] = [:]
        var index = expression.startIndex
        while index < expression.endIndex {
            let character = expression[index]
            if character == "\"" {
                let close = expression[expression.index(after: index)...].firstIndex(of: "\"") ?? expression.endIndex
                let phrase = expression[expression.index(after: index)..<close]
                var after = close < expression.endIndex ? expression.index(after: close) : close
                let prefix = after < expression.endIndex && expression[after] == "*"
                if prefix { after = expression.index(after: after) }
                let words = Snippet.words(of: phrase, folding: &scratch)
                for (position, word) in words.enumerated() { terms.append((word, prefix && position == words.count - 1)) }
                index = after
            } else if character.isWhitespace || character == "(" || character == ")" || character == "," {
                index = expression.index(after: index)
            } else {
                let end = expression[index...].firstIndex { $0.isWhitespace || $0 == "(" || $0 == ")" || $0 == "\"" }
                let token = expression[index..<(end ?? expression.endIndex)]
                index = end ?? expression.endIndex
                if Archive.queryOperators.contains(token) || token.hasSuffix(":") || token.allSatisfy(\.isNumber) {
                    continue
                }
                let prefix = token.hasSuffix("*")
                for word in Snippet.words(of: prefix ? token.dropLast() : token, folding: &scratch) {
                    terms.append((word, prefix))
                }
            }
        }
        self.terms = terms
        self.folded = scratch
        let typed = expression.unicodeScalars.split { !Self.isWordScalar($0) }.map { String(String.UnicodeScalarView($0)) }
            .filter { !Archive.queryOperators.contains(Substring($0)) }
        let words = typed.map { $0.lowercased() } + terms.map { String(String.UnicodeScalarView($0.word)) }
        literals = Set(words.flatMap { [$0, $0.prefix(1).uppercased() + $0.dropFirst(), $0.uppercased()] }).filter { !$0.isEmpty }
            .map { Array($0.utf8) }
    }

    /// The snippet of `text`: its first words when no term occurs in it (the match was in the title).
    ///
    /// The reading starts shortly before the first place a term stands in the text as typed or folded, in lower
    /// case, capitalised or in capitals (a byte search); where none does, it reads the first 8,192 characters, for
    /// forms only folding finds (other diacritics, mixed case).
    mutating func make(_ text: String) -> String {
        let scalars = text.unicodeScalars
        let found =
            firstLiteral(in: text).flatMap { matchWindow(in: scalars, from: $0, limit: nil) }
            ?? matchWindow(in: scalars, from: scalars.startIndex, limit: 8192)
        return Self.render(found ?? Self.opening(of: scalars).map { ($0, false) }, in: scalars)
    }

    /// The index a few words before the earliest literal occurrence of a term, on a word's start.
    private func firstLiteral(in text: String) -> String.UnicodeScalarView.Index? {
        var text = text
        let earliest = text.withUTF8 { bytes -> Int? in
            var best: Int?
            for literal in literals {
                // Only the part before the earliest match so far can hold an earlier one.
                let end = min(bytes.count, (best ?? bytes.count) + literal.count - 1)
                guard let offset = Self.find(literal, in: UnsafeBufferPointer(rebasing: bytes[..<end])) else { continue }
                best = offset
            }
            guard var start = best else { return nil }
            // Back up far enough for the words that lead the window, then forward to a scalar's first byte.
            start = max(0, start - 160)
            while start > 0, bytes[start] & 0xC0 == 0x80 { start += 1 }
            return start
        }
        guard let earliest else { return nil }
        let scalars = text.unicodeScalars
        var index = text.utf8.index(text.utf8.startIndex, offsetBy: earliest)
        guard index != scalars.startIndex else { return index }
        // Past the word the backing-up may have landed in.
        while index < scalars.endIndex, Self.isWordScalar(scalars[index]) { index = scalars.index(after: index) }
        return index
    }

    /// Where `needle` first stands in `bytes`: libc's `memchr` (which scans many bytes at a time) finds each candidate
    /// first byte.
    private static func find(_ needle: [UInt8], in bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        guard let head = needle.first, let base = bytes.baseAddress, bytes.count >= needle.count else { return nil }
        let last = bytes.count - needle.count
        var index = 0
        while index <= last {
            guard let found = memchr(base + index, Int32(head), last - index + 1) else { return nil }
            index = UnsafePointer(found.assumingMemoryBound(to: UInt8.self)) - base
            var same = true
            for offset in 1..<needle.count where bytes[index + offset] != needle[offset] {
                same = false
                break
            }
            if same { return index }
            index += 1
        }
        return nil
    }

    /// The words around the first match, reading from `start` (at most `limit` scalars before a match), or `nil`.
    private mutating func matchWindow(
        in scalars: String.UnicodeScalarView, from start: String.UnicodeScalarView.Index, limit: Int?
    ) -> [(range: Range<String.UnicodeScalarView.Index>, matches: Bool)]? {
        var recent: [Range<String.UnicodeScalarView.Index>] = []
        var window: [(range: Range<String.UnicodeScalarView.Index>, matches: Bool)] = []
        var matched = false
        var word: [Unicode.Scalar] = []
        var begin: String.UnicodeScalarView.Index?
        var index = start
        var read = 0
        func finishWord(at end: String.UnicodeScalarView.Index) {
            guard let wordStart = begin else { return }
            begin = nil
            let range = wordStart..<end
            let matches = terms.contains { term in
                term.prefix ? word.starts(with: term.word) : word == term.word
            }
            word.removeAll(keepingCapacity: true)
            if matched {
                window.append((range, matches))
            } else if matches {
                matched = true
                window = recent.suffix(Self.lead).map { ($0, false) } + [(range, true)]
            } else {
                recent.append(range)
                if recent.count > Self.size * 2 { recent.removeFirst(Self.size) }
            }
        }
        while index < scalars.endIndex, window.count < Self.size {
            if !matched, let limit, read >= limit { break }
            let scalar = scalars[index]
            if Self.isWordScalar(scalar) {
                if begin == nil { begin = index }
                word += fold(scalar)
            } else {
                finishWord(at: index)
            }
            index = scalars.index(after: index)
            read += 1
        }
        if window.count < Self.size, index == scalars.endIndex { finishWord(at: index) }
        return matched ? window : nil
    }

    /// The first words of a text.
    private static func opening(of scalars: String.UnicodeScalarView) -> [Range<String.UnicodeScalarView.Index>] {
        var words: [Range<String.UnicodeScalarView.Index>] = []
        var begin: String.UnicodeScalarView.Index?
        var index = scalars.startIndex
        while index < scalars.endIndex, words.count < size {
            if isWordScalar(scalars[index]) {
                if begin == nil { begin = index }
            } else if let start = begin {
                words.append(start..<index)
                begin = nil
            }
            index = scalars.index(after: index)
        }
        if let start = begin, words.count < size { words.append(start..<index) }
        return words
    }

    /// The words of `window` with what stands between them, matches marked, and an ellipsis where the text goes on.
    private static func render(
        _ window: [(range: Range<String.UnicodeScalarView.Index>, matches: Bool)], in scalars: String.UnicodeScalarView
    ) -> String {
        guard let first = window.first, let last = window.last else { return "" }
        var out = first.range.lowerBound == scalars.startIndex ? "" : "…"
        var previousEnd = first.range.lowerBound
        for (range, matches) in window {
            out += spaced(scalars[previousEnd..<range.lowerBound])
            let piece = String(scalars[range])
            out += matches ? "[" + piece + "]" : piece
            previousEnd = range.upperBound
        }
        // No word after the window: it ends as the text does, without an ellipsis.
        guard scalars[last.range.upperBound...].contains(where: isWordScalar) else {
            return (out + spaced(scalars[last.range.upperBound...])).trimmingCharacters(in: .whitespaces)
        }
        return out + "…"
    }

    /// What separates two words, with line breaks made spaces.
    private static func spaced(_ separator: Substring.UnicodeScalarView) -> String {
        String(String.UnicodeScalarView(separator.map { $0 == "\n" || $0 == "\r" || $0 == "\t" ? " " : $0 }))
    }

    /// Letters, digits and marks make words, as in unicode61 (marks are left out when folded).
    static func isWordScalar(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII {
            let value = scalar.value
            return (0x30...0x39).contains(value) || (0x41...0x5A).contains(value) || (0x61...0x7A).contains(value)
        }
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter, .decimalNumber,
            .letterNumber, .otherNumber, .nonspacingMark, .spacingMark, .enclosingMark, .privateUse:
            return true
        default:
            return false
        }
    }

    /// `scalar` without case or diacritics (none, for a combining mark).
    private mutating func fold(_ scalar: Unicode.Scalar) -> [Unicode.Scalar] {
        Self.fold(scalar, cache: &folded)
    }

    private static func fold(_ scalar: Unicode.Scalar, cache: inout [UInt32: [Unicode.Scalar]]) -> [Unicode.Scalar] {
        if scalar.isASCII {
            return [(0x41...0x5A).contains(scalar.value) ? Unicode.Scalar(scalar.value | 0x20)! : scalar]
        }
        if let known = cache[scalar.value] { return known }
        let result = Array(
            String(scalar).folding(options: [.caseInsensitive, .diacriticInsensitive], locale: nil).unicodeScalars)
        cache[scalar.value] = result
        return result
    }

    /// The folded words of `text`.
    private static func words(of text: some StringProtocol, folding cache: inout [UInt32: [Unicode.Scalar]]) -> [[Unicode.Scalar]]
    {
        var words: [[Unicode.Scalar]] = []
        var current: [Unicode.Scalar] = []
        for scalar in text.unicodeScalars {
            if isWordScalar(scalar) {
                current += fold(scalar, cache: &cache)
            } else if !current.isEmpty {
                words.append(current)
                current = []
            }
        }
        if !current.isEmpty { words.append(current) }
        return words
    }
}
