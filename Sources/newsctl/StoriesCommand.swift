import ArgumentParser
import Foundation
import NewsCore

extension Newsctl {
    struct Stories: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Lists stories: texts that are copies, rewrites or updates of the same report, with their sources.")

        @OptionGroup var connection: Connection

        @Flag(help: "Also list stories with a single text.")
        var all = false

        @Option(help: "At most this many stories, largest first.")
        var limit = 100

        func run() async throws {
            try await report {
                let stories = try await connection.call(
                    "GET", ControlPath.stories + "?min=\(all ? 1 : 2)&limit=\(try checkedLimit(limit))", as: [Story].self)
                try connection.output(stories) { stories in
                    guard !stories.isEmpty else { return "no stories with more than one text yet\n" }
                    return stories.map { story in
                        let sources = Set(story.members.compactMap(\.source)).sorted().joined(separator: ", ")
                        var out =
                            "story \(story.id.prefix(12))  \(story.members.count) texts from \(sources.isEmpty ? "-" : sources)\n"
                        for member in story.members {
                            out += "  \(member.capturedAt ?? "-")  \(member.title ?? "(untitled)")\n"
                            if let url = member.articleURL { out += "      \(url)\n" }
                            if !member.provenance.byCapturingNode { out += "      \(member.provenance.description())\n" }
                        }
                        return out
                    }.joined(separator: "\n")
                }
            }
        }
    }
}
