import Foundation

/// Chooses the main text of a parsed page: paragraphs are scored and their scores given to their ancestors, the best
/// ancestor and its like siblings are the article, and boilerplate inside it is cleaned away. The scoring follows
/// Mozilla Readability, on flat arrays instead of a live DOM; a host's learnt template removes blocks before scoring.
struct Selection {
    private let document: HTMLDocument
    private let template: Set<UInt64>
    private let title: String?
    /// The `h1`–`h3` elements whose text is the page's title (or the title with the site's name around it).
    private let titleMatches: [Int]
    private let byline: String?
    private var groups: [Group] = []

    /// The runs of one paragraph: `firstRun..<endRun`, all inside `block`.
    private struct Group {
        var firstRun: Int
        var endRun: Int
        var block: Int
        var fingerprint: UInt64
        var letters: Int32
    }

    /// Text and element counts of a subtree, leaving out what a pass excludes.
    private struct Stats {
        var letters: Int32 = 0
        var linkLetters: Int32 = 0
        var commas: Int32 = 0
        var paragraphs: Int32 = 0
        var images: Int32 = 0
        var listItems: Int32 = 0
        var inputs: Int32 = 0
        var embeds: Int32 = 0
        var topHeadings: Int32 = 0
        var headings: Int32 = 0
        var headingLetters: Int32 = 0
        var articles: Int32 = 0

        var linkDensity: Double { letters == 0 ? 0 : Double(linkLetters) / Double(letters) }

        static func += (lhs: inout Stats, rhs: Stats) {
            lhs.letters += rhs.letters
            lhs.linkLetters += rhs.linkLetters
            lhs.commas += rhs.commas
            lhs.paragraphs += rhs.paragraphs
            lhs.images += rhs.images
            lhs.listItems += rhs.listItems
            lhs.inputs += rhs.inputs
            lhs.embeds += rhs.embeds
            lhs.topHeadings += rhs.topHeadings
            lhs.headings += rhs.headings
            lhs.headingLetters += rhs.headingLetters
            lhs.articles += rhs.articles
        }
    }

    /// The least text a pass must find under the page's title to be taken before the later passes are tried.
    private static let titledLength = 150

    /// What a pass may do; each retry gives up one of them, as Readability does when too little text is left.
    private struct Pass {
        var stripUnlikely = true
        var weightClasses = true
        var cleanConditionally = true
    }

    init(_ document: HTMLDocument, template: Set<UInt64>, title: String?, byline: String?) {
        self.document = document
        self.template = template
        self.title = title.map(normalise)
        self.byline = byline.map(normalise)
        titleMatches = Selection.headings(of: document, matching: self.title)
        groupRuns()
    }

    /// Fingerprints of every paragraph of the page that has a letter in it.
    func fingerprints() -> [UInt64] { groups.filter { $0.letters > 0 }.map(\.fingerprint) }

    /// The article's paragraphs: the first pass that keeps enough text wins, else the longest; but once a pass finds
    /// text under the page's title, only text under the title can take its place (a short post: what the later passes
    /// add back is what the first set aside, sidebars and widgets).
    mutating func paragraphs() -> [String] {
        let passes = [
            Pass(), Pass(stripUnlikely: false), Pass(stripUnlikely: false, weightClasses: false),
            Pass(stripUnlikely: false, weightClasses: false, cleanConditionally: false),
        ]
        var best: [String] = []
        var bestLength = -1
        var bestTitled = false
        for pass in passes {
            let (paragraphs, titled) = run(pass)
            let length = paragraphs.reduce(0) { $0 + $1.count }
            let underTitle = titled && length >= Self.titledLength
            if bestTitled && !underTitle { continue }
            if length >= 500 { return paragraphs }
            if length > bestLength || (underTitle && !bestTitled) {
                best = paragraphs
                bestLength = length
                bestTitled = underTitle
            }
        }
        return best.isEmpty ? onlyBlock() : best
    }

    /// The page's text when all of it is one block outside links ("Test"): a lone word is chrome beside an article,
    /// but on a page of nothing else it is what the page says.
    private func onlyBlock() -> [String] {
        let blocks = groups.filter { $0.letters > 0 && !template.contains($0.fingerprint) }
        guard blocks.count == 1, let block = blocks.first else { return [] }
        let runs = document.runs[block.firstRun..<block.endRun]
        guard !runs.contains(where: \.inLink) else { return [] }
        let text = normalise(String(decoding: runs.flatMap { document.bytes($0) }, as: UTF8.self))
        return text.isEmpty ? [] : [text]
    }

