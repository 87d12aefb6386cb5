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
    mutating func make(_ text: String, title: String? = nil) -> String {
        var text = text
        return text.withUTF8 { make(utf8: $0, title: title) }
    }

    /// The snippet of a text given as its UTF-8 bytes (as SQLite holds it), whose title is `title`; only the part read
    /// is decoded.
    ///
    /// The reading starts shortly before the first place a term stands as a word in the text as typed or folded, in
    /// lower case, capitalised or in capitals (a byte search), and decodes a KB from there. Where none does, the
    /// match was in the title (the opening words, when the title holds a term) or in a form only folding finds
    /// (other diacritics, mixed case): then it reads the first 8,192 characters, and takes the opening words when
    /// no term is there either.
    mutating func make(utf8 text: UnsafeBufferPointer<UInt8>, title: String? = nil) -> String {
        // Forward to a scalar's first byte.
        func boundary(_ offset: Int) -> Int {
            var offset = min(offset, text.count)
            while offset < text.count, text[offset] & 0xC0 == 0x80 { offset += 1 }
            return offset
        }
        var tries: [(range: Range<Int>, limit: Int?)] = []
        if let at = earliestLiteral(in: text) {
            // Back up far enough for the words that lead the window.
            let from = boundary(max(0, at - 160))
            tries += [(from..<boundary(at + 1024), nil), (from..<text.count, nil)]
        } else if let title, matches(title) {
            // The opening words, without looking for a match.
            tries += [(0..<boundary(1024), 0)]
        }
        // 8,192 characters are at most four times as many bytes; the window after them, a few KB more.
        tries += [(0..<boundary(4 * 8192 + 4096), 8192), (0..<text.count, 8192)]
        var previous: (range: Range<Int>, limit: Int?)?
        for (range, limit) in tries where range != previous?.range || limit != previous?.limit {
            previous = (range, limit)
            if let made = excerpt(of: text, range, limit: limit) { return made }
        }
        // The last try (the whole text, opening words when nothing matches) always makes one.
        return ""
    }

    /// Whether a term stands in `text`.
    private mutating func matches(_ text: String) -> Bool {
        matchWindow(in: text.unicodeScalars, from: text.unicodeScalars.startIndex, limit: nil) != nil
    }

    /// The snippet made of `range` of `text` alone (from a word's start after its first byte, where that is not the
    /// text's): the window at the first match within `limit` characters, the opening words (with a `limit`) when
    /// there is none, or `nil` when there is none or the part ends before the window is full.
    private mutating func excerpt(of text: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, limit: Int?) -> String? {
        let part = String(decoding: UnsafeBufferPointer(rebasing: text[range]), as: UTF8.self)
        let scalars = part.unicodeScalars
        let cut = (start: range.lowerBound > 0, end: range.upperBound < text.count)
        var start = scalars.startIndex
        // Past the word the backing-up may have landed in.
        if cut.start { while start < scalars.endIndex, Self.isWordScalar(scalars[start]) { start = scalars.index(after: start) } }
        if let window = matchWindow(in: scalars, from: start, limit: limit) {
            return window.count < Self.size && cut.end ? nil : Self.render(window, in: part, cut: cut)
        }
        guard limit != nil, !cut.start else { return nil }
        let opening = Self.opening(of: scalars)
        return opening.count < Self.size && cut.end ? nil : Self.render(opening.map { ($0, false) }, in: part, cut: cut)
    }

    /// The byte offset of the earliest place a term stands literally in `bytes` as a word (or at a word's start, when
    /// the query has a prefix): a term inside a longer word ("forces" in "reinforces") is no place to read from.
    private func earliestLiteral(in bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        let wholeWords = !terms.contains { $0.prefix }
        var best: Int?
        for literal in literals {
            var from = 0
            // Only the part before the earliest place so far can hold an earlier one.
            while case let end = min(bytes.count, (best ?? bytes.count) + literal.count - 1), from < end,
                let found = Self.find(literal, in: UnsafeBufferPointer(rebasing: bytes[from..<end]))
            {
                let offset = from + found
                if !Self.wordScalar(before: offset, in: bytes)
                    && !(wholeWords && Self.wordScalar(at: offset + literal.count, in: bytes))
                {
                    best = offset
                    break
                }
                from = offset + 1
            }
        }
        return best
    }

    /// Whether a word's scalar starts at byte `offset` of `bytes` (UTF-8; `false` at its end).
    private static func wordScalar(at offset: Int, in bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard offset < bytes.count else { return false }
        if bytes[offset] < 0x80 { return isWordScalar(Unicode.Scalar(bytes[offset])) }
        let scalar = String(decoding: UnsafeBufferPointer(rebasing: bytes[offset..<min(bytes.count, offset + 4)]), as: UTF8.self)
            .unicodeScalars.first
        return scalar.map(isWordScalar) ?? false
    }

    /// Whether a word's scalar ends just before byte `offset` of `bytes` (`false` at its start).
    private static func wordScalar(before offset: Int, in bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard offset > 0 else { return false }
        var start = offset - 1
        while start > 0, offset - start < 4, bytes[start] & 0xC0 == 0x80 { start -= 1 }
        return wordScalar(at: start, in: bytes)
    }

    /// Where `needle` first stands in `bytes`: libc's `memchr` (which scans many bytes at a time) finds each place of
    /// the needle's least common byte, and the rest is compared there.
    private static func find(_ needle: [UInt8], in bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        guard let base = bytes.baseAddress, !needle.isEmpty, bytes.count >= needle.count else { return nil }
        let anchor = needle.indices.min { commonness(needle[$0]) < commonness(needle[$1]) }!
        let byte = Int32(needle[anchor])
        // Where the anchor may stand: from `anchor` to `bytes.count - needle.count + anchor`.
        var at = anchor
        let last = bytes.count - needle.count + anchor
        while at <= last {
            guard let found = memchr(base + at, byte, last - at + 1) else { return nil }
            at = UnsafePointer(found.assumingMemoryBound(to: UInt8.self)) - base
            let start = at - anchor
            if memcmp(base + start, needle, needle.count) == 0 { return start }
            at += 1
        }
        return nil
    }

    /// How often a byte stands in text, roughly (higher is more often): lower-case letters by their frequency in
    /// English, capitals, digits and punctuation rarely; beyond ASCII a scalar's first byte is shared by its whole
    /// script (often), its last bytes are not.
    private static func commonness(_ byte: UInt8) -> Int {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"): 40 - (byFrequency.firstIndex(of: byte) ?? 26)
        case UInt8(ascii: " "), 0xC0...: 50
        case 0x80...: 12
        default: 1
        }
    }

    private static let byFrequency = Array("etaoinshrdlcumwfgypbvkjxqz".utf8)

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
                if scalar.isASCII {
                    word.append(Self.lowercased(scalar))
                } else {
                    word += fold(scalar)
                }
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

    /// The words of `window` with what stands between them, matches marked, and an ellipsis where the text goes on
    /// (`cut`: `scalars` is a part of it that starts or ends before the text does).
    private static func render(
        _ window: [(range: Range<String.Index>, matches: Bool)], in text: String, cut: (start: Bool, end: Bool)
    ) -> String {
        guard let first = window.first, let last = window.last else { return "" }
        var out: [UInt8] = []
        out.reserveCapacity(256)
        if first.range.lowerBound != text.startIndex || cut.start { out += "…".utf8 }
        // What separates two words, with line breaks made spaces.
        func separator(_ range: Range<String.Index>) {
            for byte in text.utf8[range] { out.append(byte == 0x0A || byte == 0x0D || byte == 0x09 ? 0x20 : byte) }
        }
        var previousEnd = first.range.lowerBound
        for (range, matches) in window {
            separator(previousEnd..<range.lowerBound)
            if matches { out.append(UInt8(ascii: "[")) }
            out += text.utf8[range]
            if matches { out.append(UInt8(ascii: "]")) }
            previousEnd = range.upperBound
        }
        // No word after the window: it ends as the text does, without an ellipsis.
        guard cut.end || text.unicodeScalars[last.range.upperBound...].contains(where: isWordScalar) else {
            separator(last.range.upperBound..<text.endIndex)
            return String(decoding: out, as: UTF8.self).trimmingCharacters(in: .whitespaces)
        }
        return String(decoding: out + "…".utf8, as: UTF8.self)
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
        if scalar.isASCII { return [lowercased(scalar)] }
        if let known = cache[scalar.value] { return known }
        let result = Array(
            String(scalar).folding(options: [.caseInsensitive, .diacriticInsensitive], locale: nil).unicodeScalars)
        cache[scalar.value] = result
        return result
    }

    /// An ASCII scalar in lower case.
    private static func lowercased(_ scalar: Unicode.Scalar) -> Unicode.Scalar {
        (0x41...0x5A).contains(scalar.value) ? Unicode.Scalar(UInt8(scalar.value | 0x20)) : scalar
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
