import ArgumentParser
import Foundation
import NewsCore

extension Newsctl {
    struct Search: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Searches the archive's texts (title and body).",
            discussion: """
                QUERY is FTS5 syntax: words (all must match), "a phrase", prefix*, OR, NOT, title:word.
                Dates are YYYY-MM-DD or full ISO 8601 times (UTC).
                """)

        @OptionGroup var connection: Connection

        @Argument(help: "What to look for.")
        var query: String

        @OptionGroup var filter: ArticleFilter

        @Option(help: "Only texts of this copy group (its id or 8+ hex digits of it, as `newsctl stories --copies` shows).")
        var story: String?

        @Option(help: "Only texts of this event (its id or 8+ hex digits of it, as `newsctl stories` shows).")
        var event: String?

        @Option(help: "At most this many results.")
        var limit = 20

        @Flag(
            help: """
                Also find the spellings of each word that the archive holds: a letter or two apart once case and \
                diacritics are folded (Deraa, Daraa), or with another article (al-, el-). Says which it used.
                """)
        var variants = false

        func run() async throws {
            try await report {
                let (since, until) = try filter.dates()
                let request = SearchQuery(
                    text: query, feed: filter.feed, since: since, until: until, story: story, event: event, tag: filter.tag,
                    includeHidden: filter.hidden, limit: try checkedLimit(limit), variants: variants)
                let response = try await connection.send(
                    "POST", ControlPath.search, body: try JSONCoding.encoder().encode(request))
                let hits = try connection.decode([SearchHit].self, from: response)
                if variants {
                    let used =
                        response.header("x-newsd-variants")?.removingPercentEncoding.flatMap {
                            try? JSONDecoder().decode([String: [String]].self, from: Data($0.utf8))
                        } ?? [:]
                    let said =
                        used.isEmpty
                        ? "no other spellings in the archive"
                        : used.keys.sorted().map { "\($0): \(used[$0]!.joined(separator: ", "))" }.joined(separator: "; ")
                    FileHandle.standardError.write(Data("variants: \(said)\n".utf8))
                }
                try connection.output(hits) { hits in
                    guard !hits.isEmpty else { return "no matches\n" }
                    return hits.map {
                        "\($0.title ?? "(untitled)")\n  \($0.articleURL)  captured \($0.capturedAt), "
                            + "\($0.provenance.description())\n  \($0.snippet)\n"
                    }
                    .joined(separator: "\n")
                }
            }
        }
    }
}
