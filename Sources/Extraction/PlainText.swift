import Foundation

/// The article in a page of plain text (a text/plain page, or a page saved as text): no markup tells the article from
/// the site around it, so the lines do. Each line is a paragraph; captions and labels rendered twice go; prose (long
/// lines that read as sentences) forms runs, and the article is the run the page's first line names as its headline,
/// else the longest. Navigation, lists of other stories, newsletter boxes and footers are not prose and stay out; a
/// page without any prose keeps all its lines.
struct PlainText {
    private(set) var title: String?
    private(set) var paragraphs: [String] = []

    /// Non-prose lines that may stand between two prose lines of one article (a byline, a date, a subheading).
    private static let maximumGap = 3

    init(_ text: String) {
        let lines = PlainText.paragraphs(of: text)
        guard !lines.isEmpty else { return }
        let kept = PlainText.withoutRepeats(lines)
        let prose = lines.map(PlainText.isProse)

        // Runs of prose lines (first and last line, letters), with short gaps of other lines inside.
        var runs: [(first: Int, last: Int, letters: Int)] = []
        var gap = PlainText.maximumGap + 1
        for line in lines.indices where kept[line] {
            guard prose[line] else {
                gap = min(gap + 1, PlainText.maximumGap + 1)
                continue
            }
            if gap <= PlainText.maximumGap, let current = runs.last {
                runs[runs.count - 1] = (current.first, line, current.letters + lines[line].count)
            } else {
                runs.append((line, line, lines[line].count))
            }
            gap = 0
        }
        guard var best = runs.max(by: { $0.letters < $1.letters }) else {
            // No prose at all (a list, a poem, a notice): every line is the text.
            paragraphs = lines.indices.filter { kept[$0] }.map { lines[$0] }
            return
        }

        // The headline of a run: the nearest line before it, near, that may be a headline (repeated ones too).
        func headline(before first: Int) -> Int? {
            var line = first - 1
            while line >= 0, first - line <= 4 * PlainText.maximumGap {
                if !prose[line], PlainText.isHeadline(lines[line]) { return line }
                line -= 1
            }
            return nil
        }
        // A page that carries a second article: the one under the page's own headline, its first line.
        let pageTitle = folded(lines[0])
        if let named = runs.first(where: { run in
            run.last > run.first && headline(before: run.first).map { folded(lines[$0]) == pageTitle } == true
        }) {
            best = named
        }
        title = headline(before: best.first).map { lines[$0] }

        for line in best.first...best.last where kept[line] && (prose[line] || PlainText.isSubheading(lines[line])) {
            paragraphs.append(lines[line])
        }
    }

    /// The text's paragraphs: its lines, or, when the text is wrapped at a fixed width (nearly every line 80
    /// characters or fewer, as in mail, notices and releases kept as text), its blocks between blank lines, each
    /// joined into one line.
    private static func paragraphs(of text: String) -> [String] {
        let raw = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).map { normalise(String($0)) }
        let filled = raw.filter { !$0.isEmpty }
        let long = filled.count { $0.count > 80 }
        let blocks = raw.split(whereSeparator: \.isEmpty)
        guard filled.count >= 4, long * 20 <= filled.count, blocks.count < filled.count else { return filled }
        return blocks.map { $0.joined(separator: " ") }
    }

    /// Which lines are not rendered twice: a line repeated back to back, a line next to one that contains it (a
    /// caption, then the caption without its credit, then the credit) and a line that is one text written twice are
    /// all left out, every copy of them.
    private static func withoutRepeats(_ lines: [String]) -> [Bool] {
        var kept = [Bool](repeating: true, count: lines.count)
        for index in lines.indices {
            let line = lines[index]
            if isDoubled(line) { kept[index] = false }
            for other in (index + 1)..<min(lines.count, index + 3) {
                let (short, long) = lines[other].count <= line.count ? (lines[other], line) : (line, lines[other])
                if short.count >= 20, long.contains(short) {
                    kept[index] = false
                    kept[other] = false
                }
            }
        }
        return kept
    }

    /// One text written twice in a row, as a caption whose alternative text runs into it.
    private static func isDoubled(_ line: String) -> Bool {
        let characters = Array(line)
        guard characters.count >= 40, characters.count % 2 == 0 else { return false }
        let half = characters.count / 2
        return characters[..<half] == characters[half...]
    }

    /// A line that reads as sentences: eight words or more, some of them lowercase (navigation is capitalised), ending
    /// as a sentence ends.
    private static func isProse(_ line: String) -> Bool {
        let words = line.split(separator: " ")
        guard words.count >= 8, let last = line.unicodeScalars.last else { return false }
        let lowercase = words.count { $0.first?.isLowercase == true }
        guard lowercase * 10 >= words.count * 3 else { return false }
        return ".!?\"”’'…:".unicodeScalars.contains(last)
    }

    /// A line that may be a headline: three to thirty words, not a byline, not mostly digits, not ending as a
    /// sentence or a caption's credit does.
    private static func isHeadline(_ line: String) -> Bool {
        let words = line.split(separator: " ")
        guard words.count >= 3, words.count <= 30, !startsAsByline(line), let last = line.last, !".)]".contains(last) else {
            return false
        }
        return isMostlyLetters(line)
    }

    /// A short line inside an article kept as its subheading: a few words with lowercase letters, not a byline.
    private static func isSubheading(_ line: String) -> Bool {
        let words = line.split(separator: " ")
        return words.count >= 3 && words.count <= 15 && !startsAsByline(line) && line.contains { $0.isLowercase }
            && isMostlyLetters(line)
    }

    /// Mostly letters, not digits, dates or marks.
    private static func isMostlyLetters(_ line: String) -> Bool {
        line.count { $0.isLetter } * 2 > line.count
    }
}
