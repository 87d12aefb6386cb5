import ArgumentParser
import Foundation
import NewsCore
import Synchronization

extension Newsctl {
    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Writes the whole archive as JSON Lines: every record and blob, in change-log order.",
            discussion: "`newsctl import --jsonl` reads it back into any node, losslessly: the same hashes, the same signatures.")

        @OptionGroup var connection: Connection

        @Flag(help: "JSON Lines (the only format so far).")
        var jsonl = false

        @Argument(help: "The file to write; standard output when left out.")
        var file: String?

        func run() async throws {
            try await report {
                guard jsonl else { throw CLIError("say which format: --jsonl") }
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
                _ = try await connection.send("GET", "/v1/export") { chunk in
                    do {
                        try output.write(contentsOf: chunk)
                    } catch {
                        failure.withLock { $0 = $0 ?? "\(error)" }
                    }
                }
                try output.synchronize()
                if let error = failure.withLock({ $0 }) { throw CLIError("writing the export failed: \(error)") }
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
                struct Imported: Codable {
                    var lines: Int
                    var added: Int
                }
                let result = try await connection.call("POST", "/v1/import", body: data, as: Imported.self)
                try connection.output(result) { "read \($0.lines) lines, \($0.added) records were new\n" }
            }
        }
    }
}
