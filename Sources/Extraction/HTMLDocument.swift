import Foundation

/// The element kinds the extractor tells apart; every other element is `other`.
enum Tag: UInt8 {
    case other, html, head, body, title, meta, link, script, style, noscript, template, svg, math, iframe, object, embed
    case canvas, form, button, input, select, textarea, nav, header, footer, aside, menu, main, article, section, div
    case p, br, hr, h1, h2, h3, h4, h5, h6, ul, ol, li, dl, dt, dd, blockquote, pre, table, tr, td, th, caption
    case figure, figcaption, img, a, time, address, center, details, video, audio, fieldset, dialog, area, base, col
    case source, track, wbr, param, label, option

    /// Names packed into a `UInt64` (up to eight lowercase bytes), sorted for binary search.
    private static let keys: [(UInt64, Tag)] = {
        var keys: [(UInt64, Tag)] = []
        for raw in UInt8(1)...Tag.option.rawValue {
            let tag = Tag(rawValue: raw)!
            let name = Array("\(tag)".utf8)
            if name.count <= 8 { keys.append((pack(name[...]), tag)) }
        }
        return keys.sorted { $0.0 < $1.0 }
    }()

    private static func pack(_ name: some Collection<UInt8>) -> UInt64 {
        var key: UInt64 = 0
        for byte in name { key = key << 8 | UInt64(byte | 0x20) }
        return key
    }

    /// The tag a name stands for, case-insensitively.
    static func named(_ name: UnsafeBufferPointer<UInt8>) -> Tag {
        if name.count > 8 {
            if name.count == 10 {
                let lower = name.map { $0 | 0x20 }
                if lower.elementsEqual("blockquote".utf8) { return .blockquote }
                if lower.elementsEqual("figcaption".utf8) { return .figcaption }
            }
            return .other
        }
        let key = pack(name)
        var low = 0
        var high = keys.count
        while low < high {
            let middle = (low + high) / 2
            if keys[middle].0 < key { low = middle + 1 } else { high = middle }
        }
        return low < keys.count && keys[low].0 == key ? keys[low].1 : .other
    }

    /// For elements whose content is raw text up to their end tag, that end tag's name.
    var rawTextEnd: [UInt8]? {
        switch self {
        case .script, .style, .noscript, .textarea, .title, .iframe: Array("\(self)".utf8)
        default: nil
        }
    }

    /// Elements that never have content.
    var isVoid: Bool {
        switch self {
        case .br, .hr, .img, .input, .meta, .link, .area, .base, .col, .embed, .source, .track, .wbr, .param: true
        default: false
        }
    }

    /// Elements whose start closes an open `<p>`.
    var closesParagraph: Bool {
        switch self {
        case .address, .article, .aside, .blockquote, .center, .details, .dialog, .div, .dl, .fieldset, .figcaption, .figure,
            .footer, .form, .h1, .h2, .h3, .h4, .h5, .h6, .header, .hr, .main, .menu, .nav, .ol, .p, .pre, .section, .table,
            .ul, .li, .dd, .dt:
            true
        default: false
        }
    }

    /// Elements that start and end a paragraph of text.
    var isBlock: Bool {
        switch self {
        case .p, .div, .section, .article, .main, .h1, .h2, .h3, .h4, .h5, .h6, .li, .ul, .ol, .blockquote, .pre, .table, .tr,
            .dd, .dt, .dl, .figcaption, .figure, .hr, .address, .center, .header, .footer, .nav, .aside, .caption,
            .details, .form, .fieldset, .body, .menu, .dialog:
            true
        default: false
        }
    }

    /// Elements whose content is never article text.
    var isSkipped: Bool {
        switch self {
        case .script, .style, .noscript, .template, .svg, .math, .iframe, .object, .embed, .canvas, .select, .textarea, .button,
            .head, .title, .video, .audio, .dialog, .option:
            true
        default: false
        }
    }

    var isHeading: Bool { self == .h1 || self == .h2 || self == .h3 || self == .h4 || self == .h5 || self == .h6 }

    /// 1 for `h1` to 6 for `h6`; 7 for any other element.
    var headingLevel: Int {
        switch self {
        case .h1: 1
        case .h2: 2
        case .h3: 3
        case .h4: 4
        case .h5: 5
        case .h6: 6
        default: 7
        }
    }

    /// Elements that may stand in `<head>`; any other start tag ends the head, as in a browser.
    var belongsInHead: Bool {
        switch self {
        case .title, .meta, .link, .script, .style, .noscript, .template, .base: true
        default: false
        }
    }
}

