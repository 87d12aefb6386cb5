import CLibXML2
public import Foundation
import NewsCore

/// Parses RSS 0.9x/1.0/2.0, Atom 0.3/1.0 and JSON Feed 1.x documents into entries. Bytes in, values out: no I/O.
///
/// Entities are never expanded and no DTD or external resource is loaded, so billion-laughs and XXE
/// documents are harmless. Malformed documents are repaired where libxml2 can; what it repairs is
/// counted in ``ParsedFeed/warnings``.
public enum FeedParser {
    /// Parses `data`, resolving relative links against `url` (the URL the document came from).
    /// `contentType` is the HTTP `Content-Type`, whose charset is used when the document declares none.
    public static func parse(_ data: Data, url: URL, contentType: String? = nil) throws(FeedParseError) -> ParsedFeed {
        guard let first = data.first(where: { !isWhitespace($0) }) else { throw .notAFeed("empty document") }
        if first == UInt8(ascii: "{") { return try JSONFeed.parse(data, url: url) }
        return try parseXML(data, url: url, encoding: TextEncoding.xmlEncoding(for: data, contentType: contentType))
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D || byte == 0xEF || byte == 0xBB || byte == 0xBF
    }

    private static func parseXML(_ data: Data, url: URL, encoding: String?) throws(FeedParseError) -> ParsedFeed {
        guard data.count < Int(Int32.max) else { throw .notAFeed("document too large") }
        xmlInitParser()
        let options = Int32(
            XML_PARSE_RECOVER.rawValue | XML_PARSE_NONET.rawValue | XML_PARSE_NOERROR.rawValue
                | XML_PARSE_NOWARNING.rawValue | XML_PARSE_NOCDATA.rawValue)
        guard let context = xmlNewParserCtxt() else { throw .notAFeed("out of memory") }
        defer { xmlFreeParserCtxt(context) }
        let data = EntityRepair.scannable(data, encoding: encoding) ? EntityRepair.repaired(data) ?? data : data
        let document = data.withUnsafeBytes { bytes in
            xmlCtxtReadMemory(
                context, bytes.baseAddress?.assumingMemoryBound(to: CChar.self), Int32(bytes.count), url.absoluteString, encoding,
                options)
        }
        guard let document else { throw .notAFeed("no XML could be read") }
        defer { xmlFreeDoc(document) }
        guard let root = xmlDocGetRootElement(document) else { throw .notAFeed("no root element") }
        let warnings = context.pointee.wellFormed == 0 ? 1 : 0
        let reader = Reader(feedURL: url)
        let node = Node(root)
        switch node.name.lowercased() {
        case "rss": return reader.rss(node, format: .rss, warnings: warnings)
        case "rdf": return reader.rss(node, format: .rdf, warnings: warnings)
        case "feed": return reader.atom(node, warnings: warnings)
        case "channel": return reader.cdf(node, warnings: warnings)
        case let other: throw .notAFeed("root element <\(other)> is not rss, rdf:RDF, feed or a CDF channel")
        }
    }
}

/// A borrowed view of an element.
struct Node {
    let pointer: xmlNodePtr

    init(_ pointer: xmlNodePtr) { self.pointer = pointer }

    var name: String { String(cString: pointer.pointee.name) }

    var namespace: String? { pointer.pointee.ns.flatMap { $0.pointee.href }.map { String(cString: $0) } }

    /// Child elements.
    var children: [Node] {
        var out: [Node] = []
        var child = pointer.pointee.children
        while let node = child {
            if node.pointee.type == XML_ELEMENT_NODE { out.append(Node(node)) }
            child = node.pointee.next
        }
        return out
    }

    /// Whether the element is named `name`, in any case (feeds exist in upper case).
    func named(_ name: String) -> Bool {
        strcasecmp(UnsafeRawPointer(pointer.pointee.name).assumingMemoryBound(to: CChar.self), name) == 0
    }

    /// The first child element named `name` in any case (in `namespace`, if given), found without allocating.
    func first(_ name: String, namespace: String? = nil) -> Node? {
        name.withCString { cName in
            var child = pointer.pointee.children
            while let node = child {
                if node.pointee.type == XML_ELEMENT_NODE,
                    strcasecmp(UnsafeRawPointer(node.pointee.name).assumingMemoryBound(to: CChar.self), cName) == 0,
                    namespace == nil || node.pointee.ns.flatMap({ $0.pointee.href }).map({ String(cString: $0) }) == namespace
                {
                    return Node(node)
                }
                child = node.pointee.next
            }
            return nil
        }
    }

    func attribute(_ name: String) -> String? {
        guard let value = xmlGetProp(pointer, name) else { return nil }
        defer { newsd_xml_free(value) }
        return String(cString: value)
    }

    /// The text of this element and its descendants, but for scripts and styles. Entity references are
    /// skipped, never expanded.
    var text: String { text(separatingBlocks: false) }

