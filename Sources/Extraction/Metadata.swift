import Foundation

/// What a page says about itself, from JSON-LD, OpenGraph, meta tags and `<time>`, in that order of trust.
struct Metadata {
    var title: String?
    var byline: String?
    var published: String?
    var modified: String?
    var language: String?
    var canonicalURL: String?
    var imageURL: String?
    /// The article body JSON-LD carries, when it carries one.
    var articleBody: String?

    init(_ document: HTMLDocument, url: URL?) {
        let ld = LinkedData(document.jsonLD)
        let meta = document.metas
        func first(_ values: String?...) -> String? {
            values.lazy.compactMap { $0.map(normalise) }.first { !$0.isEmpty }
        }
        let pageTitle = normalise(String(decoding: document.titleText, as: UTF8.self))
        title = first(ld.headline, meta["og:title"], meta["twitter:title"], meta["dc.title"], pageTitle)
        byline = first(
            ld.author, meta["article:author"].flatMap { $0.hasPrefix("http") ? nil : $0 }, meta["author"],
            meta["dc.creator"], meta["byl"].map { $0.hasPrefix("By ") ? String($0.dropFirst(3)) : $0 }, meta["sailthru.author"],
            meta["parsely-author"])
        published = first(
            ld.datePublished, meta["article:published_time"], meta["og:published_time"], meta["datepublished"],
            meta["date"], meta["dc.date"], meta["dc.date.issued"], meta["pubdate"], meta["publishdate"],
            meta["parsely-pub-date"], meta["sailthru.date"], document.publishedTime, document.firstTime)
        modified = first(ld.dateModified, meta["article:modified_time"], meta["og:updated_time"], meta["datemodified"])
        language = first(
            ld.inLanguage, meta["og:locale"].map { $0.replacingOccurrences(of: "_", with: "-") }, meta["content-language"],
            meta["language"], document.language)
        canonicalURL = first(ld.url, meta["og:url"], document.canonicalLink).flatMap { Metadata.absolute($0, url) }
        imageURL = first(ld.image, meta["og:image"], meta["twitter:image"]).flatMap { Metadata.absolute($0, url) }
        articleBody = ld.articleBody
    }

    private static func absolute(_ link: String, _ base: URL?) -> String? {
        guard let resolved = URL(string: link, relativeTo: base)?.absoluteURL, resolved.scheme?.hasPrefix("http") == true
        else { return nil }
        return resolved.absoluteString
    }
}

/// The article object of a page's JSON-LD scripts (schema.org NewsArticle, Article, BlogPosting…).
private struct LinkedData {
    var headline: String?
    var author: String?
    var datePublished: String?
    var dateModified: String?
    var inLanguage: String?
    var url: String?
    var image: String?
    var articleBody: String?

    private static let articleTypes: Set<String> = [
        "article", "newsarticle", "reportagenewsarticle", "analysisnewsarticle", "opinionnewsarticle", "backgroundnewsarticle",
        "blogposting", "socialmediaposting", "liveblogposting", "scholarlyarticle", "techarticle", "report", "review",
    ]

    init(_ scripts: [[UInt8]]) {
        var objects: [[String: Any]] = []
        for script in scripts {
            guard let value = try? JSONSerialization.jsonObject(with: Data(script), options: [.fragmentsAllowed]) else {
                continue
            }
            LinkedData.collect(value, into: &objects, depth: 0)
        }
        guard
            let article = objects.first(where: { object in
                LinkedData.types(object).contains { LinkedData.articleTypes.contains($0.lowercased()) }
            })
        else { return }
        headline = LinkedData.string(article["headline"]) ?? LinkedData.string(article["name"])
        author = LinkedData.names(article["author"]) ?? LinkedData.names(article["creator"])
        datePublished = LinkedData.string(article["datePublished"]) ?? LinkedData.string(article["dateCreated"])
        dateModified = LinkedData.string(article["dateModified"])
        inLanguage = LinkedData.string(article["inLanguage"])
        url = LinkedData.string(article["url"]) ?? LinkedData.link(article["mainEntityOfPage"])
        image = LinkedData.link(article["image"]) ?? LinkedData.link(article["thumbnailUrl"])
        articleBody = LinkedData.string(article["articleBody"])
    }

    /// Every object in a JSON-LD value, looking into arrays and `@graph`.
    private static func collect(_ value: Any, into objects: inout [[String: Any]], depth: Int) {
        guard depth < 8 else { return }
        if let array = value as? [Any] {
            for element in array { collect(element, into: &objects, depth: depth + 1) }
        } else if let object = value as? [String: Any] {
            objects.append(object)
            if let graph = object["@graph"] { collect(graph, into: &objects, depth: depth + 1) }
        }
    }

    private static func types(_ object: [String: Any]) -> [String] {
        if let type = object["@type"] as? String { return [type] }
        return object["@type"] as? [String] ?? []
    }

    private static func string(_ value: Any?) -> String? {
        if let string = value as? String { return string }
        if let array = value as? [Any] { return array.lazy.compactMap { string($0) }.first }
        return nil
    }

    private static func names(_ value: Any?) -> String? {
        let values: [Any] = (value as? [Any]) ?? (value.map { [$0] } ?? [])
        let names = values.compactMap { element -> String? in
            if let name = element as? String { return name.hasPrefix("http") ? nil : name }
            return string((element as? [String: Any])?["name"])
        }
        return names.isEmpty ? nil : names.joined(separator: ", ")
    }

    private static func link(_ value: Any?) -> String? {
        if let string = value as? String { return string }
        if let object = value as? [String: Any] { return string(object["url"]) ?? string(object["@id"]) }
        if let array = value as? [Any] { return array.lazy.compactMap { link($0) }.first }
        return nil
    }
}
