import Fetching
import Foundation
import NewsCore
import NewsdTesting
import Testing

/// `/metrics` on the control socket, scraped as Prometheus would.
@Suite(.timeLimit(.minutes(5))) struct MetricsTests {
    private func scrape(_ node: TestNode) async throws -> [String: Double] {
        let response = try await Fetcher().fetch(
            FetchRequest(url: URL(string: "http://newsd/metrics")!, unixSocket: node.config.controlSocket.path))
        #expect(response.header("content-type")?.hasPrefix("text/plain") == true)
        var samples: [String: Double] = [:]
        let text = String(decoding: response.body, as: UTF8.self)
        // Every family has its HELP and TYPE lines.
        let typed = Set(text.split(separator: "\n").filter { $0.hasPrefix("# TYPE ") }.map { $0.split(separator: " ")[2] })
        let helped = Set(text.split(separator: "\n").filter { $0.hasPrefix("# HELP ") }.map { $0.split(separator: " ")[2] })
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let name = line.prefix { $0 != "{" && $0 != " " }
            let family = ["_bucket", "_sum", "_count"].reduce(name) { family, suffix in
                typed.contains(family) || !family.hasSuffix(suffix) ? family : family.dropLast(suffix.count)
            }
            #expect(typed.contains(family) && helped.contains(family), "\(family) has no HELP or TYPE")
        }
        // And Prometheus's own checker finds nothing to say (scripts/test installs it).
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/promtool") {
            let checked = try await runCommand(
                URL(fileURLWithPath: "/usr/bin/promtool"), ["check", "metrics"], input: response.body)
            #expect(checked.status == 0, "\(checked.stdout)\(checked.stderr)")
        }
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else {
                Issue.record("not a sample: \(line)")
                continue
            }
            samples[String(line[..<space])] = value
        }
        return samples
    }

    @Test func countersMoveWithPollsFetchesStoresAndSyncs() async throws {
        let server = try await TestHTTPServer.start()
        Fixture.serveSite(on: server, pages: 2)
        let a = try await TestNode.start(feeds: [server.url("/feed.xml")])
        _ = try await a.poll()
        let first = try await scrape(a)
        #expect(first["newsd_polls_total{result=\"ok\"}"] == 1)
        #expect(first["newsd_articles_stored_total"] == 2)
        #expect(first["newsd_fetch_seconds_count"] == 3)
        #expect((first["newsd_fetched_bytes_total"] ?? 0) > 0)
        #expect(first["newsd_extraction_seconds_count"] == 2)
        #expect(first["newsd_archive_articles"] == 2)
        #expect((first["newsd_archive_blob_bytes"] ?? 0) > 0)

        _ = try await a.poll()
        let second = try await scrape(a)
        #expect(second["newsd_polls_total{result=\"not-modified\"}"] == 1)
        #expect(second["newsd_fetch_seconds_count"] == 4)

        let b = try await TestNode.start(peers: [a.asPeer("a")])
        try await a.allow(b, as: "b")
        _ = try await b.sync()
        let synced = try await scrape(b)
        #expect(synced["newsd_sync_rounds_total{peer=\"a\",result=\"ok\"}"] == 1)
        #expect((synced["newsd_sync_records_total{peer=\"a\"}"] ?? 0) > 0)
        // What was pulled is at least the pages it stored, compressed; the push sent B's node record at least.
        let received = synced["newsd_sync_bytes_total{direction=\"received\",peer=\"a\"}"] ?? 0
        #expect(received > Double(try ArchiveFile(path: b.archivePath).count("blob") * 100))
        #expect((synced["newsd_sync_bytes_total{direction=\"sent\",peer=\"a\"}"] ?? 0) > 0)
        #expect(synced["newsd_sync_records_pushed_total{peer=\"a\"}"] == 1)
        try await b.stop()
        try await a.stop()
        await server.stop()
    }

    @Test func metricsAreAlsoServedOverTCPWhenAsked() async throws {
        let port = freePort()
        let node = try await TestNode.start { $0.metricsListen = "127.0.0.1:\(port)" }
        // The listener comes up with the daemon; a bounded number of tries while it binds.
        var response: FetchResponse?
        for _ in 0..<100 {
            response = try? await Fetcher().fetch(FetchRequest(url: URL(string: "http://127.0.0.1:\(port)/metrics")!))
            if response != nil { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        let body = String(decoding: try #require(response).body, as: UTF8.self)
        #expect(response?.status == 200)
        #expect(body.contains("newsd_archive_articles 0"))
        // Only /metrics: the control API stays on the socket.
        let status = try await Fetcher().fetch(FetchRequest(url: URL(string: "http://127.0.0.1:\(port)/v1/status")!))
        #expect(status.status == 404)
        try await node.stop()

        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("newsd.toml")
        try "metrics_listen = \"everywhere\"\n".write(to: file, atomically: true, encoding: .utf8)
        #expect(throws: (any Error).self) { try NewsdConfig.load(path: file.path) }
    }
}