    /// The text of this element and its descendants, but for scripts and styles; with `separatingBlocks`, HTML's block
    /// elements (paragraphs, list items, line breaks) end words. Entity references are skipped, never expanded.
    func text(separatingBlocks: Bool) -> String {
        var out = ""
        func collect(_ node: xmlNodePtr) {
            var child = node.pointee.children
            while let current = child {
                switch current.pointee.type {
                case XML_TEXT_NODE, XML_CDATA_SECTION_NODE:
                    if let content = current.pointee.content { out += String(cString: content) }
                case XML_ELEMENT_NODE:
                    let name = UnsafeRawPointer(current.pointee.name).assumingMemoryBound(to: CChar.self)
                    if strcasecmp(name, "script") != 0 && strcasecmp(name, "style") != 0 {
                        let block = separatingBlocks && Node.blockLevel.contains(String(cString: name).lowercased())
                        if block { out += " " }
                        collect(current)
                        if block { out += " " }
                    }
                default:
                    break
                }
                child = current.pointee.next
            }
        }
        collect(pointer)
        return out
    }

    /// HTML elements whose ends separate words.
    private static let blockLevel: Set<String> = [
        "p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "td", "th", "tr", "blockquote", "pre",
    ]

    /// Trimmed text, or `nil` when empty.
    var value: String? { Whitespace.trimmed(text) }

    /// The base URL in effect at this element (`xml:base` chain over the document URL).
    var base: URL? {
        guard let document = pointer.pointee.doc, let base = xmlNodeGetBase(document, pointer) else { return nil }
        defer { newsd_xml_free(base) }
        return URL(string: String(cString: base))
    }
}

private let atomNamespace = "http://www.w3.org/2005/Atom"
private let atom03Namespace = "http://purl.org/atom/ns#"
private let dublinCore = "http://purl.org/dc/elements/1.1/"
private let contentModule = "http://purl.org/rss/1.0/modules/content/"
private let dublinTerms = "http://purl.org/dc/terms/"
private let mediaRSS: String? = "http://search.yahoo.com/mrss/"

private struct Reader {
    let feedURL: URL

    func resolve(_ link: String?, at node: Node) -> URL? {
        guard let link = link.flatMap(Whitespace.trimmed) else { return nil }
        guard let url = URL(string: link, relativeTo: node.base ?? feedURL)?.absoluteURL else { return nil }
        return url.scheme == nil ? nil : url
    }

    func rss(_ root: Node, format: FeedFormat, warnings: Int) -> ParsedFeed {
        let channel = root.first("channel")
        // RSS 2.0 nests items in the channel; RSS 0.90 and 1.0 (RDF) put them beside it, and some feeds have no channel.
        let items = (channel?.children ?? []).filter { $0.named("item") } + root.children.filter { $0.named("item") }
        let entries = items.map { item in
            let guid = item.first("guid")
            let link =
                resolve(item.first("link").flatMap { $0.value ?? $0.attribute("href") }, at: item)
                ?? guid.flatMap { $0.attribute("isPermaLink")?.lowercased() == "false" ? nil : absoluteLink($0) }
            let published = (item.first("pubDate") ?? item.first("date", namespace: dublinCore))?.value.flatMap(FeedDate.parse)
            let title = item.first("title").flatMap { plainText($0, atom: false) }
            return FeedEntry(
                id: identity(guid?.value ?? item.attribute("about"), link, title, published),
                title: title,
                link: link,
                published: published,
                updated: item.first("modified", namespace: dublinTerms)?.value.flatMap(FeedDate.parse),
                author: (item.first("creator", namespace: dublinCore) ?? item.first("author"))?.value,
                summary: item.first("description")?.value,
                content: item.first("encoded", namespace: contentModule)?.value,
                enclosures: media(item)
            )
        }
        var feed = ParsedFeed(
            format: format, title: channel?.first("title").flatMap { plainText($0, atom: false) },
            link: resolve(channel?.first("link")?.value, at: channel ?? root), entries: entries, warnings: warnings)
        feed.ttl = channel?.first("ttl")?.value.flatMap { Int($0) }.flatMap { $0 > 0 ? $0 : nil }
        feed.skipHours = (channel?.first("skipHours")?.children ?? []).compactMap { $0.value.flatMap { Int($0) } }
            .filter { (0..<24).contains($0) }
        feed.skipDays = (channel?.first("skipDays")?.children ?? []).compactMap { $0.value?.lowercased() }
        return feed
    }

    /// A CDF document (Internet Explorer's channels): `<CHANNEL>` holding `<ITEM HREF=…>`, channels nested.
    func cdf(_ root: Node, warnings: Int) -> ParsedFeed {
        func items(_ channel: Node) -> [Node] {
            channel.children.flatMap { $0.named("item") ? [$0] : $0.named("channel") ? items($0) : [] }
        }
        func href(_ node: Node) -> URL? { resolve(node.attribute("HREF") ?? node.attribute("href"), at: node) }
        let entries = items(root).map { item in
            let link = href(item)
            let title = item.first("title").flatMap { plainText($0, atom: false) }
            let updated = (item.attribute("LASTMOD") ?? item.attribute("lastmod")).flatMap(FeedDate.parse)
            return FeedEntry(
                id: identity(nil, link, title, updated), title: title, link: link, updated: updated,
                summary: item.first("abstract")?.value)
        }
        return ParsedFeed(
            format: .cdf, title: root.first("title").flatMap { plainText($0, atom: false) }, link: href(root), entries: entries,
            warnings: warnings)
    }

