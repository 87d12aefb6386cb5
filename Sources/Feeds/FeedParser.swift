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
        switch node.name {
        case "rss": return try reader.rss(node, format: .rss, warnings: warnings)
        case "RDF": return try reader.rss(node, format: .rdf, warnings: warnings)
        case "feed": return reader.atom(node, warnings: warnings)
        case let other: throw .notAFeed("root element <\(other)> is not rss, rdf:RDF or feed")
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

    /// The first child element named `name` (in `namespace`, if given), found without allocating.
    func first(_ name: String, namespace: String? = nil) -> Node? {
        name.withCString { cName in
            var child = pointer.pointee.children
            while let node = child {
                if node.pointee.type == XML_ELEMENT_NODE,
                    strcmp(UnsafeRawPointer(node.pointee.name).assumingMemoryBound(to: CChar.self), cName) == 0,
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

    /// The text of this element and its descendants. Entity references are skipped, never expanded.
    var text: String {
        var out = ""
        func collect(_ node: xmlNodePtr) {
            var child = node.pointee.children
            while let current = child {
                switch current.pointee.type {
                case XML_TEXT_NODE, XML_CDATA_SECTION_NODE:
                    if let content = current.pointee.content { out += String(cString: content) }
                case XML_ELEMENT_NODE:
                    collect(current)
                default:
                    break
                }
                child = current.pointee.next
            }
        }
        collect(pointer)
        return out
    }

    /// Trimmed text, or `nil` when empty.
    var value: String? {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.isEmpty ? nil : trimmed
    }

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
        guard let link = link?.trimmingCharacters(in: .whitespacesAndNewlines), !link.isEmpty else { return nil }
        guard let url = URL(string: link, relativeTo: node.base ?? feedURL)?.absoluteURL else { return nil }
        return url.scheme == nil ? nil : url
    }

    func rss(_ root: Node, format: FeedFormat, warnings: Int) throws(FeedParseError) -> ParsedFeed {
        guard let channel = root.first("channel") else { throw .notAFeed("no <channel>") }
        // RSS 2.0 nests items in the channel; RSS 1.0 (RDF) puts them beside it.
        let items = channel.children.filter { $0.name == "item" } + root.children.filter { $0.name == "item" }
        let entries = items.map { item in
            let link = resolve(item.first("link")?.value, at: item)
            let guid = item.first("guid")?.value ?? item.attribute("about")
            let published = (item.first("pubDate") ?? item.first("date", namespace: dublinCore))?.value.flatMap(FeedDate.parse)
            let title = item.first("title")?.value
            return FeedEntry(
                id: identity(guid, link, title, published),
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
            format: format, title: channel.first("title")?.value, link: resolve(channel.first("link")?.value, at: channel),
            entries: entries, warnings: warnings)
        feed.ttl = channel.first("ttl")?.value.flatMap { Int($0) }.flatMap { $0 > 0 ? $0 : nil }
        feed.skipHours = (channel.first("skipHours")?.children ?? []).compactMap { $0.value.flatMap { Int($0) } }
            .filter { (0..<24).contains($0) }
        feed.skipDays = (channel.first("skipDays")?.children ?? []).compactMap { $0.value?.lowercased() }
        return feed
    }

    func atom(_ root: Node, warnings: Int) -> ParsedFeed {
        func isAtom(_ node: Node) -> Bool {
            node.namespace == nil || node.namespace == atomNamespace || node.namespace == atom03Namespace
        }
        func alternate(_ node: Node) -> URL? {
            let links = node.children.filter { $0.name == "link" && isAtom($0) }
            let chosen = links.first { ($0.attribute("rel") ?? "alternate") == "alternate" } ?? links.first
            return chosen.flatMap { resolve($0.attribute("href"), at: $0) }
        }
        let entries = root.children.filter { $0.name == "entry" && isAtom($0) }.map { entry in
            let link = alternate(entry)
            let published = (entry.first("published") ?? entry.first("issued"))?.value.flatMap(FeedDate.parse)
            let updated = (entry.first("updated") ?? entry.first("modified"))?.value.flatMap(FeedDate.parse)
            let title = entry.first("title")?.value
            return FeedEntry(
                id: identity(entry.first("id")?.value, link, title, published ?? updated),
                title: title,
                link: link,
                published: published,
                updated: updated,
                author: entry.first("author")?.first("name")?.value,
                summary: entry.first("summary")?.value,
                content: entry.first("content")?.value,
                enclosures: media(entry)
                    + entry.children.filter { $0.name == "link" && $0.attribute("rel") == "enclosure" }
                    .compactMap { resolve($0.attribute("href"), at: $0) }
            )
        }
        return ParsedFeed(
            format: .atom, title: root.first("title")?.value, link: alternate(root), entries: entries, warnings: warnings)
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

    func identity(_ declared: String?, _ link: URL?, _ title: String?, _ date: Date?) -> String {
        if let declared { return declared }
        if let link { return link.absoluteString }
        return "sha256:" + ContentHash(ofText: (title ?? "") + "\u{1F}" + (date.map { Canonical.timestamp($0) } ?? "")).hex
    }
}
