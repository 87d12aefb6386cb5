import CLibXML2
public import Foundation
public import NewsCore

/// OPML 1.0/2.0 subscription lists: nested outlines become categories (`News/Region`), and back.
public enum OPML {
    /// The feeds an OPML document lists, each with the path of folders it sits in as its category.
    public static func parse(_ data: Data) throws(FeedParseError) -> [FeedConfig] {
        guard !data.isEmpty, data.count < Int(Int32.max) else { throw .notAFeed("empty or oversized OPML document") }
        xmlInitParser()
        let options = Int32(
            XML_PARSE_RECOVER.rawValue | XML_PARSE_NONET.rawValue | XML_PARSE_NOERROR.rawValue | XML_PARSE_NOWARNING.rawValue)
        let document = data.withUnsafeBytes { bytes in
            xmlReadMemory(bytes.baseAddress?.assumingMemoryBound(to: CChar.self), Int32(bytes.count), nil, nil, options)
        }
        guard let document else { throw .notAFeed("no XML could be read") }
        defer { xmlFreeDoc(document) }
        guard let root = xmlDocGetRootElement(document), Node(root).name == "opml" else {
            throw .notAFeed("no <opml> root element")
        }
        guard let body = Node(root).first("body") else { throw .notAFeed("OPML without <body>") }
        var feeds: [FeedConfig] = []
        var seen = Set<URL>()
        // Depth-first with an explicit stack: (outline, folder path).
        var stack: [(Node, [String])] = body.children.reversed().map { ($0, []) }
        while let (outline, folders) = stack.popLast() {
            guard outline.name == "outline" else { continue }
            let title = outline.attribute("title") ?? outline.attribute("text")
            if let xmlURL = outline.attribute("xmlUrl") ?? outline.attribute("xmlurl"),
                let url = URL(string: xmlURL.trimmingCharacters(in: .whitespaces)),
                ["http", "https"].contains(url.scheme?.lowercased() ?? "")
            {
                if seen.insert(url).inserted {
                    feeds.append(
                        FeedConfig(url: url, title: title, category: folders.isEmpty ? nil : folders.joined(separator: "/")))
                }
            } else {
                let folder = folders + (title.map { [$0] } ?? [])
                stack.append(contentsOf: outline.children.reversed().map { ($0, folder) })
            }
        }
        return feeds
    }

    /// An OPML 2.0 document listing `feeds`, folders made from their categories.
    public static func export(_ feeds: [FeedConfig], title: String = "newsd feeds") -> String {
        var out = """
            <?xml version="1.0" encoding="UTF-8"?>
            <opml version="2.0">
              <head><title>\(escape(title))</title></head>
              <body>

            """
        let groups = Dictionary(grouping: feeds) { $0.category ?? "" }
        for category in groups.keys.sorted() {
            let path = category.split(separator: "/").map(String.init)
            let indent = String(repeating: "  ", count: path.count + 2)
            for (depth, folder) in path.enumerated() {
                out +=
                    String(repeating: "  ", count: depth + 2)
                    + "<outline text=\"\(escape(folder))\" title=\"\(escape(folder))\">\n"
            }
            for feed in groups[category] ?? [] {
                let name = escape(feed.title ?? feed.url.absoluteString)
                out +=
                    "\(indent)<outline type=\"rss\" text=\"\(name)\" title=\"\(name)\" xmlUrl=\"\(escape(feed.url.absoluteString))\"/>\n"
            }
            for depth in stride(from: path.count - 1, through: 0, by: -1) {
                out += String(repeating: "  ", count: depth + 2) + "</outline>\n"
            }
        }
        return out + "  </body>\n</opml>\n"
    }

    private static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
