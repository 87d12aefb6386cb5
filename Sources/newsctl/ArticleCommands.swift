import ArgumentParser
import Foundation
import NewsCore

extension Newsctl {
    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Shows an article's current text with its metadata and provenance.",
            discussion: "ARTICLE is the article's URL or the first 8 or more hex digits of its id.")

        @OptionGroup var connection: Connection

        @Argument(help: "The article's URL or id.")
        var article: String

        @Flag(help: "List every version of the text instead.")
        var versions = false

        func run() async throws {
            try await report {
                let detail = try await fetchArticle(article, connection)
                try connection.output(detail) { versions ? Self.versions($0) : Self.render($0) }
            }
        }

        static func render(_ detail: ArticleDetail) -> String {
            var out = "\(detail.url)\n"
            if let current = detail.versions.last {
                out += "\(current.title ?? detail.entryTitle ?? "(untitled)")\n"
                let meta = [current.byline, current.published.map { "published \($0)" }, current.language].compactMap { $0 }
                if !meta.isEmpty { out += meta.joined(separator: " · ") + "\n" }
            }
            out += "article \(detail.id)\n"
            if let story = detail.story { out += "story   \(story.prefix(12))\n" }
            for feed in detail.feeds { out += "feed    \(feed)\n" }
            if detail.annotations != ArticleAnnotations() { out += renderAnnotations(detail.annotations) }
            out += "\(detail.captures.count) captures, \(detail.versions.count) versions of the text\n"
            for capture in detail.captures {
                out +=
                    "  \(capture.fetchedAt)  HTTP \(capture.status)  \(capture.size) bytes  sha256 \(capture.blobHash.prefix(16))…"
                out += "  by node \(capture.nodeID.prefix(12))\n"
            }
            if !detail.otherTexts.isEmpty {
                out += "\(detail.otherTexts.count) texts by other nodes or unverified (newsctl show --versions lists them)\n"
            }
            if let current = detail.versions.last {
                out += "text    \(current.textID.prefix(12)), \(current.provenance()) with \(current.extractor)\n"
                out += "\n\(current.body)\n"
            } else if !detail.otherTexts.isEmpty {
                out += "\nno text extracted by the capturing node or this node\n"
            }
            return out
        }

        static func versions(_ detail: ArticleDetail) -> String {
            var out = "\(detail.url)\n"
            for (number, version) in detail.versions.enumerated() {
                out +=
                    "  \(number + 1)  \(version.firstSeen)  text \(version.textID.prefix(12))  \(version.title ?? detail.entryTitle ?? "(untitled)")"
                out += "  (\(version.provenance()))\n"
            }
            if !detail.otherTexts.isEmpty { out += "not versions of the article's text:\n" }
            for version in detail.otherTexts {
                out +=
                    "  -  \(version.firstSeen)  text \(version.textID.prefix(12))  \(version.title ?? detail.entryTitle ?? "(untitled)")"
                out += "  (\(version.provenance()))\n"
            }
            return out
        }
    }

    struct Diff: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Shows what changed between two versions of an article's text, word by word.",
            discussion:
                "Versions are numbered from 1 (the oldest), as `newsctl show --versions` lists them; by default the last two.")

        @OptionGroup var connection: Connection

        @Argument(help: "The article's URL or id.")
        var article: String

        @Argument(help: "The older version.")
        var from: Int?

        @Argument(help: "The newer version.")
        var to: Int?

        func run() async throws {
            try await report {
                let detail = try await fetchArticle(article, connection)
                let count = detail.versions.count
                guard count >= 1 else { throw CLIError("\(article) has no text") }
                let newer = to ?? count
                let older = from ?? max(1, newer - 1)
                guard (1...count).contains(older), (1...count).contains(newer) else {
                    throw CLIError("versions are numbered 1 to \(count)")
                }
                let a = detail.versions[older - 1]
                let b = detail.versions[newer - 1]
                let changes = WordDiff.between(a, b)
                struct Output: Encodable {
                    var from: Int
                    var to: Int
                    var diff: String
                }
                let rendered = WordDiff.render(changes)
                try connection.output(Output(from: older, to: newer, diff: rendered)) { output in
                    "version \(output.from) (\(a.firstSeen)) → version \(output.to) (\(b.firstSeen))\n\(output.diff)\n"
                }
            }
        }
    }
}

