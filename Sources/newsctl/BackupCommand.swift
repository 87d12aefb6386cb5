import ArgumentParser
import Crypto
import Foundation
import NewsCore
import Synchronization

extension Newsctl {
    struct Backup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Writes a consistent, checked copy of the archive to FILE while newsd runs.",
            discussion: """
                The copy is one SQLite file, the archive as it stood when the copy began, checked by SQLite's integrity
                check in newsd and by its SHA-256 on arrival; it is written beside FILE and renamed only when whole.
                newsd needs room for one more copy in its data directory while this runs. Open the copy with newsd by
                making it the archive.sqlite of a data directory.
                """)

        @OptionGroup var connection: Connection

        @Argument(help: "The file to write; it must not exist.")
        var file: String

        func run() async throws {
            try await report {
                guard !FileManager.default.fileExists(atPath: file) else { throw CLIError("\(file) exists already") }
                let made = try await makeCopy()
                guard let name = made.name, let bytes = made.bytes, let sha256 = made.sha256 else {
                    throw CLIError("newsd did not say where its copy is")
                }
                try await fetch(name, bytes: bytes, sha256: sha256)
                try connection.output(
                    made,
                    human: { backup in
                        let size = ByteCountFormatter.string(fromByteCount: bytes, countStyle: .binary)
                        return "backed up \(backup.articles) articles, \(backup.captures) captures (change log at "
                            + "\(backup.lastSequence)) to \(file): \(size), SQLite integrity \(backup.integrity), SHA-256 "
                            + "\(sha256)\n"
                    })
            }
        }

        /// Asks newsd for a copy, showing its progress on a terminal.
        private func makeCopy() async throws -> BackupResult {
            let bar = ProgressBar(enabled: !connection.json && isatty(STDERR_FILENO) == 1)
            let last = Mutex<BackupEvent?>(nil)
            let lines = LineSplitter { line in
                guard let event = try? JSONCoding.decoder().decode(BackupEvent.self, from: line) else { return }
                if let done = event.done, let total = event.total {
                    bar.show(done, of: total, unit: "pages")
                } else {
                    last.withLock { $0 = event }
                }
            }
            _ = try await connection.send("POST", ControlPath.backup, onData: lines.feed)
            bar.clear()
            let event = last.withLock { $0 }
            if let error = event?.error { throw CLIError("backup failed: \(error)") }
            guard let made = event?.backup else { throw CLIError("newsd sent no backup") }
            return made
        }

        /// Fetches the copy `name` into `file`, through a temporary file beside it that is renamed only once the bytes
        /// are all there and hash to `sha256`.
        private func fetch(_ name: String, bytes: Int64, sha256: String) async throws {
            let partial = file + ".partial"
            guard FileManager.default.createFile(atPath: partial, contents: nil, attributes: [.posixPermissions: 0o600]),
                let output = FileHandle(forWritingAtPath: partial)
            else { throw CLIError("cannot write \(partial)") }
            let state = Mutex((hasher: SHA256(), bytes: Int64(0), failure: String?.none))
            do {
                _ = try await connection.send("GET", ControlPath.backup + "?name=\(name)") { chunk in
                    state.withLock { state in
                        guard state.failure == nil else { return }
                        do {
                            try output.write(contentsOf: chunk)
                            state.hasher.update(data: chunk)
                            state.bytes += Int64(chunk.count)
                        } catch {
                            state.failure = "\(error)"
                        }
                    }
                }
                try output.synchronize()
                try output.close()
                let (hasher, received, failure) = state.withLock { $0 }
                if let failure { throw CLIError("writing \(partial) failed: \(failure)") }
                guard received == bytes, hasher.finalize().hexString == sha256 else {
                    throw CLIError("the copy arrived damaged (\(received) of \(bytes) bytes, or another SHA-256); try again")
                }
                guard rename(partial, file) == 0 else {
                    throw CLIError("cannot rename \(partial) to \(file): \(String(cString: strerror(errno)))")
                }
            } catch {
                try? FileManager.default.removeItem(atPath: partial)
                throw error
            }
        }
    }
}

extension Newsctl {
    struct Prove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Writes an evidence bundle for one article: a ZIP file anyone can check without newsd.",
            discussion: """
                The bundle holds every capture's raw page, its record and the canonical bytes its id hashes and its node
                signed, the signatures, the signing nodes' public keys, the trusted timestamps that cover each capture
                (token and Merkle path) with the authorities' CA certificates, and the texts and extractions made of the
                pages. Its README.md ends in a shell block that checks every claim with sha256sum and openssl alone.
                """)

        @OptionGroup var connection: Connection

        @Argument(help: "The article's URL or id (8 hex digits or more).")
        var article: String

        @Option(help: "The file to write (it must not exist); proof-ID.zip in this directory by default.")
        var out: String?

        /// What was written: `--json`'s output.
        struct Written: Codable {
            var file: String
            var bytes: Int
            var sha256: String
        }

        func run() async throws {
            try await report {
                let response = try await connection.send("GET", ControlPath.prove + "?ref=" + queryValue(article))
                let suggested = response.header("content-disposition")?.split(separator: "\"").dropFirst().first
                let file = out ?? suggested.map(String.init) ?? "proof.zip"
                guard !FileManager.default.fileExists(atPath: file) else { throw CLIError("\(file) exists already") }
                do {
                    try response.body.write(to: URL(fileURLWithPath: file), options: .withoutOverwriting)
                } catch {
                    throw CLIError("cannot write \(file): \(error.localizedDescription)")
                }
                let written = Written(file: file, bytes: response.body.count, sha256: SHA256.hash(data: response.body).hexString)
                try connection.output(written) { "wrote \($0.file) (\($0.bytes) bytes, SHA-256 \($0.sha256))\n" }
            }
        }
    }
}