/// Per-element facts taken from its attributes while parsing.
struct NodeFlags: OptionSet {
    let rawValue: UInt16
    /// Class or id names it as something other than content (menus, share bars, comments…).
    static let unlikely = NodeFlags(rawValue: 1 << 0)
    /// Hidden by `hidden`, `aria-hidden` or an inline `display:none`.
    static let hidden = NodeFlags(rawValue: 1 << 1)
    /// A link with a target.
    static let link = NodeFlags(rawValue: 1 << 2)
    /// `itemprop="articleBody"` or similar: the page says this is the text.
    static let articleBody = NodeFlags(rawValue: 1 << 3)
    /// A navigation, banner, footer or sidebar landmark role.
    static let landmark = NodeFlags(rawValue: 1 << 4)
    /// Class or id names it as sharing or social tools.
    static let share = NodeFlags(rawValue: 1 << 5)
    /// Class or id names it as readers' comments or the form for them, which are never the article.
    static let comments = NodeFlags(rawValue: 1 << 6)
}

/// One element, in document order; its subtree is the index range `index..<end`.
struct Node {
    var tag: Tag
    var flags: NodeFlags
    /// +25 for content-like class/id names, -25 for boilerplate-like ones, 0 otherwise.
    var classWeight: Int8
    var parent: Int32
    var end: Int32
    /// The text runs inside this element: `firstRun..<endRun`.
    var firstRun: Int32
    var endRun: Int32
    /// A hash of the class attribute, so siblings of one kind can be recognised.
    var classHash: Int
}

/// A stretch of text inside one element and one paragraph.
struct Run {
    var start: Int32
    var end: Int32
    var owner: Int32
    /// Runs with the same paragraph number belong to one paragraph; block boundaries and `<br>` change it.
    var paragraph: Int32
    /// The innermost block element around the run.
    var block: Int32
    /// Characters that are not white space.
    var letters: Int32
    var commas: Int16
    var inLink: Bool
}

/// A page parsed into flat arrays of elements and text runs, with what its head says about it.
final class HTMLDocument {
    var nodes: [Node] = []
    var runs: [Run] = []
    var text: [UInt8] = []
    /// `meta` name/property/itemprop (lowercased) → content, first occurrence kept.
    var metas: [String: String] = [:]
    var jsonLD: [[UInt8]] = []
    var canonicalLink: String?
    var titleText: [UInt8] = []
    var language: String?
    /// `datetime` of the first `<time>` element, and of the first one marked as the publication date.
    var firstTime: String?
    var publishedTime: String?

    /// Start tags the page holds (elements the parser implies are not counted): none in a page of plain text.
    private(set) var tags = 0

    /// Deeper elements are read as part of the element at this depth, which bounds every walk up the tree.
    static let maximumDepth = 512

    private var open: [Int32] = []
    private var blocks: [Int32] = []
    private var paragraph: Int32 = 0
    private var skipDepth = 0
    private var linkDepth = 0
    private var preDepth = 0
    private var capture: Capture = .none
    private var sawHead = false
    private var sawBody = false

    private enum Capture { case none, title, jsonLD }

    /// Parses `html`, decoded from the encoding ``HTMLEncoding`` finds for it; `http` is the charset HTTP declared.
    static func parse(_ html: UnsafeRawBufferPointer, http: String?) -> HTMLDocument {
        let label = HTMLEncoding.sniff(html, http: http)
        if label == "UTF-8" { return HTMLDocument(utf8: html.bindMemory(to: UInt8.self)) }
        let utf8 = label == "windows-1252" ? HTMLEncoding.windows1252ToUTF8(html) : HTMLEncoding.convert(html, from: label)
        return utf8.withUnsafeBufferPointer { HTMLDocument(utf8: $0) }
    }

    private init(utf8 html: UnsafeBufferPointer<UInt8>) {
        nodes.reserveCapacity(html.count / 64)
        runs.reserveCapacity(html.count / 128)
        text.reserveCapacity(html.count / 4)
        nodes.append(Node(tag: .other, flags: [], classWeight: 0, parent: -1, end: 0, firstRun: 0, endRun: 0, classHash: 0))
        open.append(0)
        blocks.append(0)
        var tokenizer = HTMLTokenizer(html)
        tokenizer.run(
            start: { tag, attributes in
                self.tags += 1
                self.start(tag, attributes)
            }, end: end, text: characters)
        while open.count > 1 { close() }
        nodes[0].end = Int32(nodes.count)
        nodes[0].endRun = Int32(runs.count)
    }

    // MARK: - Tree building

