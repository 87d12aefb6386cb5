import ArgumentParser
import Feeds
import Fetching
import Foundation
import NewsCore

extension Newsctl {
    struct Feeds: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Lists, adds, removes, imports, exports and test-parses feeds.",
            subcommands: [List.self, Show.self, Add.self, Remove.self, Import.self, Export.self, Parse.self],
            defaultSubcommand: List.self)
    }
}

extension Newsctl.Feeds {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Lists the feeds with their polling state.")

        @OptionGroup var connection: Connection

        func run() async throws {
            try await report {
                let feeds = try await connection.call("GET", ControlPath.feeds, as: [FeedStatus].self)
                try connection.output(feeds) { StatusText.feeds($0, now: Date()) }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Shows one feed: its polling state, site, last error and permanent moves.")

        @OptionGroup var connection: Connection

        @Argument(help: "The feed's URL, as declared or where it moved to.")
        var url: String

        func run() async throws {
            try await report {
                let feeds = try await connection.call("GET", ControlPath.feeds, as: [FeedStatus].self)
                guard let feed = feeds.first(where: { $0.url == url || $0.location == url }) else {
                    throw CLIError("\(url) is not a feed")
                }
                try connection.output(feed) { StatusText.feeds([$0], now: Date()) }
            }
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Adds a feed after checking that it answers with a feed; polls it once.")

        @OptionGroup var connection: Connection

        @Argument(help: "The feed's http or https URL.")
        var url: String

        @Option(help: "A title to show instead of the feed's own.")
        var title: String?

        @Option(help: "A folder for the feed, e.g. News/Region.")
        var category: String?

        @Option(help: "Seconds between polls, instead of following the feed's rhythm.")
        var interval: Double?

        func run() async throws {
            try await report {
                guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme?.lowercased() ?? ""),
                    parsed.host != nil
                else {
                    throw CLIError("\(url) is not an http or https URL")
                }
                let body = try JSONCoding.encoder().encode(
                    FeedConfig(url: parsed, title: title, interval: interval, category: category))
                let feed = try await connection.call("POST", ControlPath.feeds, body: body, as: FeedStatus.self)
                try connection.output(feed) { StatusText.feeds([$0], now: Date()) }
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stops polling a feed added with newsctl; its articles stay.")

        @OptionGroup var connection: Connection

        @Argument(help: "The feed's URL.")
        var url: String

        func run() async throws {
            try await report {
                _ = try await connection.send("DELETE", ControlPath.feeds + "?url=\(queryValue(url))")
                try connection.output(["removed": url]) { "removed \($0["removed"] ?? "")\n" }
            }
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Adds the feeds an OPML file lists; folders become categories.")

        @OptionGroup var connection: Connection

        @Argument(help: "The OPML file.")
        var file: String

        func run() async throws {
            try await report {
                guard let data = FileManager.default.contents(atPath: file) else { throw CLIError("cannot read \(file)") }
                let result = try await connection.call("POST", ControlPath.feedsOPML, body: data, as: OPMLImport.self)
                try connection.output(result) { "added \($0.added) feeds, skipped \($0.skipped) already present\n" }
            }
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Writes the feeds as OPML, to a file or standard output.",
            discussion: "With --json and no FILE, the feeds are printed as JSON instead of OPML.")

        @OptionGroup var connection: Connection

        @Argument(help: "The file to write; standard output when left out.")
        var file: String?

        /// A feed as `--json` prints it.
        struct Exported: Encodable {
            var url: String
            var title: String?
            var category: String?
            var site: String?
        }

        func run() async throws {
            try await report {
                let response = try await connection.send("GET", ControlPath.feedsOPML)
                let feeds = try OPML.parse(response.body).map {
                    Exported(
                        url: $0.feed.url.absoluteString, title: $0.feed.title, category: $0.feed.category,
                        site: $0.site?.absoluteString)
                }
                if let file {
                    guard FileManager.default.createFile(atPath: file, contents: response.body) else {
                        throw CLIError("cannot write \(file)")
                    }
                    struct Written: Encodable {
                        var file: String
                        var feeds: Int
                    }
                    try connection.output(Written(file: file, feeds: feeds.count)) { _ in "" }
                } else if connection.json {
                    try connection.output(feeds) { _ in "" }
                } else {
                    FileHandle.standardOutput.write(response.body)
                }
            }
        }
    }

    struct Parse: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Parses a feed file or URL and prints its entries, storing nothing; needs no daemon.")

        @Argument(help: "A feed file, or an http or https URL.")
        var source: String

        @Option(help: "The URL a feed file came from, for resolving its relative links (the file's own path otherwise).")
        var url: String?

        @Flag(help: "Print JSON instead of text.")
        var json = false

        func run() async throws {
            try await report {
                let (data, url, contentType) = try await load()
                let feed: ParsedFeed
                do {
                    feed = try FeedParser.parse(data, url: url, contentType: contentType)
                } catch {
                    throw CLIError("\(source): \(error)")
                }
                if json {
                    let encoder = JSONCoding.encoder(pretty: true)
                    print(String(decoding: try encoder.encode(feed), as: UTF8.self))
                } else {
                    print(
                        "\(feed.title ?? "(untitled)") — \(feed.format.rawValue), \(feed.entries.count) entries", terminator: "")
                    print(feed.warnings > 0 ? ", repaired while parsing" : "")
                    for entry in feed.entries {
                        print("  \(entry.title ?? "(untitled)")\n    \(entry.link?.absoluteString ?? entry.id)")
                    }
                }
            }
        }

        private func load() async throws -> (Data, URL, String?) {
            if let url = URL(string: source), ["http", "https"].contains(url.scheme?.lowercased() ?? "") {
                let response: FetchResponse
                do {
                    response = try await Fetcher(userAgent: "newsctl/\(newsdVersion)").fetch(FetchRequest(url: url))
                } catch {
                    throw CLIError("\(source): \(error)")
                }
                guard response.status == 200 else { throw CLIError("\(source): HTTP \(response.status)") }
                return (response.body, response.finalURL, response.header("content-type"))
            }
            let file = URL(fileURLWithPath: source)
            guard let data = FileManager.default.contents(atPath: file.path) else { throw CLIError("cannot read \(source)") }
            guard let url else { return (data, file, nil) }
            guard let base = URL(string: url), base.scheme != nil else { throw CLIError("--url \(url) is not an absolute URL") }
            return (data, base, nil)
        }
    }
}
