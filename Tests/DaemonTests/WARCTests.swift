import Foundation
import NewsCore
import NewsdTesting
import Testing

/// Python with warcio, which scripts/test installs into .build-venv.
private let warcioPython: URL? = {
    let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..")
        .standardizedFileURL
    let python = repository.appendingPathComponent(".build-venv/bin/python")
    return FileManager.default.isExecutableFile(atPath: python.path) ? python : nil
}()

/// Reads every record with warcio, recomputes each payload's SHA-256, and prints what it found as JSON.
private let checker = """
    import base64, hashlib, json, sys
    from warcio.archiveiterator import ArchiveIterator
    types, checked, bad = {}, 0, []
    with open(sys.argv[1], 'rb') as stream:
        for record in ArchiveIterator(stream):
            types[record.rec_type] = types.get(record.rec_type, 0) + 1
            digest = record.rec_headers.get_header('WARC-Payload-Digest')
            if digest:
                payload = record.content_stream().read()
                algorithm, value = digest.split(':', 1)
                if base64.b32encode(hashlib.sha256(payload).digest()).decode() != value:
                    bad.append(record.rec_headers.get_header('WARC-Target-URI'))
                checked += 1
    print(json.dumps({"types": types, "checked": checked, "bad": bad}))
    """

/// Counts the gzip members of a file, and the WARC records the members start with.
private let members = """
    import sys, zlib
    data, members, records = open(sys.argv[1], 'rb').read(), 0, 0
    while data:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        member = inflater.decompress(data)
        members += 1
        records += member.startswith(b'WARC/1.1\\r\\n')
        data = inflater.unused_data
    print(members, records)
    """

@Suite(.timeLimit(.minutes(5))) struct WARCTests {
    @Test(.enabled(if: warcioPython != nil, "warcio is installed by scripts/test"))
    func warcExportPassesWarcioAndEveryPayloadDigestMatches() async throws {
        let python = try #require(warcioPython)
        let newsctl = try #require(builtExecutable("newsctl"))
        let server = try await TestHTTPServer.start()
        Fixture.serveSite(on: server, pages: 3)
        server.serve("/other.xml", body: Fixture.rss([(id: "x", link: "/x.html")]))
        server.serve("/x.html", body: Fixture.page("Other", paragraphs: ["Another page entirely."]))
        let node = try await TestNode.start(feeds: [server.url("/feed.xml"), server.url("/other.xml")])
        _ = try await node.poll()
        let socket = node.config.controlSocket.path
        let file = node.directory.appendingPathComponent("all.warc")
        let export = try await runCommand(newsctl, ["export", "--warc", file.path, "--socket", socket])
        #expect(export.status == 0, "\(export.stderr)")

        let check = try await runCommand(python, ["-m", "warcio.cli", "check", "-v", file.path])
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        #expect(!check.stdout.contains("failed"), "\(check.stdout)")

        struct Checked: Decodable {
            var types: [String: Int]
            var checked: Int
            var bad: [String]
        }
        let result = try await runCommand(python, ["-c", checker, file.path])
        let all = try JSONDecoder().decode(Checked.self, from: Data(result.stdout.utf8))
        #expect(all.types == ["warcinfo": 1, "request": 4, "response": 4])
        #expect(all.checked == 4)
        #expect(all.bad.isEmpty)

        #expect(try Data(contentsOf: file).prefix(8) == Data("WARC/1.1".utf8), "a plain .warc is not compressed")

        // To a .warc.gz, every record is a gzip member of its own, and warcio reads the same records.
        let packed = node.directory.appendingPathComponent("all.warc.gz")
        let gzipped = try await runCommand(newsctl, ["export", "--warc", packed.path, "--socket", socket])
        #expect(gzipped.status == 0, "\(gzipped.stderr)")
        let packedCheck = try await runCommand(python, ["-m", "warcio.cli", "check", "-v", packed.path])
        #expect(packedCheck.status == 0 && !packedCheck.stdout.contains("failed"), "\(packedCheck.stdout)\(packedCheck.stderr)")
        let unpacked = try JSONDecoder().decode(
            Checked.self, from: Data(try await runCommand(python, ["-c", checker, packed.path]).stdout.utf8))
        #expect(unpacked.types == all.types && unpacked.checked == 4 && unpacked.bad.isEmpty)
        let counted = try await runCommand(python, ["-c", members, packed.path])
        #expect(counted.stdout == "9 9\n", "\(counted.stdout)\(counted.stderr)")

        let selected = node.directory.appendingPathComponent("one-feed.warc")
        _ = try await runCommand(
            newsctl, ["export", "--warc", selected.path, "--feed", server.url("/other.xml").absoluteString, "--socket", socket])
        let one = try JSONDecoder().decode(
            Checked.self, from: Data(try await runCommand(python, ["-c", checker, selected.path]).stdout.utf8))
        #expect(one.types["response"] == 1)
        let future = node.directory.appendingPathComponent("none.warc")
        _ = try await runCommand(newsctl, ["export", "--warc", future.path, "--since", "2999-01-01", "--socket", socket])
        let none = try JSONDecoder().decode(
            Checked.self, from: Data(try await runCommand(python, ["-c", checker, future.path]).stdout.utf8))
        #expect(none.types == ["warcinfo": 1])

        // Before a date, and one story's articles.
        func responses(_ arguments: [String]) async throws -> Int? {
            let out = node.directory.appendingPathComponent("selected-\(UUID().uuidString).warc")
            let export = try await runCommand(newsctl, ["export", "--warc", out.path] + arguments + ["--socket", socket])
            #expect(export.status == 0, "\(export.stderr)")
            let checked = try JSONDecoder().decode(
                Checked.self, from: Data(try await runCommand(python, ["-c", checker, out.path]).stdout.utf8))
            return checked.types["response"]
        }
        #expect(try await responses(["--until", "2000-01-01"]) == nil)
        #expect(try await responses(["--until", "2999-01-01"]) == 4)
        let show = try await runCommand(
            newsctl, ["show", server.url("/x.html").absoluteString, "--json", "--socket", socket])
        let story = try #require(try JSONCoding.decoder().decode(ArticleDetail.self, from: Data(show.stdout.utf8)).story)
        #expect(try await responses(["--story", String(story.prefix(12))]) == 1)
        try await node.stop()
        await server.stop()
    }
}
