import Foundation
import NewsCore
import NewsdTesting
import Testing

/// `newsctl export --jsonl` and `newsctl import --jsonl`, run as the real binary.
@Suite(.timeLimit(.minutes(5))) struct ExportImportTests {
    @Test func anArchiveRoundTripsIntoAnEmptyNodeWithTheSameHashes() async throws {
        let newsctl = try #require(builtExecutable("newsctl"))
        let server = try await TestHTTPServer.start()
        Fixture.serveSite(on: server, pages: 4)
        let a = try await TestNode.start(feeds: [server.url("/feed.xml")])
        _ = try await a.poll()
        let file = a.directory.appendingPathComponent("archive.jsonl")
        let export = try await runCommand(newsctl, ["export", "--jsonl", file.path, "--socket", a.config.controlSocket.path])
        #expect(export.status == 0, "\(export.stderr)")

        let b = try await TestNode.start()
        let imported = try await runCommand(
            newsctl, ["import", "--jsonl", file.path, "--json", "--socket", b.config.controlSocket.path])
        #expect(imported.status == 0, "\(imported.stderr)")
        let fileA = try ArchiveFile(path: a.archivePath)
        let fileB = try ArchiveFile(path: b.archivePath)
        #expect(try fileB.verifiedBlobHashes() == fileA.verifiedBlobHashes())
        #expect(try fileB.verifiedTextIDs() == fileA.verifiedTextIDs())
        #expect(try fileB.captureIDs() == fileA.captureIDs())
        #expect(try fileB.count("node") == 2, "A's node record came along; B has its own")

        // Importing again changes nothing; a tampered line is refused with its batch.
        let again = try await runCommand(newsctl, ["import", "--jsonl", file.path, "--socket", b.config.controlSocket.path])
        #expect(again.stdout.hasSuffix(", 0 records were new\n"), "\(again.stdout)\(again.stderr)")
        let lines = try String(contentsOf: file, encoding: .utf8).split(separator: "\n")
        let tampered = a.directory.appendingPathComponent("tampered.jsonl")
        try lines.map {
            $0.contains("\"kind\":\"text\"") ? $0.replacingOccurrences(of: "Paragraph one", with: "Paragraph 1") : String($0)
        }
        .joined(separator: "\n").write(to: tampered, atomically: true, encoding: .utf8)
        let c = try await TestNode.start()
        let refused = try await runCommand(
            newsctl, ["import", "--jsonl", tampered.path, "--socket", c.config.controlSocket.path])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("does not match its content"))
        #expect(try ArchiveFile(path: c.archivePath).count("text") == 0)

        for node in [a, b, c] { try await node.stop() }
        await server.stop()
    }

    @Test func anImportWithATamperedBlobOrSignatureStoresNothingOfThatBatch() async throws {
        let newsctl = try #require(builtExecutable("newsctl"))
        let server = try await TestHTTPServer.start()
        Fixture.serveSite(on: server, pages: 2)
        let a = try await TestNode.start(feeds: [server.url("/feed.xml")])
        _ = try await a.poll()
        let tag = try await runCommand(
            newsctl, ["tag", server.url("/a/1.html").absoluteString, "checked", "--socket", a.config.controlSocket.path])
        #expect(tag.status == 0, "\(tag.stderr)")
        let file = a.directory.appendingPathComponent("archive.jsonl")
        #expect(
            try await runCommand(newsctl, ["export", "--jsonl", file.path, "--socket", a.config.controlSocket.path]).status == 0)
        let lines = try String(contentsOf: file, encoding: .utf8).split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }

        /// The export with the first line of `kind` changed by `change`, imported into a new node: what newsctl said,
        /// and how many of `kind` the node then holds.
        func importTampered(_ kind: String, _ change: (inout [String: Any]) -> Void) async throws -> (CommandResult, Int) {
            var changed = lines
            let index = try #require(changed.firstIndex { $0["kind"] as? String == kind })
            change(&changed[index])
            let tampered = a.directory.appendingPathComponent("tampered-\(kind).jsonl")
            try changed.map { String(decoding: try JSONSerialization.data(withJSONObject: $0), as: UTF8.self) }
                .joined(separator: "\n").write(to: tampered, atomically: true, encoding: .utf8)
            let node = try await TestNode.start()
            let result = try await runCommand(
                newsctl, ["import", "--jsonl", tampered.path, "--socket", node.config.controlSocket.path])
            let stored = try ArchiveFile(path: node.archivePath).count(kind)
            try await node.stop()
            return (result, stored)
        }
        func flipSignature(_ line: inout [String: Any]) {
            var record = line["record"] as? [String: Any] ?? [:]
            let signature = record["signature"] as? String ?? ""
            record["signature"] = (signature.first == "0" ? "1" : "0") + signature.dropFirst()
            line["record"] = record
        }

        let (blob, blobs) = try await importTampered("blob") { line in
            var bytes = Data(base64Encoded: line["data"] as? String ?? "") ?? Data()
            bytes[bytes.count / 2] ^= 0x01
            line["data"] = bytes.base64EncodedString()
        }
        #expect(blob.status == 1)
        #expect(blob.stderr.hasPrefix("newsctl: ") && blob.stderr.contains("hash"), "\(blob.stderr)")
        #expect(blobs == 0)
        for kind in ["capture", "extraction", "annotation"] {
            let (result, stored) = try await importTampered(kind, flipSignature)
            #expect(result.status == 1, "\(kind)")
            #expect(result.stderr.contains("does not carry a valid signature"), "\(kind): \(result.stderr)")
            #expect(stored == 0, "\(kind)")
        }
        try await a.stop()
        await server.stop()
    }
}