    private mutating func groupRuns() {
        let runs = document.runs
        var index = 0
        while index < runs.count {
            let first = index
            // The block's bytes with white space collapsed, as the text will read.
            var hash = FNV1a()
            var letters: Int32 = 0
            var pendingSpace = false
            var started = false
            while index < runs.count, runs[index].paragraph == runs[first].paragraph {
                letters += runs[index].letters
                for byte in document.bytes(runs[index]) {
                    if HTMLDocument.isSpace(byte) {
                        pendingSpace = started
                        continue
                    }
                    if pendingSpace { hash.add(0x20) }
                    pendingSpace = false
                    started = true
                    hash.add(byte)
                }
                index += 1
            }
            groups.append(
                Group(
                    firstRun: first, endRun: index, block: Int(runs[first].block), fingerprint: hash.value, letters: letters))
        }
    }

    // MARK: - One pass

    /// The text a pass finds, and whether it stands under a heading that carries the page's title.
    private func run(_ pass: Pass) -> (paragraphs: [String], titled: Bool) {
        let nodes = document.nodes
        let runs = document.runs
        let count = nodes.count

        // Elements left out of this pass, inherited by their subtrees.
        var excluded = [Bool](repeating: false, count: count)
        for index in 1..<count {
            let node = nodes[index]
            if excluded[Int(node.parent)] {
                excluded[index] = true
                continue
            }
            switch node.tag {
            case .nav, .footer, .menu: excluded[index] = true
            // An aside is a sidebar, unless its class says it is the post (some templates put the article in one).
            case .aside: excluded[index] = !pass.weightClasses || node.classWeight <= 0
            case .body, .article, .main, .a, .html: break
            default:
                excluded[index] =
                    node.flags.contains(.landmark)
                    || (node.flags.contains(.comments) && !node.flags.contains(.articleBody))
                    || (pass.stripUnlikely && node.flags.contains(.unlikely) && !node.flags.contains(.articleBody))
            }
        }
        var runIncluded = [Bool](repeating: false, count: runs.count)
        for group in groups where !template.contains(group.fingerprint) {
            for index in group.firstRun..<group.endRun where !excluded[Int(runs[index].owner)] {
                runIncluded[index] = true
            }
        }

        // Subtree statistics: runs to their owners, then children into parents (children come after parents).
        var stats = [Stats](repeating: Stats(), count: count)
        for (index, run) in runs.enumerated() where runIncluded[index] {
            stats[Int(run.owner)].letters += run.letters
            stats[Int(run.owner)].commas += Int32(run.commas)
            if run.inLink { stats[Int(run.owner)].linkLetters += run.letters }
        }
        for index in stride(from: count - 1, through: 1, by: -1) where !excluded[index] {
            switch nodes[index].tag {
            case .p: stats[index].paragraphs += 1
            case .img: stats[index].images += 1
            case .li: stats[index].listItems += 1
            case .input: stats[index].inputs += 1
            case .embed, .object, .iframe, .video, .audio: stats[index].embeds += 1
            case .h1, .h2, .h3, .h4, .h5, .h6:
                if nodes[index].tag == .h1 { stats[index].topHeadings += 1 }
                stats[index].headings += 1
                stats[index].headingLetters = stats[index].letters
            case .article: stats[index].articles += 1
            default: break
            }
            stats[Int(nodes[index].parent)] += stats[index]
        }

        // Paragraph scores, given to up to five ancestors.
        var scores = [Double](repeating: 0, count: count)
        var scored = [Bool](repeating: false, count: count)
        func initialise(_ index: Int) {
            guard !scored[index] else { return }
            scored[index] = true
            var score: Double
            switch nodes[index].tag {
            case .div, .article, .main, .section: score = 5
            case .pre, .td, .blockquote: score = 3
            case .address, .ol, .ul, .dl, .dd, .dt, .li, .form: score = -3
            case .h1, .h2, .h3, .h4, .h5, .h6, .th: score = -5
            default: score = 0
            }
            if pass.weightClasses { score += Double(nodes[index].classWeight) }
            if nodes[index].flags.contains(.articleBody) { score += 25 }
            scores[index] = score
        }
        for group in groups {
            let block = group.block
            guard block > 0, !excluded[block], isScorable(nodes[block].tag) else { continue }
            var letters: Int32 = 0
            var commas: Int32 = 0
            for index in group.firstRun..<group.endRun where runIncluded[index] {
                letters += runs[index].letters
                commas += Int32(runs[index].commas)
            }
            guard letters >= 25 else { continue }
            let score = 1 + Double(commas) + Double(min(letters / 100, 3))
            var ancestor = Int(nodes[block].parent)
            var level = 0
            while ancestor > 0, level < 5 {
                initialise(ancestor)
                scores[ancestor] += score / (level == 0 ? 1 : level == 1 ? 2 : Double(level * 3))
                ancestor = Int(nodes[ancestor].parent)
                level += 1
            }
        }
        var top = 0
        for index in 1..<count where scored[index] {
            scores[index] *= 1 - stats[index].linkDensity
            if top == 0 || scores[index] > scores[top] { top = index }
        }
        guard top > 0 else { return (texts(of: [bodyIndex()], excluded: excluded, runIncluded: runIncluded), false) }

        // The page names its article: when the best candidate stands under another heading than the page's title and
        // a candidate with a fair share of its score and text stands under the title, that one is the article (a page
        // that carries a second, longer article after its own).
        let titled = titleHeadings(excluded: excluded)
        let nearest = titled.isEmpty ? [] : nearestHeadings(titled: titled)
        let topHeading = titled.isEmpty ? -1 : heading(of: top, nearest: nearest, runIncluded: runIncluded)
        if topHeading >= 0, !titled.contains(topHeading) {
            var named = 0
            for index in 1..<count
            where scored[index] && scores[index] >= scores[top] * 0.2 && stats[index].letters * 4 >= stats[top].letters {
                guard titled.contains(heading(of: index, nearest: nearest, runIncluded: runIncluded)) else { continue }
                if named == 0 || scores[index] > scores[named] { named = index }
            }
            if named > 0 { top = named }
        }

        // Climb while an ancestor scores as well as the best, then past ancestors that only wrap it.
        let threshold = scores[top] / 3
        var lastScore = scores[top]
        var ancestor = Int(nodes[top].parent)
        while ancestor > 0, nodes[ancestor].tag != .body {
            if scored[ancestor] {
                if scores[ancestor] < threshold { break }
                if scores[ancestor] > lastScore {
                    top = ancestor
                    break
                }
                lastScore = scores[ancestor]
            }
            ancestor = Int(nodes[ancestor].parent)
        }
        while nodes[top].parent > 0, nodes[Int(nodes[top].parent)].tag != .body,
            children(of: Int(nodes[top].parent), excluded: excluded).count == 1
        {
            top = Int(nodes[top].parent)
        }

        // A page that carries two articles: the larger one, not both.
        if stats[top].articles - (nodes[top].tag == .article ? 1 : 0) >= 2 {
            var largest = top
            for index in (top + 1)..<Int(nodes[top].end) where nodes[index].tag == .article && !excluded[index] {
                if largest == top || stats[index].letters > stats[largest].letters { largest = index }
            }
            top = largest
        }

        // The best element and those of its siblings that look like more of the same article.
        var roots: [Int] = []
        let siblingThreshold = max(10, scores[top] * 0.2)
        let parent = Int(nodes[top].parent)
        for sibling in parent > 0 ? children(of: parent, excluded: excluded) : [top] {
            if sibling == top {
                roots.append(sibling)
                continue
            }
            // A second article on the page stays out of the first.
            if nodes[sibling].tag == .article || (stats[sibling].topHeadings > 0 && opensWithTopHeading(sibling, stats)) {
                continue
            }
            var bonus = 0.0
            if nodes[sibling].classHash != 0, nodes[sibling].classHash == nodes[top].classHash { bonus = scores[top] * 0.2 }
            if scored[sibling], scores[sibling] + bonus >= siblingThreshold {
                roots.append(sibling)
            } else if nodes[sibling].tag == .p {
                let density = stats[sibling].linkDensity
                let letters = stats[sibling].letters
                if letters > 80, density < 0.25 {
                    roots.append(sibling)
                } else if letters > 0, letters <= 80, density == 0, endsSentence(sibling) {
                    roots.append(sibling)
                }
            }
        }

        roots = (roots + repeatedSections(of: top, roots: roots, stats: stats, excluded: excluded)).sorted()

        // Clean inside the article: what is excluded, forms and share bars, headings that repeat the title,
        // and containers that look like lists of links, image galleries or widgets.
        var removed = excluded
        // An h1 before the article's first paragraph is its headline (the title); one further down heads a section.
        let firstParagraph =
            roots.lazy.compactMap { root in (root..<Int(nodes[root].end)).first { nodes[$0].tag == .p } }
            .first ?? count
        for root in roots {
            for index in root..<Int(nodes[root].end) {
                if removed[index] { continue }
                if index != root, removed[Int(nodes[index].parent)] {
                    removed[index] = true
                    continue
                }
                let node = nodes[index]
                let stat = stats[index]
                switch node.tag {
                case .fieldset, .footer, .aside, .nav, .figcaption, .caption:
                    removed[index] = index != root
                case .h1:
                    removed[index] = index < firstParagraph
                case .h2 where pass.weightClasses && node.classWeight < 0, .h3 where pass.weightClasses && node.classWeight < 0:
                    removed[index] = true
                default:
                    if node.flags.contains(.share), stat.letters < 500 { removed[index] = true }
                }
                if node.tag.isHeading, !removed[index], let title, headingText(index) == title { removed[index] = true }
                if !removed[index], pass.cleanConditionally, index != root || roots.count > 1 {
                    removed[index] = shouldClean(index, stat: stat, pass: pass)
                }
            }
        }
        return (texts(of: roots, excluded: removed, runIncluded: runIncluded), isTitled(top, by: titled))
    }