    private func start(_ tag: Tag, _ attributes: Attributes) {
        // As in a browser: one head and one body, the body implied by the first element that belongs in it (which
        // ends an open head, whether or not `</head>` was written).
        switch tag {
        case .html: if open.count > 1 { return }
        case .head:
            if sawHead || sawBody { return }
            sawHead = true
        case .body:
            if sawBody { return }
            closeHead()
            sawBody = true
        default:
            if !tag.belongsInHead, !sawBody { start(.body, .none) }
        }
        impliedEnds(before: tag)
        guard open.count < HTMLDocument.maximumDepth || tag.isVoid else { return }
        var flags: NodeFlags = []
        var classWeight: Int8 = 0
        var classHash = 0
        if !attributes.isEmpty {
            (flags, classWeight, classHash) = classify(tag, attributes)
            collectHead(tag, attributes)
        }
        switch tag {
        case .title where titleText.isEmpty: capture = .title
        case .script:
            if let type = attributes["type"], type.lowercased().contains("ld+json") {
                jsonLD.append([])
                capture = .jsonLD
            }
        default: break
        }
        if tag.isSkipped || flags.contains(.hidden) || skipDepth > 0 { skipDepth += 1 }
        if tag == .pre { preDepth += 1 }
        if flags.contains(.link) { linkDepth += 1 }
        if tag == .br { paragraph += 1 }
        let index = Int32(nodes.count)
        nodes.append(
            Node(
                tag: tag, flags: flags, classWeight: classWeight, parent: open.last!, end: index + 1,
                firstRun: Int32(runs.count), endRun: Int32(runs.count), classHash: classHash))
        open.append(index)
        // Cells of a table row stay one paragraph, their texts apart.
        if tag == .td || tag == .th, skipDepth == 0 { [UInt8(0x20)].withUnsafeBufferPointer { append($0) } }
        if tag.isBlock {
            paragraph += 1
            blocks.append(index)
        }
        if tag.isVoid { close() }
    }

    /// The end tags HTML lets authors leave out: a block closes an open `<p>`, a list item the previous one, a cell
    /// or row the previous cell or row, a heading an open heading, a link an open link.
    private func impliedEnds(before tag: Tag) {
        func closeOpen(_ isTarget: (Tag) -> Bool, stoppingAt isBoundary: (Tag) -> Bool) {
            for position in stride(from: open.count - 1, to: max(0, open.count - 64), by: -1) {
                let current = nodes[Int(open[position])].tag
                if isTarget(current) {
                    while open.count > position { close() }
                    return
                }
                if isBoundary(current) { return }
            }
        }
        func isTableScope(_ tag: Tag) -> Bool { tag == .table || tag == .td || tag == .th || tag == .html }
        if tag.closesParagraph {
            closeOpen({ $0 == .p }, stoppingAt: { isTableScope($0) || $0 == .caption || $0 == .button || $0 == .object })
        }
        switch tag {
        case .li: closeOpen({ $0 == .li }, stoppingAt: { isTableScope($0) || $0 == .ul || $0 == .ol || $0 == .menu })
        case .dd, .dt: closeOpen({ $0 == .dd || $0 == .dt }, stoppingAt: { isTableScope($0) || $0 == .dl })
        case .tr: closeOpen({ $0 == .tr }, stoppingAt: { $0 == .table })
        case .td, .th: closeOpen({ $0 == .td || $0 == .th }, stoppingAt: { $0 == .tr || $0 == .table })
        case .h1, .h2, .h3, .h4, .h5, .h6:
            if let top = open.last, nodes[Int(top)].tag.isHeading { close() }
        case .a: closeOpen({ $0 == .a }, stoppingAt: { isTableScope($0) || $0 == .button })
        case .option: closeOpen({ $0 == .option }, stoppingAt: { $0 == .select })
        default: break
        }
    }

    private func end(_ tag: Tag) {
        switch tag {
        case .br:
            paragraph += 1
            return
        case .body, .html:
            // What follows `</body>` is still read as part of the body, as in a browser.
            return
        default: break
        }
        // Close up to the innermost open element of this kind nearby; an end tag with nothing to close is ignored.
        for position in stride(from: open.count - 1, to: max(0, open.count - 256), by: -1)
        where nodes[Int(open[position])].tag == tag {
            while open.count > position { close() }
            return
        }
    }

    private func close() {
        let index = Int(open.removeLast())
        let tag = nodes[index].tag
        nodes[index].end = Int32(nodes.count)
        nodes[index].endRun = Int32(runs.count)
        if skipDepth > 0 {
            skipDepth -= 1
            if skipDepth == 0 || tag == .title || tag == .script { capture = .none }
        }
        if nodes[index].flags.contains(.link) { linkDepth -= 1 }
        if tag == .pre { preDepth -= 1 }
        if tag.isBlock {
            paragraph += 1
            if blocks.last == Int32(index) { blocks.removeLast() }
        }
    }