    func atom(_ root: Node, warnings: Int) -> ParsedFeed {
        func isAtom(_ node: Node) -> Bool {
            node.namespace == nil || node.namespace == atomNamespace || node.namespace == atom03Namespace
        }
        func alternate(_ node: Node) -> URL? {
            let links = node.children.filter { $0.named("link") && isAtom($0) }
            let chosen = links.first { ($0.attribute("rel") ?? "alternate") == "alternate" } ?? links.first
            return chosen.flatMap { resolve($0.attribute("href"), at: $0) }
        }
        let entries = root.children.filter { $0.named("entry") && isAtom($0) }.map { entry in
            // An entry without a link is its `<id>`'s, when that is a URL.
            let link = alternate(entry) ?? entry.first("id").flatMap(absoluteLink)
            let published = (entry.first("published") ?? entry.first("issued"))?.value.flatMap(FeedDate.parse)
            let updated = (entry.first("updated") ?? entry.first("modified"))?.value.flatMap(FeedDate.parse)
            let title = entry.first("title").flatMap { plainText($0, atom: true) }
            return FeedEntry(
                id: identity(entry.first("id")?.value, link, title, published ?? updated),
                title: title,
                link: link,
                published: published,
                updated: updated,
                author: entry.first("author")?.first("name")?.value,
                summary: entry.first("summary").map(decoded).flatMap(Whitespace.trimmed),
                content: entry.first("content").map(decoded).flatMap(Whitespace.trimmed),
                enclosures: media(entry)
                    + entry.children.filter { $0.name == "link" && $0.attribute("rel") == "enclosure" }
                    .compactMap { resolve($0.attribute("href"), at: $0) }
            )
        }
        return ParsedFeed(
            format: .atom, title: root.first("title").flatMap { plainText($0, atom: true) }, link: alternate(root),
            entries: entries, warnings: warnings)
    }

    /// An element's text as a link when it is one: an absolute http(s) URL, or a path from the root.
    func absoluteLink(_ node: Node) -> URL? {
        guard let value = node.value else { return nil }
        let lower = value.lowercased()
        guard lower.hasPrefix("http://") || lower.hasPrefix("https://") || value.hasPrefix("/") else { return nil }
        return resolve(value, at: node)
    }

    /// A title (or other text construct) as plain text: base64 decoded where Atom says so, markup removed and
    /// references decoded where it is HTML, spaces collapsed. RSS says nothing of its titles' type: one that
    /// holds a tag or a reference after XML's own decoding was escaped HTML.
    func plainText(_ node: Node, atom: Bool) -> String? {
        let text = atom ? decoded(node) : node.text
        let html =
            atom ? ["html", "text/html"].contains(node.attribute("type")?.lowercased() ?? "text") : HTMLText.looksLikeHTML(text)
        return Whitespace.collapsed(html ? HTMLText.plain(text) : text)
    }

    /// An Atom text or content construct's text, decoded from base64 when its mode or its type (one that is
    /// neither text nor XML) says it is.
    func decoded(_ node: Node) -> String {
        let text = node.text
        let type = node.attribute("type")?.lowercased() ?? "text"
        let textual = ["text", "html", "xhtml"].contains(type) || type.hasPrefix("text/") || type.hasSuffix("xml")
        guard node.attribute("mode")?.lowercased() == "base64" || !textual,
            let data = Data(base64Encoded: text.filter { !$0.isWhitespace })
        else { return text }
        return String(decoding: data, as: UTF8.self)
    }

    /// Enclosures and Media RSS content and thumbnails of an item.
    func media(_ item: Node) -> [URL] {
        var urls: [URL] = []
        for child in item.children {
            switch (child.name, child.namespace) {
            case ("enclosure", nil), ("content", mediaRSS?), ("thumbnail", mediaRSS?):
                if let url = resolve(child.attribute("url"), at: child) { urls.append(url) }
            case ("group", mediaRSS?):
                urls += media(child)
            default:
                break
            }
        }
        return urls
    }

    /// An entry's identity: the one it declares (unless empty or blank), its link, or a hash of its title and date.
    func identity(_ declared: String?, _ link: URL?, _ title: String?, _ date: Date?) -> String {
        if let declared, !declared.allSatisfy(\.isWhitespace) { return declared }
        if let link { return link.absoluteString }
        return "sha256:" + ContentHash(ofText: (title ?? "") + "\u{1F}" + (date.map { Canonical.timestamp($0) } ?? "")).hex
    }
}