    private func isScorable(_ tag: Tag) -> Bool {
        switch tag {
        case .p, .tr, .td, .pre, .div, .section, .blockquote, .h2, .h3, .h4, .h5, .h6, .article, .main, .center, .other: true
        default: false
        }
    }

    /// Readability's conditional cleaning: a container whose class says boilerplate is dropped, and one with few
    /// commas when its images, list items, inputs, links or embeds outweigh its paragraphs. Its own score does not
    /// count (as in Readability.js): lists and forms start below zero and would all go.
    private func shouldClean(_ index: Int, stat: Stats, pass: Pass) -> Bool {
        let node = document.nodes[index]
        switch node.tag {
        case .div, .section, .ul, .ol, .table, .form, .header, .dl, .figure: break
        default: return false
        }
        let weight = pass.weightClasses ? Double(node.classWeight) : 0
        if weight < 0 { return true }
        let isList = node.tag == .ul || node.tag == .ol || node.tag == .dl
        if isList, stat.linkDensity > 0.5 { return true }
        // Items that each carry a heading and a little text besides are other stories, each with its teaser.
        if isList, stat.listItems >= 3, stat.headings >= stat.listItems, stat.headingLetters * 2 < stat.letters {
            return true
        }
        guard stat.commas < 10 else { return false }
        let paragraphs = Double(stat.paragraphs)
        let images = Double(stat.images)
        let inFigure = node.tag == .figure || hasAncestor(index, .figure)
        let density = stat.linkDensity
        if images > 1, paragraphs / images < 0.5, !inFigure { return true }
        if !isList, Double(stat.listItems - 100) > paragraphs { return true }
        if Double(stat.inputs) > (paragraphs / 3).rounded(.down) { return true }
        if !isList, stat.letters < 25, images == 0 || images > 2, !inFigure { return true }
        if !isList, weight < 25, density > 0.2 { return true }
        if weight >= 25, density > 0.5 { return true }
        if (stat.embeds == 1 && stat.letters < 75) || stat.embeds > 1 { return true }
        return false
    }

