import CLibXML2
public import Foundation
public import NewsCore

/// OPML 1.0/2.0 subscription lists: nested outlines become categories (`News/Region`), and back.
public enum OPML {
    /// One feed of a list: its settings (title, category) and the site it belongs to (`htmlUrl`).
    public struct Subscription: Sendable, Equatable {
        public var feed: FeedConfig
        public var site: URL?

        public init(feed: FeedConfig, site: URL? = nil) {
            self.feed = feed
            self.site = site
        }
    }

    /// The feeds an OPML document lists, each with the path of folders it sits in as its category (or, outside any
    /// folder, the first path of its OPML 2.0 `category` attribute).
    public static func parse(_ data: Data) throws(FeedParseError) -> [Subscription] {
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
        var subscriptions: [Subscription] = []
        var seen = Set<URL>()
        // Depth-first with an explicit stack: (outline, folder path).
        var stack: [(Node, [String])] = body.children.reversed().map { ($0, []) }
        while let (outline, folders) = stack.popLast() {
            guard outline.name == "outline" else { continue }
            let title = outline.attribute("title") ?? outline.attribute("text")
            if let xmlURL = outline.attribute("xmlUrl") ?? outline.attribute("xmlurl"),
                let url = Whitespace.trimmed(xmlURL).flatMap({ URL(string: $0) }),
                ["http", "https"].contains(url.scheme?.lowercased() ?? "")
            {
                guard seen.insert(url).inserted else { continue }
                let declared = outline.attribute("category")?.split(separator: ",").first.map {
                    $0.split(separator: "/").compactMap { Whitespace.trimmed(String($0)) }
                }
                let path = folders.isEmpty ? declared ?? [] : folders
                let site = (outline.attribute("htmlUrl") ?? outline.attribute("htmlurl")).flatMap(Whitespace.trimmed)
                    .flatMap { URL(string: $0) }
                subscriptions.append(
                    Subscription(
                        feed: FeedConfig(url: url, title: title, category: path.isEmpty ? nil : path.joined(separator: "/")),
                        site: site.flatMap { ["http", "https"].contains($0.scheme?.lowercased() ?? "") ? $0 : nil }))
            } else {
                let folder = folders + (title.map { [$0] } ?? [])
                stack.append(contentsOf: outline.children.reversed().map { ($0, folder) })
            }
        }
        return subscriptions
    }

    /// An OPML 2.0 document listing `subscriptions`, in folders nested as their categories' paths.
    public static func export(_ subscriptions: [Subscription], title: String = "newsd feeds") -> String {
        /// A folder: its feeds and its subfolders by name.
        final class Folder {
            var feeds: [Subscription] = []
            var folders: [String: Folder] = [:]
        }
        let top = Folder()
        for subscription in subscriptions {
            var folder = top
            for name in (subscription.feed.category ?? "").split(separator: "/").map(String.init) {
                if let existing = folder.folders[name] {
                    folder = existing
                } else {
                    let created = Folder()
                    folder.folders[name] = created
                    folder = created
                }
            }
            folder.feeds.append(subscription)
        }
        var out = """
            <?xml version="1.0" encoding="UTF-8"?>
            <opml version="2.0">
              <head><title>\(escape(title))</title></head>
              <body>

            """
        func write(_ folder: Folder, depth: Int) {
            let indent = String(repeating: "  ", count: depth + 2)
            for subscription in folder.feeds {
                let name = escape(subscription.feed.title ?? subscription.feed.url.absoluteString)
                let site = subscription.site.map { " htmlUrl=\"\(escape($0.absoluteString))\"" } ?? ""
                out +=
                    "\(indent)<outline type=\"rss\" text=\"\(name)\" title=\"\(name)\" "
                    + "xmlUrl=\"\(escape(subscription.feed.url.absoluteString))\"\(site)/>\n"
            }
            for name in folder.folders.keys.sorted() {
                out += "\(indent)<outline text=\"\(escape(name))\" title=\"\(escape(name))\">\n"
                write(folder.folders[name]!, depth: depth + 1)
                out += "\(indent)</outline>\n"
            }
        }
        write(top, depth: 0)
        return out + "  </body>\n</opml>\n"
    }

    private static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
