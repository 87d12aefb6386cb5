import ArgumentParser
import Foundation
import NewsCore

extension Newsctl {
    struct Stories: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Lists events: every outlet's report of the same event, with its copy groups and sources.",
            discussion: """
                An event holds copy groups (texts that are copies, rewrites or updates of one report). With --copies, \
                lists the copy groups alone, as stories.
                """)

        @OptionGroup var connection: Connection

        @Flag(help: "Also list events (or copy groups) with a single text.")
        var all = false

        @Flag(help: "List copy groups (copies, rewrites and updates of one report) instead of events.")
        var copies = false

        @Option(help: "At most this many, largest first.")
        var limit = 100

        func run() async throws {
            try await report {
                let query = "?min=\(all ? 1 : 2)&limit=\(try checkedLimit(limit))"
                if copies {
                    let stories = try await connection.call("GET", ControlPath.stories + query, as: [Story].self)
                    try connection.output(stories) { stories in
                        guard !stories.isEmpty else { return "no stories with more than one text yet\n" }
                        return stories.map { describe($0, indent: "") }.joined(separator: "\n")
                    }
                } else {
                    let events = try await connection.call("GET", ControlPath.events + query, as: [Event].self)
                    try connection.output(events) { events in
                        guard !events.isEmpty else { return "no events with more than one text yet\n" }
                        return events.map(summary).joined(separator: "\n")
                    }
                }
            }
        }

        /// An event's line, then its copy groups.
        private func summary(_ event: Event) -> String {
            var out = "event \(event.id.prefix(12))  \(event.size) texts, \(event.stories.count) copy groups"
            out += "  \(event.firstCaptured ?? "-") to \(event.lastCaptured ?? "-")\n"
            out += "  from \(event.sources.isEmpty ? "-" : event.sources.joined(separator: ", "))\n"
            return out + event.stories.map { describe($0, indent: "  ") }.joined()
        }
    }

    struct StoryTimeline: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "story",
            abstract: "Shows an event's timeline: who reported what, when, and which texts are copies of which.")

        @OptionGroup var connection: Connection

        @Argument(
            help:
                "The event's id (8 or more hex digits, as `newsctl stories` shows), an id it had before a merge, or a copy group's."
        )
        var id: String

        func run() async throws {
            try await report {
                let event = try await connection.call("GET", ControlPath.event + "?id=\(queryValue(id))", as: Event.self)
                try connection.output(event) { event in
                    var out = "event \(event.id)  \(event.size) texts from \(event.sources.joined(separator: ", "))\n"
                    if !event.merged.isEmpty {
                        out += "  merged from \(event.merged.map { String($0.prefix(12)) }.joined(separator: ", "))\n"
                    }
                    let letters = event.letters
                    for (story, member) in event.timeline {
                        out += "  \(member.capturedAt ?? "-")  [\(letters[story] ?? "?")] \(member.source ?? "-")"
                        out += "  \(member.title ?? "(untitled)")\n"
                        if let url = member.articleURL { out += "      \(url)\n" }
                    }
                    return out
                }
            }
        }
    }
}

/// A copy group with its texts, each line indented by `indent`.
private func describe(_ story: Story, indent: String) -> String {
    let sources = Set(story.members.compactMap(\.source)).sorted().joined(separator: ", ")
    var out = "\(indent)story \(story.id.prefix(12))  \(story.size ?? story.members.count) texts from "
    out += "\(sources.isEmpty ? "-" : sources)\n"
    for member in story.members {
        out += "\(indent)  \(member.capturedAt ?? "-")  \(member.title ?? "(untitled)")\n"
        if let url = member.articleURL { out += "\(indent)      \(url)\n" }
        if !member.provenance.byCapturingNode { out += "\(indent)      \(member.provenance.description())\n" }
    }
    return out
}
