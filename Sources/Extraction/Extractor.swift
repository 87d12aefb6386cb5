import CLibXML2
public import Foundation

/// The cleaned form of a page: its main text and what the page says about itself.
public struct ExtractedArticle: Sendable, Equatable, Codable {
    public var title: String?
    public var byline: String?
    /// The publication date as the page states it (ISO 8601 where the page gives one).
    public var published: String?
    public var language: String?
    /// The URL the page names as its canonical one.
    public var canonicalURL: String?
    /// Paragraphs of the main text, headings and list items each their own.
    public var paragraphs: [String]

    /// The main text: paragraphs separated by blank lines.
    public var body: String { paragraphs.joined(separator: "\n\n") }
}

/// Turns HTML into an ``ExtractedArticle``. Bytes in, values out: no I/O.
public enum Extractor {
    /// Recorded with every text, so that re-extraction with a newer extractor adds texts instead of replacing them.
    public static let version = "newsd-extract/1"

    /// Extracts the main text and metadata of `html`; `url` resolves relative links.
    public static func extract(_ html: Data, url: URL? = nil) -> ExtractedArticle {
        var article = ExtractedArticle(paragraphs: [])
        guard !html.isEmpty, html.count < Int(Int32.max) else { return article }
        xmlInitParser()
        let options = Int32(
            HTML_PARSE_RECOVER.rawValue | HTML_PARSE_NOERROR.rawValue | HTML_PARSE_NOWARNING.rawValue
                | HTML_PARSE_NONET.rawValue | HTML_PARSE_COMPACT.rawValue)
        let document = html.withUnsafeBytes { bytes in
            htmlReadMemory(
                bytes.baseAddress?.assumingMemoryBound(to: CChar.self), Int32(bytes.count), url?.absoluteString, nil, options)
        }
        guard let document else { return article }
        defer { xmlFreeDoc(document) }
        guard let root = xmlDocGetRootElement(document) else { return article }

        let page = Page(root: root)
        article.language = page.attribute(root, "lang").map(normalise)
        article.title = (page.meta("og:title") ?? page.firstText("title") ?? page.firstText("h1")).map(normalise)
        article.byline = (page.meta("author") ?? page.meta("article:author")).map(normalise)
        article.published = page.meta("article:published_time") ?? page.timeAttribute()
        article.canonicalURL = page.canonical()
        article.paragraphs = page.mainText()
        return article
    }
}

private let skippedElements: Set<String> = [
    "script", "style", "noscript", "nav", "header", "footer", "aside", "form", "button", "iframe", "svg", "select", "template",
    "head", "menu", "object", "embed", "canvas",
]

private let blockElements: Set<String> = [
    "p", "div", "section", "article", "main", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "blockquote", "pre",
    "table", "tr", "td", "th", "dd", "dt", "dl", "figcaption", "figure", "br", "hr", "address", "center",
]

private let boilerplateWords = [
    "share", "social", "related", "newsletter", "subscribe", "cookie", "comment", "promo", "advert", "sponsor", "breadcrumb",
    "sidebar", "most-read", "mostread", "popular", "footer", "header", "navigation", "navbar", "menu", "signup", "paywall",
]

private struct Page {
    let root: xmlNodePtr

    func name(_ node: xmlNodePtr) -> String { String(cString: node.pointee.name).lowercased() }

    func attribute(_ node: xmlNodePtr, _ name: String) -> String? {
        guard let value = xmlGetProp(node, name) else { return nil }
        defer { newsd_xml_free(value) }
        let string = String(cString: value).trimmingCharacters(in: .whitespacesAndNewlines)
        return string.isEmpty ? nil : string
    }

    /// Every element in document order, without recursion (pages may nest deeper than the stack allows).
    func elements(where predicate: (xmlNodePtr) -> Bool) -> [xmlNodePtr] {
        var found: [xmlNodePtr] = []
        var stack: [xmlNodePtr] = [root]
        while let node = stack.popLast() {
            if node.pointee.type == XML_ELEMENT_NODE, predicate(node) { found.append(node) }
            var children: [xmlNodePtr] = []
            var child = node.pointee.children
            while let current = child {
                if current.pointee.type == XML_ELEMENT_NODE { children.append(current) }
                child = current.pointee.next
            }
            stack.append(contentsOf: children.reversed())
        }
        return found
    }