    /// The later sections of an article whose markup repeats them (a how-to's steps, each in a block of one class,
    /// wrapped or with ads between them, so that they are cousins of the best element rather than siblings). The
    /// nearest of `top` and its ancestors (three levels up at most) with a class that two or more later elements of the
    /// same tag and class share, within three levels of its parent, each with text, links under a quarter of it and no
    /// heading of its own (a page of several titled posts stays one post); those not inside `roots` already.
    private func repeatedSections(of top: Int, roots: [Int], stats: [Stats], excluded: [Bool]) -> [Int] {
        let nodes = document.nodes
        var section = top
        for _ in 0..<4 {
            defer { section = Int(nodes[section].parent) }
            guard section > 0, nodes[section].tag != .body else { return [] }
            guard nodes[section].classHash != 0 else { continue }
            let parent = Int(nodes[section].parent)
            guard parent > 0 else { return [] }
            var found: [Int] = []
            var index = Int(nodes[section].end)
            let end = Int(nodes[parent].end)
            while index < end {
                if excluded[index] {
                    index = Int(nodes[index].end)
                    continue
                }
                if nodes[index].tag == nodes[section].tag, nodes[index].classHash == nodes[section].classHash,
                    stands(index, within: 3, below: parent)
                {
                    let stat = stats[index]
                    if stat.letters > 0, stat.headings == 0, stat.linkDensity < 0.25 { found.append(index) }
                    index = Int(nodes[index].end)
                    continue
                }
                index += 1
            }
            guard found.count >= 2 else { continue }
            // A section the sibling rule took already is left out: it is a root or one stands above it, below `parent`.
            let taken = Set(roots)
            return found.filter { candidate in
                var element = candidate
                while element > parent {
                    if taken.contains(element) { return false }
                    element = Int(nodes[element].parent)
                }
                return true
            }
        }
        return []
    }

