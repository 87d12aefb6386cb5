import CLibXML2
import Foundation

/// The element kinds the extractor tells apart; every other element is `other`.
enum Tag: UInt8 {
    case other, html, head, body, title, meta, link, script, style, noscript, template, svg, math, iframe, object, embed
    case canvas, form, button, input, select, textarea, nav, header, footer, aside, menu, main, article, section, div
    case p, br, hr, h1, h2, h3, h4, h5, h6, ul, ol, li, dl, dt, dd, blockquote, pre, table, tr, td, th, caption
    case figure, figcaption, img, a, time, address, center, details, video, audio, fieldset, dialog

    static let byName: [String: Tag] = {
        var names: [String: Tag] = [:]
        for raw in UInt8(1)...Tag.dialog.rawValue {
            let tag = Tag(rawValue: raw)!
            names["\(tag)"] = tag
        }
        return names
    }()

    /// Elements that start and end a paragraph of text.
    var isBlock: Bool {
        switch self {
        case .p, .div, .section, .article, .main, .h1, .h2, .h3, .h4, .h5, .h6, .li, .ul, .ol, .blockquote, .pre, .table, .tr,
            .td, .th, .dd, .dt, .dl, .figcaption, .figure, .hr, .address, .center, .header, .footer, .nav, .aside, .caption,
            .details, .form, .fieldset, .body, .menu, .dialog:
            true
        default: false
        }
    }

    /// Elements whose content is never article text.
    var isSkipped: Bool {
        switch self {
        case .script, .style, .noscript, .template, .svg, .math, .iframe, .object, .embed, .canvas, .select, .textarea, .button,
            .head, .title, .video, .audio, .dialog:
            true
        default: false
        }
    }

    var isHeading: Bool { self == .h1 || self == .h2 || self == .h3 || self == .h4 || self == .h5 || self == .h6 }
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

    private var open: [Int32] = []
    private var blocks: [Int32] = []
    private var paragraph: Int32 = 0
    private var skipDepth = 0
    private var linkDepth = 0
    private var capture: Capture = .none

    private enum Capture { case none, title, jsonLD }

    /// Parses `html` with libxml2's HTML parser in SAX mode, in the encoding ``HTMLEncoding`` finds for it;
    /// `http` is the charset HTTP declared.
    static func parse(_ html: UnsafeRawBufferPointer, http: String?) -> HTMLDocument {
        let label = HTMLEncoding.sniff(html, http: http)
        if label == "UTF-8" { return HTMLDocument(parsing: html, decoder: nil) }
        if label != "windows-1252", let decoder = xmlFindCharEncodingHandler(label) {
            return HTMLDocument(parsing: html, decoder: decoder)
        }
        return HTMLEncoding.windows1252ToUTF8(html).withUnsafeBytes { HTMLDocument(parsing: $0, decoder: nil) }
    }

    /// Parses `html`, decoded by `decoder` (UTF-8 when `nil`); libxml2 is told to ignore what the page declares.
    private init(parsing html: UnsafeRawBufferPointer, decoder: xmlCharEncodingHandlerPtr?) {
        // Errors are not printed (libxml2's handler is per thread); a page is parsed as far as it goes.
        xmlSetStructuredErrorFunc(nil) { _, _ in }
        nodes.reserveCapacity(html.count / 64)
        runs.reserveCapacity(html.count / 128)
        text.reserveCapacity(html.count / 4)
        nodes.append(
            Node(tag: .other, flags: [], classWeight: 0, parent: -1, end: 0, firstRun: 0, endRun: 0, classHash: 0))
        open.append(0)
        blocks.append(0)
        guard let base = html.baseAddress, html.count > 0,
            let context = htmlCreateMemoryParserCtxt(base.assumingMemoryBound(to: CChar.self), Int32(html.count))
        else {
            if let decoder { xmlCharEncCloseFunc(decoder) }
            finish()
            return
        }
        defer {
            if let document = context.pointee.myDoc { xmlFreeDoc(document) }
            htmlFreeParserCtxt(context)
        }
        if let sax = context.pointee.sax {
            sax.pointee.startDocument = nil
            sax.pointee.endDocument = nil
            sax.pointee.internalSubset = nil
            sax.pointee.externalSubset = nil
            sax.pointee.comment = nil
            sax.pointee.processingInstruction = nil
            sax.pointee.startElementNs = nil
            sax.pointee.endElementNs = nil
            sax.pointee.warning = nil
            sax.pointee.error = nil
            sax.pointee.startElement = { context, name, attributes in
                guard let context, let name else { return }
                let parser = context.assumingMemoryBound(to: xmlParserCtxt.self)
                HTMLDocument.from(parser).start(name, attributes)
            }
            sax.pointee.endElement = { context, name in
                guard let context, let name else { return }
                let parser = context.assumingMemoryBound(to: xmlParserCtxt.self)
                HTMLDocument.from(parser).end(name)
            }
            let characters: charactersSAXFunc = { context, bytes, count in
                guard let context, let bytes, count > 0 else { return }
                let parser = context.assumingMemoryBound(to: xmlParserCtxt.self)
                HTMLDocument.from(parser).characters(UnsafeBufferPointer(start: bytes, count: Int(count)))
            }
            sax.pointee.characters = characters
            sax.pointee.cdataBlock = characters
            sax.pointee.ignorableWhitespace = characters
        }
        let options = Int32(
            HTML_PARSE_RECOVER.rawValue | HTML_PARSE_NOERROR.rawValue | HTML_PARSE_NOWARNING.rawValue | HTML_PARSE_NONET.rawValue
                | HTML_PARSE_IGNORE_ENC.rawValue)
        htmlCtxtUseOptions(context, options)
        if let decoder {
            xmlSwitchToEncoding(context, decoder)
        } else {
            context.pointee.charset = Int32(XML_CHAR_ENCODING_UTF8.rawValue)
        }
        withExtendedLifetime(self) {
            // The SAX callbacks receive the parser context; `_private` leads back here.
            context.pointee._private = Unmanaged.passUnretained(self).toOpaque()
            context.pointee.userData = UnsafeMutableRawPointer(context)
            htmlParseDocument(context)
        }
        finish()
    }

