import ArgumentParser
import Fetching
import Foundation
import NewsCore
import Synchronization

extension Newsctl {
    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-hashes every blob and record, checks every signature and SQLite's integrity.",
            discussion: "Exits 0 when everything checks out, 1 when anything does not (each problem is listed with its id).")

        @OptionGroup var connection: Connection

        @Flag(help: "Also clean every stored page again and report each text that is not what its extraction says.")
        var reextract = false

        func run() async throws {
            try await report {
                let bar = ProgressBar(enabled: !connection.json && isatty(STDERR_FILENO) == 1)
                let received = Mutex<[VerifyEvent]>([])
                let lines = LineSplitter { line in
                    guard let event = try? JSONCoding.decoder().decode(VerifyEvent.self, from: line) else { return }
                    if let done = event.done, let total = event.total {
                        bar.show(done, of: total)
                    } else {
                        received.withLock { $0.append(event) }
                    }
                }
                _ = try await connection.send("POST", ControlPath.verify + (reextract ? "?reextract=1" : ""), onData: lines.feed)
                bar.clear()
                let events = received.withLock { $0 }
                if let error = events.compactMap(\.error).first { throw CLIError("verify failed: \(error)") }
                guard let result = events.compactMap(\.report).last else { throw CLIError("newsd sent no verification report") }
                try connection.output(result, human: Self.render)
                if !result.isClean { throw ExitCode(1) }
            }
        }

        static func render(_ report: VerifyReport) -> String {
            var out = "checked \(report.blobs) blobs, \(report.records) records, \(report.signatures) signatures; "
            out += "SQLite integrity: \(report.integrity)\n"
            if report.unverifiedExtractions > 0 {
                out += "\(report.unverifiedExtractions) texts are unverified: their extractions predate signed extractions\n"
            }
            if let same = report.reextracted {
                out += "\(same) texts made again from their pages and found the same"
                out +=
                    (report.notReextracted ?? 0) > 0
                    ? "; \(report.notReextracted ?? 0) made by another extractor version\n" : "\n"
            }
            if report.problems.isEmpty { return out + (report.isClean ? "everything checks out\n" : "") }
            out += "\(report.problems.count) problems:\n"
            for problem in report.problems { out += "  \(problem.kind) \(problem.id): \(problem.message)\n" }
            return out
        }
    }
}

/// Cuts a byte stream into lines and hands each complete one on.
final class LineSplitter: Sendable {
    private let pending = Mutex(Data())
    private let handle: @Sendable (Data) -> Void

    init(_ handle: @escaping @Sendable (Data) -> Void) { self.handle = handle }

    @Sendable func feed(_ chunk: Data) {
        let lines = pending.withLock { buffer -> [Data] in
            buffer.append(chunk)
            var lines: [Data] = []
            while let newline = buffer.firstIndex(of: 0x0A) {
                lines.append(buffer[buffer.startIndex..<newline])
                buffer.removeSubrange(buffer.startIndex...newline)
            }
            return lines
        }
        lines.forEach(handle)
    }
}

/// A one-line progress bar on stderr, for terminals only.
final class ProgressBar: Sendable {
    private let enabled: Bool

    init(enabled: Bool) { self.enabled = enabled }

    /// Shows `done` of `total` things, named `unit` after the count.
    func show(_ done: Int, of total: Int, unit: String = "") {
        guard enabled, total > 0 else { return }
        let width = 30
        let filled = min(width, done * width / total)
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        FileHandle.standardError.write(Data("\r[\(bar)] \(done)/\(total)\(unit.isEmpty ? "" : " " + unit)\u{1B}[K".utf8))
    }

    func clear() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}
