import Foundation
import GRDB
import NewsCore
import NewsdTesting
import Testing

/// `newsctl verify`, run as the real binary, on a clean archive and on one tampered with behind its back.
@Suite(.timeLimit(.minutes(5))) struct VerifyTests {
    @Test func verifyPassesACleanArchiveAndNamesEveryTamperedItem() async throws {
        let newsctl = try #require(builtExecutable("newsctl"))
        let server = try await TestHTTPServer.start()
        Fixture.serveSite(on: server, pages: 3)
        let node = try await TestNode.start(feeds: [server.url("/feed.xml")])
        let events = node.subscribe()
        _ = try await node.poll()
        // After a poll the daemon makes dictionaries of the pages and recompresses them: verified once that is done.
        _ = try await node.event(within: 120, in: events) { event in
            if case .compacted(waiting: 0) = event { true } else { false }
        }
        let dictionaries = try ArchiveFile(path: node.archivePath).count("dictionary")
        let clean = try await runCommand(newsctl, ["verify", "--json", "--socket", node.config.controlSocket.path])
        #expect(clean.status == 0, "\(clean.stderr)")
        let report = try JSONCoding.decoder().decode(VerifyReport.self, from: Data(clean.stdout.utf8))
        #expect(report.isClean)
        #expect(report.blobs == 4 + dictionaries)
        #expect(report.signatures == 4 + 3, "three pages and the feed document, each signed, and the three extractions")
        #expect(report.records == 1 + 3 + 4 + 3 + 3, "node, articles, captures, texts, extractions")
        try await node.stop(removingData: false)

        // Behind the daemon's back: one stored blob cut short by a byte, another blob's size inflated, one signature
        // altered, one text edited. (Not a flipped byte: a page compressed with a dictionary that holds it is a frame of
        // a few dozen bytes, mostly one match, where a flipped bit may fall where the decoder does not look, leaving the
        // page as it was, which verify then rightly passes.)
        let queue = try DatabaseQueue(path: node.archivePath)
        let (blob, resized, capture, text) = try await queue.write { db -> (String, String, String, String) in
            let pages = "SELECT hash FROM blob WHERE hash IN (SELECT blobHash FROM capture) ORDER BY hash"
            let row = try #require(
                try Row.fetchOne(db, sql: "SELECT hash, data FROM blob WHERE hash = (\(pages) LIMIT 1)"))
            var data: Data = row["data"]
            data.removeLast()
            try db.execute(sql: "UPDATE blob SET data = ? WHERE hash = ?", arguments: [data, row["hash"] as String])
            let resized = try #require(try String.fetchOne(db, sql: "\(pages) LIMIT 1 OFFSET 1"))
            try db.execute(sql: "UPDATE blob SET size = 50000000 WHERE hash = ?", arguments: [resized])
            let capture = try #require(try String.fetchOne(db, sql: "SELECT id FROM capture ORDER BY id LIMIT 1"))
            let signature = try #require(
                try String.fetchOne(db, sql: "SELECT signature FROM capture WHERE id = ?", arguments: [capture]))
            let altered = (signature.first == "0" ? "1" : "0") + signature.dropFirst()
            try db.execute(sql: "UPDATE capture SET signature = ? WHERE id = ?", arguments: [altered, capture])
            let text = try #require(try String.fetchOne(db, sql: "SELECT id FROM text ORDER BY id LIMIT 1"))
            try db.execute(sql: "UPDATE text SET body = body || ' (edited)' WHERE id = ?", arguments: [text])
            return (row["hash"], resized, capture, text)
        }
        try queue.close()

        let restarted = try await TestNode.start(directory: node.directory)
        let tampered = try await runCommand(newsctl, ["verify", "--socket", restarted.config.controlSocket.path])
        #expect(tampered.status == 1)
        #expect(tampered.stdout.contains("4 problems"))
        #expect(tampered.stdout.contains("blob \(blob):"))
        #expect(tampered.stdout.contains("blob \(resized):"))
        #expect(tampered.stdout.contains("capture \(capture): signature does not verify"))
        #expect(tampered.stdout.contains("text \(text): content hashes to"))
        try await restarted.stop()
        await server.stop()
    }
}