    private static func from(_ parser: UnsafeMutablePointer<xmlParserCtxt>) -> HTMLDocument {
        Unmanaged<HTMLDocument>.fromOpaque(parser.pointee._private).takeUnretainedValue()
    }

    private func finish() {
        while open.count > 1 { close() }
        nodes[0].end = Int32(nodes.count)
        nodes[0].endRun = Int32(runs.count)
    }

    private func start(_ name: UnsafePointer<xmlChar>, _ attributes: UnsafeMutablePointer<UnsafePointer<xmlChar>?>?) {
        let tag = Tag.byName[String(cString: name)] ?? .other
        var flags: NodeFlags = []
        var classWeight: Int8 = 0
        var classHash = 0
        var attribute: [String: String] = [:]
        if let attributes {
            var index = 0
            while let key = attributes[index] {
                let value = attributes[index + 1].map { String(cString: $0) } ?? ""
                attribute[String(cString: key).lowercased()] = value
                index += 2
            }
        }
        if !attribute.isEmpty {
            var names = Array((attribute["class"] ?? "").utf8) + [0x20] + Array((attribute["id"] ?? "").utf8)
            if names.count > 1 {
                for index in names.indices where names[index] >= 0x41 && names[index] <= 0x5A { names[index] |= 0x20 }
                classWeight = Patterns.weight(names)
                if Patterns.isUnlikely(names) { flags.insert(.unlikely) }
                if Patterns.isShare(names) { flags.insert(.share) }
                classHash = attribute["class"]?.hashValue ?? 0
            }
            if attribute["hidden"] != nil || attribute["aria-hidden"] == "true" { flags.insert(.hidden) }
            if let style = attribute["style"]?.lowercased().replacingOccurrences(of: " ", with: ""),
                style.contains("display:none") || style.contains("visibility:hidden")
            {
                flags.insert(.hidden)
            }
            switch attribute["role"]?.lowercased() {
            case "navigation", "banner", "contentinfo", "complementary", "menu", "menubar", "dialog", "alert":
                flags.insert(.landmark)
            default: break
            }
            if let property = attribute["itemprop"]?.lowercased(), property == "articlebody" || property == "text" {
                flags.insert(.articleBody)
            }
            if tag == .a, attribute["href"] != nil { flags.insert(.link) }
            collectHead(tag, attribute)
        }
        switch tag {
        case .title where skipDepth == 0 && titleText.isEmpty: capture = .title
        case .script where attribute["type"]?.lowercased().contains("ld+json") == true:
            jsonLD.append([])
            capture = .jsonLD
        default: break
        }
        let skipped = tag.isSkipped || flags.contains(.hidden)
        if skipped || skipDepth > 0 { skipDepth += 1 }
        if flags.contains(.link) { linkDepth += 1 }
        if tag == .br {
            paragraph += 1
        }
        let index = Int32(nodes.count)
        nodes.append(
            Node(
                tag: tag, flags: flags, classWeight: classWeight, parent: open.last!, end: index + 1,
                firstRun: Int32(runs.count), endRun: Int32(runs.count), classHash: classHash))
        open.append(index)
        if tag.isBlock {
            paragraph += 1
            blocks.append(index)
        }
    }

