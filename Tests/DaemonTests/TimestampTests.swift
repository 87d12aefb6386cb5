import Archive
import Foundation
import GRDB
import NewsCore
import NewsdTesting
import Testing

/// Trusted timestamps (RFC 3161) from a real authority on loopback (OpenSSL's `ts -reply`), checked from outside with
/// `openssl ts -verify`, kept while the authority is unreachable, synced to a peer, and checked again by `verify`.
@Suite(.timeLimit(.minutes(5))) struct TimestampTests {
    /// A node polling a site of three pages, with `tsa` as its authority.
    private func node(_ server: TestHTTPServer, tsa: TestTSA, peers: [PeerConfig] = [], feeds: Bool = true) async throws
        -> TestNode
    {
        try await TestNode.start(feeds: feeds ? [server.url("/feed.xml")] : [], peers: peers) { config in
            config.tsas = [TSAConfig(url: tsa.url, caFile: tsa.caFile)]
        }
    }

    @Test func capturesWaitWhileTheAuthorityIsDownAndGetATokenThatOpenSSLAccepts() async throws {
        let newsctl = try #require(builtExecutable("newsctl"))
        let tsa = try await TestTSA.start()
        let server = try await TestHTTPServer.start()
        Fixture.serveSite(on: server, pages: 3)
        let node = try await node(server, tsa: tsa)
        let socket = node.config.controlSocket.path
        _ = try await node.poll()

        // The authority is unreachable: the four captures (three pages and the feed) wait, and the status says why.
        tsa.setUp(false)
        let refused = try await runCommand(newsctl, ["timestamp", "--socket", socket])
        #expect(refused.status == 1)
        #expect(refused.stdout.contains("HTTP 503"), "\(refused.stdout)")
        let waiting = try #require(try await node.status().timestamps)
        #expect(waiting.captures == 4 && waiting.stamped == 0)
        #expect(waiting.authorities.first?.waiting == 4)
        #expect(waiting.authorities.first?.lastError?.contains("503") == true)

        // Back: one token over the four, stored, and the status shows none waiting.
        tsa.setUp(true)
        let granted = try await runCommand(newsctl, ["timestamp", "--json", "--socket", socket])
        #expect(granted.status == 0, "\(granted.stdout) \(granted.stderr)")
        let result = try JSONCoding.decoder().decode(TimestampResult.self, from: Data(granted.stdout.utf8))
        #expect(result.tokens == 1 && result.captures == 4 && result.errors.isEmpty)
        let stamped = try #require(try await node.status().timestamps)
        #expect(stamped.stamped == 4 && stamped.authorities.first?.waiting == 0)
        #expect(stamped.authorities.first?.lastError == nil)
        let text = try await runCommand(newsctl, ["status", "--socket", socket])
        #expect(text.stdout.contains("timestamps 4 of 4 captures"), "\(text.stdout)")
        #expect(try await node.timestamp().tokens == 0, "nothing waits: no request")
        #expect(tsa.granted == 1)

        // From outside: the exported record's token, checked by OpenSSL against the test CA for the batch's root, and
        // refused for any other digest.
        let export = try await runCommand(newsctl, ["export", "--jsonl", "--socket", socket])
        let records = export.stdout.split(separator: "\n").compactMap { line -> TimestampRecord? in
            guard case .record(.timestamp(let record))? = try? JSONDecoder().decode(ExportLine.self, from: Data(line.utf8))
            else { return nil }
            return record
        }
        let record = try #require(records.first)
        #expect(record.captures.count == 4 && record.root == MerkleTree.root(record.captures))
        #expect(record.tsa == tsa.url.absoluteString && record.nodeID == node.nodeID)
        let tokenFile = node.directory.appendingPathComponent("token.der")
        try #require(record.tokenBytes).write(to: tokenFile)
        let openssl = URL(fileURLWithPath: "/usr/bin/openssl")
        func opensslVerify(_ digest: ContentHash) async throws -> CommandResult {
            try await runCommand(
                openssl,
                ["ts", "-verify", "-digest", digest.hex, "-in", tokenFile.path, "-token_in", "-CAfile", tsa.caFile.path])
        }
        let accepted = try await opensslVerify(record.root)
        #expect(accepted.status == 0 && accepted.stdout.contains("Verification: OK"), "\(accepted.stdout) \(accepted.stderr)")
        #expect(try await opensslVerify(MerkleTree.leaf(record.captures[0])).status != 0)
        // Each capture's path leads to that root.
        for capture in record.captures {
            let proof = try #require(record.proof(of: capture))
            #expect(MerkleTree.root(of: capture, at: proof.index, count: 4, path: proof.path) == record.root)
        }

        // verify checks the token; a token changed behind the daemon's back is named.
        let clean = try await runCommand(newsctl, ["verify", "--json", "--socket", socket])
        let report = try JSONCoding.decoder().decode(VerifyReport.self, from: Data(clean.stdout.utf8))
        #expect(clean.status == 0 && report.isClean && report.timestamps == 1, "\(clean.stdout)")
        try await node.stop(removingData: false)
        let queue = try DatabaseQueue(path: node.archivePath)
        try await queue.write { db in
            var token = try #require(record.tokenBytes)
            token[token.count - 10] ^= 0x01
            try db.execute(
                sql: "UPDATE timestamp SET token = ? WHERE id = ?", arguments: [token.base64EncodedString(), record.id])
        }
        try queue.close()
        let restarted = try await TestNode.start(directory: node.directory) { config in
            config.tsas = [TSAConfig(url: tsa.url, caFile: tsa.caFile)]
        }
        let tampered = try await runCommand(newsctl, ["verify", "--socket", restarted.config.controlSocket.path])
        #expect(tampered.status == 1)
        #expect(tampered.stdout.contains("timestamp \(record.id):"), "\(tampered.stdout)")
        try await restarted.stop()
        await server.stop()
        await tsa.stop()
    }

    @Test func anEvidenceBundleChecksWithSha256sumAndOpenSSLAloneAndFailsWhenOneByteChanges() async throws {
        let newsctl = try #require(builtExecutable("newsctl"))
        let tsa = try await TestTSA.start()
        let server = try await TestHTTPServer.start()
        Fixture.serveSite(on: server, pages: 2)
        let node = try await node(server, tsa: tsa)
        let socket = node.config.controlSocket.path
        _ = try await node.poll()
        #expect(try await node.timestamp().tokens == 1)
        // The page changes: a second capture, and a second token over it.
        server.serve(
            "/feed.xml",
            body: Fixture.rss([(id: "story-1", link: "/a/1.html")]).replacingOccurrences(
                of: "</title><link>", with: ", updated</title><link>"))
        server.serve("/a/1.html", body: Fixture.page("Story 1", paragraphs: ["Paragraph one, changed."]))
        _ = try await node.poll()
        #expect(try await node.timestamp().tokens == 1)

        let bundle = node.directory.appendingPathComponent("proof.zip")
        let proved = try await runCommand(
            newsctl, ["prove", server.url("/a/1.html").absoluteString, "--out", bundle.path, "--socket", socket])
        try #require(proved.status == 0, "\(proved.stderr)")
        let unpacked = node.directory.appendingPathComponent("proof")
        let unzip = try await runCommand(
            URL(fileURLWithPath: "/usr/bin/python3"), ["-m", "zipfile", "-e", bundle.path, unpacked.path])
        try #require(unzip.status == 0, "the bundle is a ZIP file Python reads: \(unzip.stderr)")

        // The README's own shell block, run as a reader would, in the bundle's folder.
        let readme = try String(contentsOf: unpacked.appendingPathComponent("README.md"), encoding: .utf8)
        let block = try #require(
            readme.components(separatedBy: "```sh\n").dropFirst().first?.components(separatedBy: "\n```").first)
        #expect(block.contains("openssl ts -verify") && block.contains("openssl pkeyutl -verify"))
        let script = node.directory.appendingPathComponent("check.sh")
        try block.write(to: script, atomically: true, encoding: .utf8)
        func check() async throws -> CommandResult {
            try await runCommand(URL(fileURLWithPath: "/bin/bash"), [script.path], directory: unpacked)
        }
        let passed = try await check()
        #expect(passed.status == 0 && passed.stdout.contains("every check passed"), "\(passed.stdout) \(passed.stderr)")
        let captures = try FileManager.default.contentsOfDirectory(atPath: unpacked.appendingPathComponent("captures").path)
        #expect(captures.count == 2, "both captures of the page")

        // One byte changed anywhere that a claim rests on fails the check: in a token, its time (the first date in it,
        // the TSTInfo's, before the certificates it carries, whose copies of the CA's add nothing to the claim).
        let year = Data(String(Calendar(identifier: .gregorian).component(.year, from: Date())).utf8)
        for file in [
            "captures/1/page", "captures/2/capture.canonical", "captures/1/timestamp-1.tsr", "captures/2/timestamp-1.path",
            "texts/1/text.canonical", "captures/1/capture.sig",
        ] {
            let url = unpacked.appendingPathComponent(file)
            let original = try Data(contentsOf: url)
            var changed = original
            let place = file.hasSuffix(".tsr") ? try #require(original.range(of: year)).upperBound - 1 : changed.count / 2
            changed[place] ^= 0x01
            try changed.write(to: url)
            let failed = try await check()
            #expect(failed.status != 0 && !failed.stdout.contains("every check passed"), "\(file) changed, yet: \(failed.stdout)")
            try original.write(to: url)
        }
        #expect(try await check().status == 0)

        try await node.stop()
        await server.stop()
        await tsa.stop()
    }

    @Test func eachAuthorityVouchesOnItsOwnAndOneDownHoldsNoneUp() async throws {
        let (first, second) = (try await TestTSA.start(), try await TestTSA.start(ec: true))
        let server = try await TestHTTPServer.start()
        Fixture.serveSite(on: server, pages: 2)
        let node = try await TestNode.start(feeds: [server.url("/feed.xml")]) { config in
            config.tsas = [TSAConfig(url: first.url, caFile: first.caFile), TSAConfig(url: second.url, caFile: second.caFile)]
        }
        _ = try await node.poll()
        second.setUp(false)
        let partly = try await node.timestamp()
        #expect(partly.tokens == 1 && partly.errors.keys.sorted() == [second.url.absoluteString])
        var status = try #require(try await node.status().timestamps)
        #expect(status.stamped == 3 && status.authorities.map(\.waiting) == [0, 3])
        second.setUp(true)
        #expect(try await node.timestamp().tokens == 1)
        status = try #require(try await node.status().timestamps)
        #expect(
            status.stamped == 3 && status.authorities.map(\.waiting) == [0, 0] && status.authorities.map(\.stamped) == [3, 3])
        // Each token's chain is checked against its own authority's CA: with the CA files crossed, both fail.
        try await node.stop(removingData: false)
        let crossed = try await TestNode.start(directory: node.directory) { config in
            config.tsas = [TSAConfig(url: first.url, caFile: second.caFile), TSAConfig(url: second.url, caFile: first.caFile)]
        }
        let newsctl = try #require(builtExecutable("newsctl"))
        let verified = try await runCommand(newsctl, ["verify", "--json", "--socket", crossed.config.controlSocket.path])
        let report = try JSONCoding.decoder().decode(VerifyReport.self, from: Data(verified.stdout.utf8))
        #expect(verified.status == 1 && report.timestamps == 0)
        #expect(report.problems.filter { $0.kind == "timestamp" && $0.message.contains("does not chain") }.count == 2)
        try await crossed.stop()
        await server.stop()
        await first.stop()
        await second.stop()
    }

    @Test func aPeerSyncsTheTokensAndDoesNotAskForThemAgain() async throws {
        let tsa = try await TestTSA.start(ec: true)
        let server = try await TestHTTPServer.start()
        Fixture.serveSite(on: server, pages: 3)
        let first = try await node(server, tsa: tsa)
        _ = try await first.poll()
        #expect(try await first.timestamp().captures == 4)

        let second = try await node(server, tsa: tsa, peers: [first.asPeer("first")], feeds: false)
        try await first.allow(second, as: "second")
        #expect(try await second.sync().first?.lastResult == "ok")
        let status = try #require(try await second.status().timestamps)
        #expect(status.captures == 4 && status.stamped == 4 && status.authorities.first?.waiting == 0)
        #expect(try await second.timestamp().tokens == 0)
        #expect(tsa.granted == 1)

        try await second.stop()
        try await first.stop()
        await server.stop()
        await tsa.stop()
    }
}