    /// Whether `ancestor` is one of the `levels` nearest ancestors of `index`.
    private func stands(_ index: Int, within levels: Int, below ancestor: Int) -> Bool {
        var node = index
        for _ in 0..<levels {
            node = Int(document.nodes[node].parent)
            if node == ancestor { return true }
        }
        return false
    }

    /// Whether `index` holds an `h1` with no paragraph of text before it: a headline that starts another article,
    /// where an `h1` after a paragraph heads a section of the same one.
    private func opensWithTopHeading(_ index: Int, _ stats: [Stats]) -> Bool {
        for element in index..<Int(document.nodes[index].end) {
            switch document.nodes[element].tag {
            case .h1: return true
            case .p where stats[element].letters > 0: return false
            default: continue
            }
        }
        return false
    }

    // MARK: - Tree helpers

    private func bodyIndex() -> Int {
        document.nodes.firstIndex { $0.tag == .body } ?? 0
    }

    private func children(of index: Int, excluded: [Bool]) -> [Int] {
        var result: [Int] = []
        var child = index + 1
        let end = Int(document.nodes[index].end)
        while child < end {
            if !excluded[child] { result.append(child) }
            child = Int(document.nodes[child].end)
        }
        return result
    }

    private func hasAncestor(_ index: Int, _ tag: Tag) -> Bool {
        var ancestor = Int(document.nodes[index].parent)
        while ancestor > 0 {
            if document.nodes[ancestor].tag == tag { return true }
            ancestor = Int(document.nodes[ancestor].parent)
        }
        return false
    }

    private func endsSentence(_ index: Int) -> Bool {
        let node = document.nodes[index]
        for run in document.runs[Int(node.firstRun)..<Int(node.endRun)].reversed() {
            if let last = document.bytes(run).last(where: { $0 > 0x20 }) {
                return last == UInt8(ascii: ".") || last == UInt8(ascii: "!") || last == UInt8(ascii: "?")
            }
        }
        return false
    }

    /// The `h1`–`h3` elements of `document` whose text is `title` (or the title with the site's name around it).
    private static func headings(of document: HTMLDocument, matching title: String?) -> [Int] {
        guard let title else { return [] }
        let wanted = folded(title)
        guard wanted.count >= 10 else { return [] }
        return document.nodes.indices.filter { index in
            guard document.nodes[index].tag.headingLevel <= 3 else { return false }
            let text = folded(headingText(index, in: document))
            guard text.count >= 10 else { return false }
            let (short, long) = text.count <= wanted.count ? (text, wanted) : (wanted, text)
            return short == long || (short.count * 2 >= long.count && (long.hasPrefix(short) || long.hasSuffix(short)))
        }
    }

    /// The title's headings this pass reads, at the most prominent level that has one: the same words in a list of
    /// other stories further down are not the title.
    private func titleHeadings(excluded: [Bool]) -> Set<Int> {
        let found = titleMatches.filter { !excluded[$0] }
        let level = found.map { document.nodes[$0].tag.headingLevel }.min() ?? 1
        return Set(found.filter { document.nodes[$0].tag.headingLevel == level })
    }

    /// For every element, the nearest heading at or before it in document order at the level of the title's
    /// headings or above (-1 when none): a subheading or a dek under the title does not start another article.
    private func nearestHeadings(titled: Set<Int>) -> [Int32] {
        let level = titled.map { document.nodes[$0].tag.headingLevel }.min() ?? 1
        var nearest = [Int32](repeating: -1, count: document.nodes.count)
        var last: Int32 = -1
        for (index, node) in document.nodes.enumerated() {
            if node.tag.headingLevel <= level { last = Int32(index) }
            nearest[index] = last
        }
        return nearest
    }

