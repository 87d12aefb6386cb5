import ArgumentParser
import Foundation
import NewsCore

extension Newsctl {
    struct Tag: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Tags an article (or takes tags off it); tags sync to peers.",
            discussion: "ARTICLE is the article's URL or the first 8 or more hex digits of its id.")

        @OptionGroup var connection: Connection

        @Argument(help: "The article's URL or id.")
        var article: String

        @Argument(help: "Tags: 1 to 64 characters, no spaces.")
        var tags: [String]

        @Flag(help: "Take these tags off instead.")
        var remove = false

        func validate() throws {
            guard !tags.isEmpty else { throw ValidationError("name at least one tag") }
        }

        func run() async throws {
            try await annotate(
                article, tags.map { .init(key: ArticleAnnotations.Key.tag($0), value: remove ? nil : ArticleAnnotations.Key.on) },
                connection)
        }
    }

    struct Note: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Sets an article's note (or clears it); notes sync to peers.",
            discussion: "ARTICLE is the article's URL or the first 8 or more hex digits of its id. TEXT - reads standard input.")

        @OptionGroup var connection: Connection

        @Argument(help: "The article's URL or id.")
        var article: String

        @Argument(help: "The note; - reads it from standard input.")
        var text: String?

        @Flag(help: "Clear the note.")
        var clear = false

        func validate() throws {
            guard clear != (text != nil) else { throw ValidationError("give the note's text, or --clear") }
        }

        func run() async throws {
            let note = text == "-" ? String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self) : text
            try await annotate(article, [.init(key: ArticleAnnotations.Key.note, value: note)], connection)
        }
    }

    struct Hide: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Hides an article from lists and search (or shows it again); nothing is deleted, and peers follow.",
            discussion: "ARTICLE is the article's URL or the first 8 or more hex digits of its id.")

        @OptionGroup var connection: Connection

        @Argument(help: "The article's URL or id.")
        var article: String

        @Flag(help: "Show the article again.")
        var undo = false

        func run() async throws {
            try await annotate(
                article, [.init(key: ArticleAnnotations.Key.hidden, value: undo ? nil : ArticleAnnotations.Key.on)],
                connection)
        }
    }
}

/// Asks the daemon to make `changes` to `article`'s annotations, and prints what it has now.
private func annotate(_ article: String, _ changes: [AnnotationRequest.Change], _ connection: Connection) async throws {
    try await report {
        let body = try JSONCoding.encoder().encode(AnnotationRequest(article: article, changes: changes))
        let annotations = try await connection.call("POST", ControlPath.annotations, body: body, as: ArticleAnnotations.self)
        try connection.output(annotations, human: renderAnnotations)
    }
}

/// An article's annotations in a few lines; nothing when it has none.
func renderAnnotations(_ annotations: ArticleAnnotations) -> String {
    var out = ""
    if annotations.hidden { out += "hidden\n" }
    if !annotations.tags.isEmpty { out += "tags    \(annotations.tags.joined(separator: ", "))\n" }
    if let note = annotations.note { out += "note    \(note.replacingOccurrences(of: "\n", with: "\n        "))\n" }
    return out.isEmpty ? "no tags, no note, not hidden\n" : out
}
