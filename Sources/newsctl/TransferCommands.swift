import ArgumentParser
import Foundation
import NewsCore
import Synchronization

extension Newsctl {
    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Writes the archive as JSON Lines (everything, losslessly) or as WARC 1.1 (captures of articles).",
            discussion: """
                `newsctl import --jsonl` reads a JSON Lines export back into any node: the same hashes, the same signatures.
                A WARC export holds a request and a response record per capture, selectable by feed, date, story and event; to a \
                FILE ending in .gz (or with --gzip) each record is a gzip member of its own, as .warc.gz readers expect.
                """)

        @OptionGroup var connection: Connection

        @Flag(help: "JSON Lines: every record and blob, in change-log order.")
        var jsonl = false

        @Flag(help: "WARC 1.1: request and response records of article captures.")
        var warc = false

        @Flag(
            help: """
                WACZ 1.1.1: the WARC with its CDXJ index, a page list and a datapackage signed with the node's key, for \
                ReplayWeb.page, pywb and `wacz validate`; takes the WARC options.
                """)
        var wacz = false

        @Option(help: "WARC: only articles of this feed (its URL).")
        var feed: String?

        @Option(help: "WARC: only captures made on or after this date (YYYY-MM-DD).")
        var since: String?

        @Option(help: "WARC: only captures made before this date.")
        var until: String?

        @Option(help: "WARC: only articles of this copy group (its id, or the start of it).")
        var story: String?

        @Option(help: "WARC: only articles of this event (its id, or the start of it).")
        var event: String?

        @Flag(help: "WARC: compress each record as a gzip member of its own (the default for a FILE ending in .gz).")
        var gzip = false

        @Argument(help: "The file to write; standard output when left out.")
        var file: String?

        func run() async throws {
            try await report {
                guard [jsonl, warc, wacz].filter({ $0 }).count == 1 else {
                    throw CLIError("say which format: --jsonl, --warc or --wacz")
                }
                if wacz, file == nil { throw CLIError("a WACZ export needs a FILE to write") }
                let output: FileHandle
                if let file {
                    guard FileManager.default.createFile(atPath: file, contents: nil),
                        let handle = FileHandle(forWritingAtPath: file)
                    else {
                        throw CLIError("cannot write \(file)")
                    }
                    output = handle
                } else {
                    output = FileHandle.standardOutput
                }
                let failure = Mutex<String?>(nil)
                let written = Mutex(0)
                let write: @Sendable (Data) -> Void = { chunk in
                    do {
                        try output.write(contentsOf: chunk)
                        written.withLock { $0 += chunk.count }
                    } catch {
                        failure.withLock { $0 = $0 ?? "\(error)" }
                    }
                }
                if wacz {
                    let selection = CaptureSelection(
                        feed: feed, since: try since.map(ArticleFilter.date), until: try until.map(ArticleFilter.date),
                        story: story, event: event)
                    let name = URL(fileURLWithPath: file ?? "").deletingPathExtension().lastPathComponent
                    _ = try await connection.send(
                        "POST", ControlPath.exportWACZ + "?title=" + queryValue(name),
                        body: try JSONCoding.encoder().encode(selection), onData: write)
                } else if warc {
                    let selection = CaptureSelection(
                        feed: feed, since: try since.map(ArticleFilter.date), until: try until.map(ArticleFilter.date),
                        story: story, event: event)
                    let compressed = gzip || file?.hasSuffix(".gz") == true
                    _ = try await connection.send(
                        "POST", ControlPath.exportWARC + (compressed ? "?gzip=1" : ""),
                        body: try JSONCoding.encoder().encode(selection), onData: write)
                } else {
                    _ = try await connection.send("GET", ControlPath.export, onData: write)
                }
                try output.synchronize()
                if let error = failure.withLock({ $0 }) { throw CLIError("writing the export failed: \(error)") }
                // Said only of a file: on standard output the export is the output.
                if let file {
                    struct Written: Encodable {
                        var file: String
                        var format: String
                        var bytes: Int
                    }
                    let summary = Written(
                        file: file, format: wacz ? "wacz" : warc ? "warc" : "jsonl", bytes: written.withLock { $0 })
                    try connection.output(summary) { _ in "" }
                }
            }
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Adds what a JSON Lines export holds; every record, blob and signature is checked first.")

        @OptionGroup var connection: Connection

        @Flag(help: "JSON Lines, as `newsctl export --jsonl` writes it.")
        var jsonl = false

        @Argument(help: "The export file.")
        var file: String

        func run() async throws {
            try await report {
                guard jsonl else { throw CLIError("say which format: --jsonl") }
                guard let data = FileManager.default.contents(atPath: file) else { throw CLIError("cannot read \(file)") }
                let result = try await connection.call("POST", ControlPath.importLines, body: data, as: ImportResult.self)
                try connection.output(result) { "read \($0.lines) lines, \($0.added) records were new\n" }
            }
        }
    }
}
