import ArgumentParser
import Extraction
import Foundation
import NewsCore

extension Newsctl {
    struct Extract: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Prints the clean text of an HTML page from a file or standard input; needs no daemon.",
            discussion: "Exit status 0 with a text, 2 when the page has no main text (the reason goes to standard error).")

        @Argument(help: "An HTML file; standard input when left out.")
        var file: String?

        @Option(help: "The page's URL, for resolving relative links.")
        var url: String?

        @Option(help: "The charset the page was served with, which wins over what the page declares.")
        var charset: String?

        @Flag(help: "Print the metadata and the paragraphs as JSON.")
        var json = false

        func run() async throws {
            try await report {
                let html: Data
                if let file {
                    guard let data = FileManager.default.contents(atPath: file) else { throw CLIError("cannot read \(file)") }
                    html = data
                } else {
                    html = FileHandle.standardInput.readDataToEndOfFile()
                }
                let pageURL = url.flatMap { $0.isEmpty ? nil : URL(string: $0) }
                let article = Extractor.extract(html, url: pageURL, encoding: charset)
                if json {
                    struct Output: Encodable {
                        var extractor: String
                        var article: ExtractedArticle
                    }
                    let data = try JSONCoding.encoder(pretty: true).encode(Output(extractor: Extractor.version, article: article))
                    print(String(decoding: data, as: UTF8.self))
                } else if !article.paragraphs.isEmpty {
                    print(article.body)
                }
                if article.paragraphs.isEmpty {
                    FileHandle.standardError.write(Data("newsctl: \(article.note ?? "no main text")\n".utf8))
                    throw ExitCode(2)
                }
            }
        }
    }
}

extension Newsctl {
    struct Reextract: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-runs the current extractor over stored pages; new texts are stored beside the old ones.",
            discussion: """
                With --all, pages the current extractor has already cleaned are skipped, so running it twice does \
                nothing the second time; an ARTICLE's pages are all cleaned again (what the archive has learnt of \
                its site's template since may change the text). ARTICLE is the article's URL or the first 8 or more \
                hex digits of its id.
                """)

        @OptionGroup var connection: Connection

        @Argument(help: "The article whose pages to clean again.")
        var article: String?

        @Flag(help: "Clean every stored page again.")
        var all = false

        func validate() throws {
            guard (article != nil) != all else { throw ValidationError("name an ARTICLE or give --all, not both") }
        }

        func run() async throws {
            try await report {
                let query = article.map { "article=\(queryValue($0))" } ?? "all=1"
                let result = try await connection.call("POST", ControlPath.reextract + "?\(query)", as: ReextractReport.self)
                try connection.output(result) { report in
                    """
                    \(report.extractor): \(report.captures) pages cleaned again, \(report.newTexts) new texts, \
                    \(report.sameTexts) unchanged, \(report.noText) without text

                    """
                }
            }
        }
    }
}
