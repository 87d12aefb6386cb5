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
}