    /// Whether one of the title's `headings` heads the element `index`: inside it, or inside the parent or grandparent
    /// of the heading (a post's title and its text, side by side in one container). Standing after the title in the
    /// page is not enough: a sidebar that follows the post does too.
    private func isTitled(_ index: Int, by headings: Set<Int>) -> Bool {
        let nodes = document.nodes
        func contains(_ container: Int, _ element: Int) -> Bool {
            container <= element && element < Int(nodes[container].end)
        }
        return headings.contains { heading in
            if contains(index, heading) { return true }
            var container = Int(nodes[heading].parent)
            for _ in 0..<2 {
                guard container > 0, nodes[container].tag != .body else { return false }
                if contains(container, index) { return true }
                container = Int(nodes[container].parent)
            }
            return false
        }
    }

    /// The heading `index` stands under: the nearest one before its first text (-1 when none).
    private func heading(of index: Int, nearest: [Int32], runIncluded: [Bool]) -> Int {
        let node = document.nodes[index]
        guard
            let first = (Int(node.firstRun)..<Int(node.endRun)).first(where: {
                runIncluded[$0] && document.runs[$0].letters > 0
            })
        else { return -1 }
        return Int(nearest[Int(document.runs[first].owner)])
    }

    private func headingText(_ index: Int) -> String { Selection.headingText(index, in: document) }

    private static func headingText(_ index: Int, in document: HTMLDocument) -> String {
        let node = document.nodes[index]
        var bytes: [UInt8] = []
        for run in document.runs[Int(node.firstRun)..<Int(node.endRun)] { bytes += document.bytes(run) }
        return normalise(String(decoding: bytes, as: UTF8.self))
    }

    /// The paragraphs under `roots`, leaving out excluded elements, template blocks and lone links or words; a short
    /// paragraph repeated back to back is kept once.
    private func texts(of roots: [Int], excluded: [Bool], runIncluded: [Bool]) -> [String] {
        var paragraphs: [String] = []
        var bytes: [UInt8] = []
        var letters: Int32 = 0
        var linkLetters: Int32 = 0
        var paragraph: Int32 = -1
        func flush() {
            defer {
                bytes.removeAll(keepingCapacity: true)
                letters = 0
                linkLetters = 0
            }
            // A paragraph that is all link is a pointer elsewhere ("Read more", related stories).
            guard letters > 0, Double(linkLetters) < Double(letters) * 0.8 else { return }
            let text = normalise(String(decoding: bytes, as: UTF8.self))
            // A short line repeated back to back (a caption, a label) is kept once; the author's own paragraphs stay.
            guard !text.isEmpty, text.count >= 200 || paragraphs.last != text, !isChrome(text) else { return }
            paragraphs.append(text)
        }
        for root in roots {
            let node = document.nodes[root]
            for index in Int(node.firstRun)..<Int(node.endRun) where runIncluded[index] {
                let run = document.runs[index]
                guard !excluded[Int(run.owner)] else { continue }
                if run.paragraph != paragraph {
                    flush()
                    paragraph = run.paragraph
                }
                bytes += document.bytes(run)
                letters += run.letters
                if run.inLink { linkLetters += run.letters }
            }
            flush()
        }
        return paragraphs
    }

    /// A lone word without punctuation ("Advertisement", "Comments") or a short line naming the author. Text in a
    /// script written without spaces between words (Chinese, Japanese, Thai) is never a lone word.
    private func isChrome(_ text: String) -> Bool {
        if !text.contains(" "), let last = text.unicodeScalars.last, CharacterSet.letters.contains(last),
            !text.unicodeScalars.contains(where: Selection.isUnspaced)
        {
            return true
        }
        guard text.count < 100 else { return false }
        if startsAsByline(text) { return true }
        if let byline, byline.count > 3, text.count < byline.count + 40, text.contains(byline) { return true }
        return false
    }

    /// Scripts written without spaces between words: Thai, Lao, Khmer, kana, CJK ideographs.
    private static func isUnspaced(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x0E00...0x0EFF, 0x1780...0x17FF, 0x3040...0x30FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xF900...0xFAFF: true
        default: false
        }
    }
}
