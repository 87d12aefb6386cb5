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
        let last = try await node.event(within: 60, in: events) { event in
            if case .compacted(waiting: 0) = event { true } else { false }
        }
        #expect(last == .compacted(waiting: 0))
        let file = try ArchiveFile(path: node.archivePath)
        let waiting = try await file.queue.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM blob WHERE compacted = 0") }
        #expect(waiting == 0)
        #expect(try file.verifiedBlobHashes().count == 41, "forty pages and the feed document")
        try await node.stop()
        await server.stop()
    }
}
