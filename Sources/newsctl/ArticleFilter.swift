import ArgumentParser
import Foundation

/// The options that choose articles by where they came from, when they were captured and how they are annotated.
struct ArticleFilter: ParsableArguments {
    @Option(help: "Only articles that came through this feed (its URL).")
    var feed: String?

    @Option(help: "Only captures made on or after this date (YYYY-MM-DD or an ISO 8601 time, UTC).")
    var since: String?

    @Option(help: "Only captures made before this date.")
    var until: String?

    @Option(help: "Only articles carrying this tag.")
    var tag: String?

    @Flag(help: "Include hidden articles.")
    var hidden = false

    /// `since` and `until` read as dates.
    func dates() throws -> (since: Date?, until: Date?) {
        (try since.map(Self.date), try until.map(Self.date))
    }

    /// A date as the options take it: `YYYY-MM-DD` (midnight UTC) or a full ISO 8601 time.
    static func date(_ text: String) throws -> Date {
        let full = text.count == 10 ? text + "T00:00:00Z" : text
        guard let date = try? Date.ISO8601FormatStyle().parse(full) else {
            throw CLIError("\(text) is not a date (YYYY-MM-DD)")
        }
        return date
    }
}
