import Daemon
import Foundation
import GRDB
import NewsdTesting
import Testing

@Suite(.timeLimit(.minutes(5))) struct CompactionTests {
    /// Pages are compressed fast as they arrive, then recompressed once polling stops; every one still hashes right.
    @Test func pagesAreRecompressedOncePollingStops() async throws {
        let server = try await TestHTTPServer.start()
        // Scheduled, so that the daemon compacts; its poll at start finds no feed yet. Pages are stored only after the
        // test listens for the daemon's events.
        let node = try await TestNode.start(feeds: [server.url("/feed.xml")], syncInterval: 3600)
        let events = node.subscribe()
        Fixture.serveSite(on: server, pages: 40)
        _ = try await node.poll()
        let last = try await node.event(within: 120, in: events) { event in
            if case .compacted(waiting: 0) = event { true } else { false }
        }
        #expect(last == .compacted(waiting: 0))
        let file = try ArchiveFile(path: node.archivePath)
        let waiting = try await file.queue.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM blob WHERE compacted = 0") }
        #expect(waiting == 0)
        // The pages of one host are recompressed with its dictionary, itself a blob.
        let (dictionaries, withOne) = try await file.queue.read { db in
            (
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM dictionary") ?? 0,
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM blob WHERE encoding LIKE 'zstd:%'") ?? 0
            )
        }
        #expect(dictionaries == 1)
        #expect(withOne >= 40)
        #expect(try file.verifiedBlobHashes().count == 41, "forty pages and the feed document")
        try await node.stop()
        await server.stop()
    }

    /// A daemon without a schedule recompresses after the polls it is asked for, and the file gives back the space.
    @Test func aManualDaemonRecompressesAndTheFileShrinks() async throws {
        let server = try await TestHTTPServer.start()
        let node = try await TestNode.start(feeds: [server.url("/feed.xml")])
        let events = node.subscribe()
        // Pages of a few dozen KB each, whose stored form shrinks by whole database pages when recompressed.
        let items = (1...40).map { (id: "big-\($0)", link: "/big/\($0).html") }
        server.serve("/feed.xml", body: Fixture.rss(items))
        for number in 1...40 {
            let paragraphs = (0..<300).map { line in
                "Line \(line) of report \(number): \((0..<12).map { String(($0 * 7919 + line * 104_729 + number) % 99_991) }.joined(separator: " "))."
            }
            server.serve("/big/\(number).html", body: Fixture.page("Report \(number)", paragraphs: paragraphs))
        }
        _ = try await node.poll()
        _ = try await node.event(within: 120, in: events) { event in
            if case .compacted(waiting: 0) = event { true } else { false }
        }
        let file = try ArchiveFile(path: node.archivePath)
        let (autoVacuum, free) = try await file.queue.read { db in
            (try Int.fetchOne(db, sql: "PRAGMA auto_vacuum"), try Int.fetchOne(db, sql: "PRAGMA freelist_count"))
        }
        #expect(autoVacuum == 2, "incremental")
        #expect(free == 0, "the pages recompression freed went back to the file system")
        try await node.stop()
        await server.stop()
    }
}