    func meta(_ key: String) -> String? {
        for node in elements(where: { name($0) == "meta" }) {
            let property = attribute(node, "property") ?? attribute(node, "name")
            if property?.lowercased() == key, let content = attribute(node, "content") { return content }
        }
        return nil
    }

    func firstText(_ element: String) -> String? {
        elements(where: { name($0) == element }).lazy.map { text(of: $0).joined(separator: " ") }.first { !$0.isEmpty }
    }

    func timeAttribute() -> String? {
        elements(where: { name($0) == "time" }).lazy.compactMap { attribute($0, "datetime") }.first
    }

    func canonical() -> String? {
        elements(where: { name($0) == "link" && attribute($0, "rel")?.lowercased() == "canonical" }).lazy
            .compactMap { attribute($0, "href") }.first
    }

    func isBoilerplate(_ node: xmlNodePtr) -> Bool {
        let element = name(node)
        if skippedElements.contains(element) { return true }
        if attribute(node, "hidden") != nil || attribute(node, "aria-hidden") == "true" { return true }
        let role = attribute(node, "role")?.lowercased()
        if role == "navigation" || role == "banner" || role == "contentinfo" || role == "complementary" { return true }
        guard element != "body", element != "article", element != "main" else { return false }
        let marks = ((attribute(node, "class") ?? "") + " " + (attribute(node, "id") ?? "")).lowercased()
        return !marks.isEmpty && boilerplateWords.contains { marks.contains($0) }
    }

    /// The paragraphs of the container that most likely holds the article.
    func mainText() -> [String] {
        let candidates = elements(where: { ["article", "main"].contains(name($0)) || attribute($0, "itemprop") == "articleBody" })
        let best = candidates.map { ($0, text(of: $0)) }.max { lhs, rhs in
            lhs.1.reduce(0) { $0 + $1.count } < rhs.1.reduce(0) { $0 + $1.count }
        }
        if let best, !best.1.isEmpty { return best.1 }
        let body = elements(where: { name($0) == "body" }).first ?? root
        return text(of: body)
    }

    /// Paragraphs under `container`: block elements break paragraphs, boilerplate subtrees are skipped,
    /// and a paragraph repeated back to back is kept once.
    func text(of container: xmlNodePtr) -> [String] {
        var paragraphs: [String] = []
        var current = ""
        func flush() {
            let paragraph = normalise(current)
            current = ""
            if !paragraph.isEmpty, paragraphs.last != paragraph { paragraphs.append(paragraph) }
        }
        // An explicit stack of (node, leaving) pairs: `leaving` marks the end of a block element.
        var stack: [(xmlNodePtr, Bool)] = [(container, false)]
        while let (node, leaving) = stack.popLast() {
            if leaving {
                flush()
                continue
            }
            switch node.pointee.type {
            case XML_TEXT_NODE, XML_CDATA_SECTION_NODE:
                if let content = node.pointee.content { current += String(cString: content) }
            case XML_ELEMENT_NODE:
                if node != container, isBoilerplate(node) { continue }
                let block = blockElements.contains(name(node))
                if block {
                    flush()
                    stack.append((node, true))
                }
                var children: [xmlNodePtr] = []
                var child = node.pointee.children
                while let next = child {
                    children.append(next)
                    child = next.pointee.next
                }
                for child in children.reversed() { stack.append((child, false)) }
            default:
                break
            }
        }
        flush()
        return paragraphs
    }
}

/// Unicode NFC, soft hyphens and zero-width characters removed, whitespace collapsed to single spaces.
func normalise(_ text: String) -> String {
    var out = ""
    var pendingSpace = false
    for scalar in text.precomposedStringWithCanonicalMapping.unicodeScalars {
        switch scalar.value {
        case 0x00AD, 0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF:
            continue
        default:
            if scalar.properties.isWhitespace {
                pendingSpace = !out.isEmpty
            } else {
                if pendingSpace { out.unicodeScalars.append(" ") }
                pendingSpace = false
                out.unicodeScalars.append(scalar)
            }
        }
    }
    return out
}