private func fetchArticle(_ reference: String, _ connection: Connection) async throws -> ArticleDetail {
    try await connection.call("GET", ControlPath.article + "?ref=\(queryValue(reference))", as: ArticleDetail.self)
}

extension Newsctl {
    struct Articles: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Lists, shows and compares archived articles.", subcommands: [List.self, Show.self, Diff.self],
            defaultSubcommand: List.self)

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Lists articles, most recently captured first.")

            @OptionGroup var connection: Connection

            @OptionGroup var filter: ArticleFilter

            @Option(help: "At most this many articles.")
            var limit = 50

            func run() async throws {
                try await report {
                    var query = ["limit=\(try checkedLimit(limit))"]
                    if let feed = filter.feed { query.append("feed=\(queryValue(feed))") }
                    let (since, until) = try filter.dates()
                    for (key, value) in [("since", since), ("until", until)] {
                        guard let value else { continue }
                        query.append("\(key)=\(queryValue(Canonical.timestamp(value)))")
                    }
                    if let tag = filter.tag { query.append("tag=\(queryValue(tag))") }
                    if filter.hidden { query.append("hidden=1") }
                    let articles = try await connection.call(
                        "GET", ControlPath.articles + "?" + query.joined(separator: "&"), as: [ArticleSummary].self)
                    try connection.output(articles) { articles in
                        guard !articles.isEmpty else { return "no articles\n" }
                        return articles.map { article in
                            let changes = article.versions > 1 ? ", \(article.versions) versions" : ""
                            return
                                "\(article.id.prefix(12))  \(article.lastCaptured.prefix(16))  \(article.title ?? "(untitled)")\n"
                                + "              \(article.url)  \(article.captures) captures\(changes)\n"
                        }.joined()
                    }
                }
            }
        }
    }
}

extension Newsctl {
    struct Edits: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Lists the articles whose page changed after it was first captured, with what changed, word by word.",
            discussion: """
                A page is fetched again when its feed entry changes and, announced or not, on the revisit schedule
                (revisit_after); a page that changed is a new capture, and a new version when its text changed. Titles
                count: a changed headline shows first.
                """)

        @OptionGroup var connection: Connection

        @Option(help: "Only articles changed on or after this date (YYYY-MM-DD or an ISO 8601 time, UTC).")
        var since: String?

        @Option(help: "At most this many articles.")
        var limit = 50

        func run() async throws {
            try await report {
                var query = ["limit=\(try checkedLimit(limit))"]
                if let since { query.append("since=" + queryValue(Canonical.timestamp(try ArticleFilter.date(since)))) }
                let edits = try await connection.call(
                    "GET", ControlPath.edits + "?" + query.joined(separator: "&"), as: [ArticleEdits].self)
                try connection.output(edits) { edits in
                    guard !edits.isEmpty else { return "no article changed after its first capture\n" }
                    return edits.map { article in
                        "\(article.title ?? "(untitled)")\n  \(article.url)\n  first captured \(article.firstCaptured)"
                            + (article.published.map { ", published \($0)" } ?? "") + "\n"
                            + article.changes.map { change in
                                "  version \(change.from) → \(change.to), \(change.at)"
                                    + (change.titleChanged ? " (headline changed)" : "") + "\n"
                                    + change.diff.split(separator: "\n", omittingEmptySubsequences: false).map { "    \($0)" }
                                    .joined(separator: "\n") + "\n"
                            }.joined()
                    }.joined(separator: "\n")
                }
            }
        }
    }
}
