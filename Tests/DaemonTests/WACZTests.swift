import Fetching
import Foundation
import NewsCore
import NewsdTesting
import Testing

/// The Python tools scripts/test installs into .build-venv: `wacz` (Webrecorder's validator) and `cdxj-indexer`.
private let venv: URL? = {
    let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..")
        .standardizedFileURL
    let bin = repository.appendingPathComponent(".build-venv/bin")
    return FileManager.default.isExecutableFile(atPath: bin.appendingPathComponent("wacz").path) ? bin : nil
}()

/// pywb's `wb-manager` and `wayback`, in the venv scripts/test makes for them (.build-pywb).
private let pywb: URL? = {
    let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..")
        .standardizedFileURL
    let bin = repository.appendingPathComponent(".build-pywb/bin")
    return FileManager.default.isExecutableFile(atPath: bin.appendingPathComponent("wayback").path) ? bin : nil
}()

/// `newsctl export --wacz`: a WACZ 1.1.1 file that Webrecorder's own validator accepts, whose index agrees with the one
/// cdxj-indexer makes of its WARC, and whose datapackage digest the node's key signed.
@Suite(.timeLimit(.minutes(5))) struct WACZTests {
    @Test(.enabled(if: venv != nil, "wacz is installed by scripts/test"))
    func waczExportValidatesAndIndexesAsWebrecordersToolsDo() async throws {
        let bin = try #require(venv)
        let newsctl = try #require(builtExecutable("newsctl"))
        let server = try await TestHTTPServer.start()
        Fixture.serveSite(on: server, pages: 3)
        server.serve("/other.xml", body: Fixture.rss([(id: "x", link: "/x.html?b=2&a=1")]))
        server.serve("/x.html", body: Fixture.page("Other", paragraphs: ["Another page entirely."]))
        let node = try await TestNode.start(feeds: [server.url("/feed.xml"), server.url("/other.xml")])
        _ = try await node.poll()
        let socket = node.config.controlSocket.path
        let file = node.directory.appendingPathComponent("site.wacz")
        let export = try await runCommand(newsctl, ["export", "--wacz", file.path, "--socket", socket])
        try #require(export.status == 0, "\(export.stderr)")

        let validated = try await runCommand(bin.appendingPathComponent("wacz"), ["validate", "-f", file.path])
        #expect(validated.status == 0 && validated.stdout.contains("Validation succeeded"), "\(validated.stdout)")

        // The index: one line per page, keyed and placed as cdxj-indexer keys and places the WARC's responses.
        let unpacked = node.directory.appendingPathComponent("site")
        let python = bin.appendingPathComponent("python")
        #expect(try await runCommand(python, ["-m", "zipfile", "-e", file.path, unpacked.path]).status == 0)
        let ours = try String(contentsOf: unpacked.appendingPathComponent("indexes/index.cdx"), encoding: .utf8)
        let theirs = try await runCommand(
            bin.appendingPathComponent("cdxj-indexer"), [unpacked.appendingPathComponent("archive/data.warc.gz").path])
        #expect(theirs.status == 0, "\(theirs.stderr)")
        func places(_ index: String, responsesOnly: Bool) throws -> [String] {
            try index.split(separator: "\n").compactMap { line in
                let parts = line.split(separator: " ", maxSplits: 2)
                let fields = try #require(
                    try JSONSerialization.jsonObject(with: Data(parts[2].utf8)) as? [String: Any])
                if responsesOnly, fields["method"] != nil || fields["mime"] as? String == "warc/request" { return nil }
                return "\(parts[0]) \(parts[1]) \(fields["offset"] ?? "") \(fields["length"] ?? "") \(fields["digest"] ?? "")"
            }
        }
        let ourPlaces = try places(ours, responsesOnly: false)
        #expect(ourPlaces.count == 4)
        #expect(ourPlaces == ourPlaces.sorted())
        #expect(Set(ourPlaces) == Set(try places(theirs.stdout, responsesOnly: true)), "\(ours)\n---\n\(theirs.stdout)")
        #expect(ours.contains("?a=1&b=2 "), "query parameters sorted, as SURT keys have them")
        let pages = try String(contentsOf: unpacked.appendingPathComponent("pages/pages.jsonl"), encoding: .utf8)
        #expect(pages.split(separator: "\n").count == 1 + 4 && pages.hasPrefix("{\"format\":\"json-pages-1.0\""))

        // The datapackage's digest, signed with the node's Ed25519 key: checked by OpenSSL.
        let digest = try #require(
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: unpacked.appendingPathComponent("datapackage-digest.json"))) as? [String: Any])
        let signed = try #require(digest["signedData"] as? [String: String])
        #expect(signed["nodeID"] == node.nodeID && signed["hash"] == digest["hash"] as? String)
        let key = unpacked.appendingPathComponent("node.pem")
        try "-----BEGIN PUBLIC KEY-----\n\(try #require(signed["publicKey"]))\n-----END PUBLIC KEY-----\n".write(
            to: key, atomically: true, encoding: .utf8)
        let message = unpacked.appendingPathComponent("hash.txt")
        try Data(try #require(signed["hash"]).utf8).write(to: message)
        let signature = unpacked.appendingPathComponent("hash.sig")
        let signatureText = try #require(signed["signature"])
        try #require(Data(base64Encoded: signatureText)).write(to: signature)
        let verified = try await runCommand(
            URL(fileURLWithPath: "/usr/bin/openssl"),
            ["pkeyutl", "-verify", "-pubin", "-inkey", key.path, "-rawin", "-in", message.path, "-sigfile", signature.path])
        #expect(verified.status == 0, "\(verified.stdout) \(verified.stderr)")

        // One byte of the index changed inside the file (it is stored as it is): the validator refuses it.
        var bytes = try Data(contentsOf: file)
        let line = try #require(bytes.range(of: Data("1,0,0,127:".utf8)))
        bytes[line.lowerBound] ^= 0x01
        try bytes.write(to: file)
        let tampered = try await runCommand(bin.appendingPathComponent("wacz"), ["validate", "-f", file.path])
        #expect(tampered.status != 0 || !tampered.stdout.contains("Validation succeeded"))
        try await node.stop()
        await server.stop()
    }

    @Test(.enabled(if: pywb != nil, "pywb is installed by scripts/test"))
    func pywbReplaysTheArchivedPagesFromTheWACZByteForByte() async throws {
        let bin = try #require(pywb)
        let newsctl = try #require(builtExecutable("newsctl"))
        let server = try await TestHTTPServer.start()
        Fixture.serveSite(on: server, pages: 2)
        let node = try await TestNode.start(feeds: [server.url("/feed.xml")])
        _ = try await node.poll()
        let file = node.directory.appendingPathComponent("site.wacz")
        let export = try await runCommand(
            newsctl, ["export", "--wacz", file.path, "--socket", node.config.controlSocket.path])
        try #require(export.status == 0, "\(export.stderr)")
        let page = server.url("/a/1.html")
        let original = try await Fetcher().fetch(FetchRequest(url: page)).body
        await server.stop()

        // A pywb collection made of the WACZ, served on loopback; the page asked for as it was archived (id_: raw).
        let root = node.directory.appendingPathComponent("pywb")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        for arguments in [["init", "site"], ["add", "--unpack-wacz", "site", file.path]] {
            let step = try await runCommand(bin.appendingPathComponent("wb-manager"), arguments, directory: root)
            try #require(step.status == 0, "wb-manager \(arguments[0]): \(step.stderr)")
        }
        let port = freePort()
        let wayback = try ChildProcess(
            bin.appendingPathComponent("wayback"), ["-p", "\(port)", "-b", "127.0.0.1", "-d", root.path])
        defer { wayback.signal(SIGKILL) }
        guard await wayback.waitForLine(containing: "Starting Gevent Server", within: 20) != nil else {
            wayback.signal(SIGTERM)
            let status = await wayback.waitForExit()
            Issue.record("wayback did not start (\(status)): \(wayback.stderrLines)")
            return
        }
        // The year of the capture: pywb answers the nearest capture to the time asked for, by a redirect unless it is
        // this one's; redirects are followed anyway. pywb says it starts before it listens: a refused connection is
        // tried again, for ten seconds at most.
        let year = Calendar(identifier: .gregorian).component(.year, from: Date())
        let replay = FetchRequest(url: URL(string: "http://127.0.0.1:\(port)/site/\(year)id_/\(page.absoluteString)")!)
        var replayed = try? await Fetcher().fetch(replay)
        for _ in 0..<100 where replayed == nil {
            try await Task.sleep(for: .milliseconds(100))
            replayed = try? await Fetcher().fetch(replay)
        }
        let response = try #require(replayed, "pywb never answered on port \(port): \(wayback.stderrLines)")
        #expect(
            response.status == 200 && response.body == original, "\(String(decoding: response.body.prefix(300), as: UTF8.self))")
        wayback.signal(SIGTERM)
        _ = await wayback.waitForExit()
        try await node.stop()
    }
}