    // MARK: - Attributes

    private func classify(_ tag: Tag, _ attributes: Attributes) -> (NodeFlags, Int8, Int) {
        var flags: NodeFlags = []
        var classWeight: Int8 = 0
        var classHash = 0
        let className = attributes.raw("class")
        let id = attributes.raw("id")
        if className != nil || id != nil {
            var names: [UInt8] = []
            names.reserveCapacity((className?.count ?? 0) + (id?.count ?? 0) + 1)
            if let className { names += className }
            names.append(0x20)
            if let id { names += id }
            for index in names.indices where names[index] >= 0x41 && names[index] <= 0x5A { names[index] |= 0x20 }
            (classWeight, flags) = Patterns.classify(names)
            if let className { classHash = Int(truncatingIfNeeded: FNV1a.hash(className)) }
        }
        if attributes.raw("hidden") != nil || attributes["aria-hidden"] == "true" { flags.insert(.hidden) }
        if let style = attributes["style"]?.lowercased().replacingOccurrences(of: " ", with: ""),
            style.contains("display:none") || style.contains("visibility:hidden")
        {
            flags.insert(.hidden)
        }
        if let role = attributes["role"]?.lowercased() {
            switch role {
            case "navigation", "banner", "contentinfo", "complementary", "menu", "menubar", "dialog", "alert":
                flags.insert(.landmark)
            default: break
            }
        }
        if let property = attributes["itemprop"]?.lowercased(), property == "articlebody" || property == "text" {
            flags.insert(.articleBody)
        }
        if tag == .a, attributes.raw("href") != nil { flags.insert(.link) }
        return (flags, classWeight, classHash)
    }

    private func collectHead(_ tag: Tag, _ attributes: Attributes) {
        switch tag {
        case .meta:
            guard let content = attributes["content"], !content.isEmpty else { return }
            for name in [attributes["property"], attributes["name"], attributes["itemprop"], attributes["http-equiv"]] {
                if let name = name?.lowercased(), metas[name] == nil { metas[name] = content }
            }
        case .link:
            if canonicalLink == nil, attributes["rel"]?.lowercased() == "canonical" { canonicalLink = attributes["href"] }
        case .html:
            if language == nil { language = attributes["lang"] ?? attributes["xml:lang"] }
        case .time:
            guard let datetime = attributes["datetime"], !datetime.isEmpty else { return }
            if firstTime == nil { firstTime = datetime }
            if publishedTime == nil, attributes["itemprop"]?.lowercased() == "datepublished" || attributes.raw("pubdate") != nil {
                publishedTime = datetime
            }
        default: break
        }
    }

    // MARK: - Text

    /// Closes the head if it is open, with whatever is open inside it.
    private func closeHead() {
        guard sawHead, let position = open.prefix(3).firstIndex(where: { nodes[Int($0)].tag == .head }) else { return }
        while open.count > position { close() }
    }

    private func characters(_ bytes: UnsafeBufferPointer<UInt8>) {
        // Text outside the head's title and scripts starts the body, as in a browser.
        if !sawBody, skipDepth == 0 || open.last.map({ nodes[Int($0)].tag == .head }) == true,
            bytes.contains(where: { !HTMLDocument.isSpace($0) })
        {
            start(.body, .none)
        }
        guard skipDepth == 0 else {
            switch capture {
            case .title: titleText.append(contentsOf: bytes)
            case .jsonLD: jsonLD[jsonLD.count - 1].append(contentsOf: bytes)
            case .none: break
            }
            return
        }
        guard preDepth > 0 else {
            append(bytes)
            return
        }
        // Preformatted text keeps its paragraphs: a blank line starts a new one.
        var start = 0
        var newlines = 0
        for (offset, byte) in bytes.enumerated() {
            if byte == 0x0A {
                newlines += 1
                if newlines == 2, offset > start {
                    append(UnsafeBufferPointer(rebasing: bytes[start..<offset]))
                    paragraph += 1
                    start = offset
                }
            } else if !HTMLDocument.isSpace(byte) {
                newlines = 0
            }
        }
        if start < bytes.count { append(UnsafeBufferPointer(rebasing: bytes[start...])) }
    }