    private func collectHead(_ tag: Tag, _ attribute: [String: String]) {
        switch tag {
        case .meta:
            guard let content = attribute["content"], !content.isEmpty else { return }
            for key in ["property", "name", "itemprop", "http-equiv"] {
                if let name = attribute[key]?.lowercased(), metas[name] == nil { metas[name] = content }
            }
        case .link:
            if canonicalLink == nil, attribute["rel"]?.lowercased() == "canonical" { canonicalLink = attribute["href"] }
        case .html:
            if language == nil { language = attribute["lang"] ?? attribute["xml:lang"] }
        case .time:
            guard let datetime = attribute["datetime"], !datetime.isEmpty else { return }
            if firstTime == nil { firstTime = datetime }
            if publishedTime == nil,
                attribute["itemprop"]?.lowercased() == "datepublished" || attribute["pubdate"] != nil
            {
                publishedTime = datetime
            }
        default: break
        }
    }

    private func end(_ name: UnsafePointer<xmlChar>) {
        let tag = Tag.byName[String(cString: name)] ?? .other
        // Close up to the innermost open element of this kind; an end tag with nothing to close is ignored.
        guard let position = open.lastIndex(where: { nodes[Int($0)].tag == tag }), position > 0 else { return }
        while open.count > position { close() }
    }

    private func close() {
        let index = Int(open.removeLast())
        let tag = nodes[index].tag
        nodes[index].end = Int32(nodes.count)
        nodes[index].endRun = Int32(runs.count)
        if skipDepth > 0 {
            skipDepth -= 1
            if capture != .none, tag == .title || tag == .script { capture = .none }
        }
        if nodes[index].flags.contains(.link) { linkDepth -= 1 }
        if tag.isBlock {
            paragraph += 1
            if blocks.last == Int32(index) { blocks.removeLast() }
        }
    }

    private func characters(_ bytes: UnsafeBufferPointer<xmlChar>) {
        guard skipDepth == 0 else {
            switch capture {
            case .title: titleText.append(contentsOf: bytes)
            case .jsonLD: jsonLD[jsonLD.count - 1].append(contentsOf: bytes)
            case .none: break
            }
            return
        }
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
}

/// Class and id words that say what an element is, after Mozilla Readability's lists.
enum Patterns {
    static let unlikely = [
        "-ad-", "ai2html", "banner", "breadcrumb", "combx", "comment", "community", "cover-wrap", "disqus", "extra", "footer",
        "gdpr", "header", "legends", "menu", "related", "remark", "replies", "rss", "shoutbox", "sidebar", "skyscraper",
        "social", "sponsor", "supplemental", "ad-break", "agegate", "pagination", "pager", "popup", "yom-remote", "newsletter",
        "cookie", "consent", "subscribe", "promo", "most-read", "mostread", "popular", "recommend", "outbrain", "taboola",
        "signup", "paywall", "nav",
    ]
    static let maybe = ["and", "article", "body", "column", "content", "main", "shadow", "story", "text"]
    static let positive = [
        "article", "body", "content", "entry", "hentry", "h-entry", "main", "page", "post", "text", "blog", "story",
    ]
    static let negative = [
        "hidden", "banner", "combx", "comment", "com-", "contact", "foot", "footer", "footnote", "gdpr", "masthead", "media",
        "meta", "outbrain", "promo", "related", "scroll", "share", "shoutbox", "sidebar", "skyscraper", "sponsor", "shopping",
        "tags", "tool", "widget", "byline", "author", "caption", "credit", "newsletter", "subscribe", "recirc",
    ]

    private static func bytes(_ words: [String]) -> [[UInt8]] { words.map { Array($0.utf8) } }
    private static let unlikelyBytes = bytes(unlikely)
    private static let maybeBytes = bytes(maybe)
    private static let positiveBytes = bytes(positive)
    private static let negativeBytes = bytes(negative)
    private static let shareBytes = bytes(["share", "sharing"])

    /// Whether any of `words` occurs in `names` (lowercased class and id).
    private static func any(_ words: [[UInt8]], in names: [UInt8]) -> Bool {
        names.withUnsafeBufferPointer { haystack in
            words.contains { word in
                guard let first = word.first, word.count <= haystack.count else { return false }
                var start = 0
                while start + word.count <= haystack.count {
                    if haystack[start] == first {
                        var offset = 1
                        while offset < word.count, haystack[start + offset] == word[offset] { offset += 1 }
                        if offset == word.count { return true }
                    }
                    start += 1
                }
                return false
            }
        }
    }

    static func isUnlikely(_ names: [UInt8]) -> Bool {
        any(unlikelyBytes, in: names) && !any(maybeBytes, in: names)
    }

    static func isShare(_ names: [UInt8]) -> Bool { any(shareBytes, in: names) }

    static func weight(_ names: [UInt8]) -> Int8 {
        var weight: Int8 = 0
        if any(negativeBytes, in: names) { weight -= 25 }
        if any(positiveBytes, in: names) { weight += 25 }
        return weight
    }
}
