import Foundation
import NewsCore

/// JSON Feed 1.0 and 1.1 (https://jsonfeed.org/version/1.1).
enum JSONFeed {
    private struct Document: Decodable {
        var version: String?
        var title: String?
        var homePageUrl: String?
        var items: [Item]?
    }

    private struct Author: Decodable {
        var name: String?
    }

    private struct Attachment: Decodable {
        var url: String?
    }

    private struct Item: Decodable {
        var id: LenientString?
        var url: String?
        var externalUrl: String?
        var title: String?
        var contentHtml: String?
        var contentText: String?
        var summary: String?
        var image: String?
        var datePublished: String?
        var dateModified: String?
        var author: Author?
        var authors: [Author]?
        var attachments: [Attachment]?
    }

    /// JSON Feed 1.0 allowed numeric ids; they are read as strings.
    private struct LenientString: Decodable {
        let value: String

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let string = try? container.decode(String.self) {
                value = string
            } else if let number = try? container.decode(Int64.self) {
                value = String(number)
            } else {
                value = String(try container.decode(Double.self))
            }
        }
    }

    static func parse(_ data: Data, url: URL) throws(FeedParseError) -> ParsedFeed {
        let document: Document
        do {
            let decoder = JSONDecoder()
            decoder.keyDecodingStrategy = .convertFromSnakeCase
            document = try decoder.decode(Document.self, from: data)
        } catch {
            throw .notAFeed("JSON that is no JSON Feed: \(error)")
        }
        guard let version = document.version, version.contains("jsonfeed.org/version/") else {
            throw .notAFeed("JSON without a jsonfeed.org version")
        }
        func resolve(_ string: String?) -> URL? {
            guard let string, !string.isEmpty, let resolved = URL(string: string, relativeTo: url)?.absoluteURL else {
                return nil
            }
            return resolved.scheme == nil ? nil : resolved
        }
        let entries = (document.items ?? []).map { item in
            let link = resolve(item.url) ?? resolve(item.externalUrl)
            let published = item.datePublished.flatMap(FeedDate.parse)
            let declared = item.id?.value.trimmingCharacters(in: .whitespaces)
            var id = "sha256:" + ContentHash(ofText: (item.title ?? "") + "\u{1F}" + (item.datePublished ?? "")).hex
            if let link { id = link.absoluteString }
            if let declared, !declared.isEmpty { id = declared }
            return FeedEntry(
                id: id, title: item.title.flatMap(Whitespace.collapsed), link: link, published: published,
                updated: item.dateModified.flatMap(FeedDate.parse),
                author: (item.authors?.first ?? item.author)?.name, summary: item.summary,
                content: item.contentHtml ?? item.contentText,
                enclosures: ([item.image] + (item.attachments ?? []).map(\.url)).compactMap(resolve))
        }
        return ParsedFeed(
            format: .json, title: document.title.flatMap(Whitespace.collapsed), link: resolve(document.homePageUrl),
            entries: entries, warnings: 0)
    }
}