    private func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        var letters: Int32 = 0
        var commas: Int16 = 0
        for byte in bytes {
            switch byte {
            case 0x20, 0x09, 0x0A, 0x0D, 0x0C: break
            case 0x80...0xBF: break
            case UInt8(ascii: ","):
                letters += 1
                commas &+= 1
            default: letters += 1
            }
        }
        let owner = open.last!
        let start = Int32(text.count)
        text.append(contentsOf: bytes)
        if let last = runs.last, last.owner == owner, last.paragraph == paragraph, last.end == start {
            runs[runs.count - 1].end = Int32(text.count)
            runs[runs.count - 1].letters += letters
            runs[runs.count - 1].commas &+= commas
        } else {
            runs.append(
                Run(
                    start: start, end: Int32(text.count), owner: owner, paragraph: paragraph, block: blocks.last!,
                    letters: letters, commas: commas, inLink: linkDepth > 0))
        }
    }

    /// The bytes of a run.
    func bytes(_ run: Run) -> ArraySlice<UInt8> { text[Int(run.start)..<Int(run.end)] }

    /// HTML's white space: space, tab, line feed, form feed, carriage return.
    static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x09 || byte == 0x0D || byte == 0x0C
    }
}

/// Class and id words that say what an element is, after Mozilla Readability's lists.
enum Patterns {
    static let unlikely = [
        "-ad-", "ai2html", "banner", "breadcrumb", "combx", "comment", "community", "cover-wrap", "disqus", "extra", "footer",
        "gdpr", "header", "legends", "menu", "related", "remark", "replies", "rss", "shoutbox", "sidebar", "skyscraper",
        "social", "sponsor", "supplemental", "ad-break", "agegate", "pagination", "pager", "popup", "yom-remote", "newsletter",
        "cookie", "consent", "subscribe", "promo", "most-read", "mostread", "popular", "recommend", "outbrain", "taboola",
        "signup", "paywall", "nav", "tooltip", "popover", "hovercard", "rollover",
    ]
    static let comments = ["comment", "disqus", "respond", "replies"]
    static let maybe = ["and", "article", "body", "column", "content", "main", "shadow", "story", "text", "embed", "tweet"]
    static let positive = [
        "article", "body", "content", "entry", "hentry", "h-entry", "main", "page", "post", "text", "blog", "story",
    ]
    static let negative = [
        "hidden", "banner", "combx", "comment", "com-", "contact", "foot", "footer", "footnote", "gdpr", "masthead", "media",
        "meta", "outbrain", "promo", "related", "scroll", "share", "shoutbox", "sidebar", "skyscraper", "sponsor", "shopping",
        "tags", "tool", "widget", "byline", "author", "caption", "credit", "newsletter", "subscribe", "recirc",
    ]

    private struct Word {
        var bytes: [UInt8]
        var kind: UInt8
    }
    private static let unlikelyKind: UInt8 = 1
    private static let maybeKind: UInt8 = 2
    private static let positiveKind: UInt8 = 4
    private static let negativeKind: UInt8 = 8
    private static let shareKind: UInt8 = 16
    private static let commentsKind: UInt8 = 32

    /// Every word, indexed by its first byte, so a scan tries only the words that can start at each position.
    private static let index: [[Word]] = {
        var index = [[Word]](repeating: [], count: 256)
        let lists: [([String], UInt8)] = [
            (unlikely, unlikelyKind), (maybe, maybeKind), (positive, positiveKind), (negative, negativeKind),
            (["share", "sharing"], shareKind), (comments, commentsKind),
        ]
        for (words, kind) in lists {
            for word in words {
                let bytes = Array(word.utf8)
                index[Int(bytes[0])].append(Word(bytes: bytes, kind: kind))
            }
        }
        return index
    }()

    /// The class weight and flags that lowercased class and id `names` give an element.
    static func classify(_ names: [UInt8]) -> (Int8, NodeFlags) {
        var kinds: UInt8 = 0
        names.withUnsafeBufferPointer { names in
            for start in names.indices {
                for word in index[Int(names[start])] where kinds & word.kind == 0 && start + word.bytes.count <= names.count {
                    var offset = 1
                    while offset < word.bytes.count, names[start + offset] == word.bytes[offset] { offset += 1 }
                    if offset == word.bytes.count { kinds |= word.kind }
                }
            }
        }
        var weight: Int8 = 0
        if kinds & negativeKind != 0 { weight -= 25 }
        if kinds & positiveKind != 0 { weight += 25 }
        var flags: NodeFlags = []
        if kinds & unlikelyKind != 0, kinds & maybeKind == 0 { flags.insert(.unlikely) }
        if kinds & shareKind != 0 { flags.insert(.share) }
        if kinds & commentsKind != 0, kinds & maybeKind == 0 { flags.insert(.comments) }
        return (weight, flags)
    }
}
