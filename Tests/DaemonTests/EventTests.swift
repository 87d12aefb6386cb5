import Foundation
import GRDB
import NewsCore
import NewsdTesting
import Testing

/// The reports the archive tests file into events, here as pages: first line the publication date, second the
/// headline, then paragraphs.
private let reports = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../ArchiveTests/Fixtures/events").standardizedFileURL

/// Serves each report as a page at `/e/NAME.html`, dated in its metadata; returns the names.
private func serveReports(on server: TestHTTPServer) throws -> [String] {
    let names = try FileManager.default.contentsOfDirectory(atPath: reports.path).filter { $0.hasSuffix(".txt") }.sorted()
    for name in names {
        let lines = try String(contentsOf: reports.appendingPathComponent(name), encoding: .utf8).split(separator: "\n")
        server.serve(
            "/e/\(name).html",
            body: """
                <html lang="en"><head><title>\(lines[1])</title>
                <meta property="article:published_time" content="\(lines[0])T08:00:00Z"></head>
                <body><article><h1>\(lines[1])</h1>\(lines.dropFirst(2).map { "<p>\($0)</p>" }.joined())</article>
                </body></html>
                """)
    }
    return names
}

/// Each article's event on `node`, by the article's path.
private func partition(_ node: TestNode) async throws -> [String: String] {
    var eventOf: [String: String] = [:]
    for event in try await node.events() {
        for member in event.stories.flatMap(\.members) {
            eventOf[URL(string: member.articleURL ?? "")?.path ?? ""] = event.id
        }
    }
    return eventOf
}

/// Real nodes agree on events: whatever order each ingested the reports in, and when one has them only by sync.
@Suite(.timeLimit(.minutes(5))) struct EventAgreementTests {
    @Test func nodesThatIngestedInOtherOrdersOrSyncedHoldTheSameEvents() async throws {
        let server = try await TestHTTPServer.start()
        let names = try serveReports(on: server)
        var generator = SeededGenerator(seed: 2026)
        var feeds: [URL] = []
        for order in 0..<3 {
            let items = names.shuffled(using: &generator).map { (id: $0, link: "/e/\($0).html") }
            server.serve("/order\(order).xml", body: Fixture.rss(items))
            feeds.append(server.url("/order\(order).xml"))
        }
        var nodes: [TestNode] = []
        for feed in feeds {
            let node = try await TestNode.start(feeds: [feed])
            #expect(try await node.poll().first?.lastResult == "ok")
            nodes.append(node)
        }
        let synced = try await TestNode.start(peers: [nodes[0].asPeer("a")])
        try await nodes[0].allow(synced, as: "synced")
        #expect(try await synced.sync().first?.lastError == nil)

        let reference = try await partition(nodes[0])
        #expect(reference.count == names.count)
        #expect(Set(reference.values).count == 3)
        for node in nodes.dropFirst() + [synced] {
            #expect(try await partition(node) == reference)
        }
        for node in nodes + [synced] { try await node.stop() }
        await server.stop()
    }

    /// An archive whose texts an older newsd stored (in no event) has them filed after the daemon starts, into the
    /// events they would have had.
    @Test func aDaemonFilesTextsStoredBeforeEventsIntoEvents() async throws {
        let server = try await TestHTTPServer.start()
        let names = try serveReports(on: server)
        server.serve("/feed.xml", body: Fixture.rss(names.map { (id: $0, link: "/e/\($0).html") }))
        let node = try await TestNode.start(feeds: [server.url("/feed.xml")])
        _ = try await node.poll()
        let filed = try await partition(node)
        try await node.stop(removingData: false)
        defer { try? FileManager.default.removeItem(at: node.directory) }
        let older = try DatabaseQueue(path: node.archivePath)
        try await older.write { db in try db.execute(sql: "DELETE FROM event_member; DELETE FROM event_key") }
        try older.close()

        let restarted = try await TestNode.start(directory: node.directory)
        let event = try await restarted.event(in: restarted.startEvents) {
            if case .olderTextsFiledIntoEvents = $0 { return true }
            return false
        }
        #expect(event == .olderTextsFiledIntoEvents(names.count))
        #expect(try await partition(restarted) == filed)
        try await restarted.stop()
        await server.stop()
    }
}
