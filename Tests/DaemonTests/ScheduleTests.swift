import Foundation
import NewsCore
import NewsdTesting
import Testing

/// The running `newsd` schedules each feed's next poll by its configuration and the server's hints, and SIGHUP
/// changes the schedule for the polls after it.
@Suite(.timeLimit(.minutes(5))) struct ScheduleTests {
    /// An RSS channel without items, with `extra` inside it.
    private static func channel(_ extra: String = "") -> String {
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Schedule</title>\(extra)</channel></rss>"
    }

    private static func httpDate(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter.string(from: date)
    }

    /// Polls every feed through `newsctl poll --json`; the statuses by feed path.
    private static func poll(_ newsctl: URL, socket: String) async throws -> [String: FeedStatus] {
        let result = try await runCommand(newsctl, ["poll", "--json", "--socket", socket])
        try #require(result.status == 0, "\(result.stderr)")
        let statuses = try JSONCoding.decoder().decode([FeedStatus].self, from: Data(result.stdout.utf8))
        return Dictionary(uniqueKeysWithValues: statuses.map { (URL(string: $0.url)!.path, $0) })
    }

    /// Expects `status` to be next polled `seconds` after `start` give or take the schedule's 5 % jitter (and the
    /// poll's own time).
    private static func expectNext(
        _ status: FeedStatus?, in seconds: Double, after start: Date, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        guard let next = status?.nextPollAt else {
            Issue.record("no next poll: \(String(describing: status))", sourceLocation: sourceLocation)
            return
        }
        let wait = next.timeIntervalSince(start)
        #expect(
            wait >= seconds * 0.95 - 1 && wait <= seconds * 1.05 + 30,
            "\(status?.url ?? ""): next poll in \(wait) s, not \(seconds)",
            sourceLocation: sourceLocation)
    }

    @Test func theRunningDaemonFollowsTtlCacheHeadersSkipsAndFixedIntervals() async throws {
        let newsd = try #require(builtExecutable("newsd"))
        let newsctl = try #require(builtExecutable("newsctl"))
        let server = try await TestHTTPServer.start()
        let start = Date()
        let hour = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "GMT")!, from: start).hour!
        let weekdays = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"]
        let today = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "GMT")!, from: start).weekday! - 1
        let startOfHour = (start.timeIntervalSince1970 / 3600).rounded(.down) * 3600
        let startOfDay = (start.timeIntervalSince1970 / 86400).rounded(.down) * 86400

        server.serve("/plain.xml", body: Self.channel())
        server.serve("/ttl.xml", body: Self.channel("<ttl>60</ttl>"))
        server.serve("/max-age.xml", body: Self.channel(), headers: [.cacheControl: "public, max-age=1800"])
        server.serve("/expires.xml", body: Self.channel(), headers: [.expires: Self.httpDate(start.addingTimeInterval(2700))])
        server.serve("/capped.xml", body: Self.channel(), headers: [.cacheControl: "max-age=1000000"])
        server.serve("/fixed.xml", body: Self.channel(), headers: [.cacheControl: "max-age=7200"])
        // Every hour skipped but the third from now; today and tomorrow skipped.
        let hours = (0..<24).filter { $0 != (hour + 3) % 24 }.map { "<hour>\($0)</hour>" }.joined()
        server.serve("/skip-hours.xml", body: Self.channel("<skipHours>\(hours)</skipHours>"))
        let days = [weekdays[today], weekdays[(today + 1) % 7]].map { "<day>\($0.capitalized)</day>" }.joined()
        server.serve("/skip-days.xml", body: Self.channel("<skipDays>\(days)</skipDays>"))

        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.appendingPathComponent("newsd.toml")
        let feeds = [
            "/plain.xml", "/ttl.xml", "/max-age.xml", "/expires.xml", "/capped.xml", "/skip-hours.xml", "/skip-days.xml",
        ]
        .map { "[[feed]]\nurl = \"\(server.url($0))\"\n" }.joined()
        try
            "data_dir = \"data\"\nlisten = \"\"\npoll_interval = 600\nmax_poll_interval = 7200\n\(feeds)[[feed]]\nurl = \"\(server.url("/fixed.xml"))\"\ninterval = 120\n"
            .write(to: config, atomically: true, encoding: .utf8)
        let daemon = try await startManual(newsd, config: config)
        let polled = try await Self.poll(newsctl, socket: directory.appendingPathComponent("data/newsd.sock").path)
        #expect(polled.count == 8)
        #expect(polled.values.allSatisfy { $0.lastResult == "ok" }, "\(polled.values.map { ($0.url, $0.lastError) })")

        Self.expectNext(polled["/plain.xml"], in: 600, after: start)
        Self.expectNext(polled["/ttl.xml"], in: 3600, after: start)
        Self.expectNext(polled["/max-age.xml"], in: 1800, after: start)
        Self.expectNext(polled["/expires.xml"], in: 2700, after: start)
        Self.expectNext(polled["/capped.xml"], in: 7200, after: start)
        Self.expectNext(polled["/fixed.xml"], in: 120, after: start)
        // Skipped hours and days move the poll to the first whole hour that is not skipped.
        #expect(polled["/skip-hours.xml"]?.nextPollAt?.timeIntervalSince1970 == startOfHour + 3 * 3600)
        #expect(polled["/skip-days.xml"]?.nextPollAt?.timeIntervalSince1970 == startOfDay + 2 * 86400)

        daemon.signal(SIGTERM)
        #expect(await daemon.waitForExit() == 0)
        await server.stop()
    }

    @Test func sighupAppliesANewScheduleToThePollsAfterIt() async throws {
        let newsd = try #require(builtExecutable("newsd"))
        let newsctl = try #require(builtExecutable("newsctl"))
        let server = try await TestHTTPServer.start()
        server.serve("/plain.xml", body: Self.channel())
        server.serve("/capped.xml", body: Self.channel(), headers: [.cacheControl: "max-age=1000000"])
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.appendingPathComponent("newsd.toml")
        func write(interval: Int, ceiling: Int) throws {
            let feeds = ["/plain.xml", "/capped.xml"].map { "[[feed]]\nurl = \"\(server.url($0))\"\n" }.joined()
            try "data_dir = \"data\"\nlisten = \"\"\npoll_interval = \(interval)\nmax_poll_interval = \(ceiling)\n\(feeds)"
                .write(to: config, atomically: true, encoding: .utf8)
        }
        let socket = directory.appendingPathComponent("data/newsd.sock").path
        try write(interval: 600, ceiling: 7200)
        let daemon = try await startManual(newsd, config: config)
        let before = Date()
        let first = try await Self.poll(newsctl, socket: socket)
        Self.expectNext(first["/plain.xml"], in: 600, after: before)
        Self.expectNext(first["/capped.xml"], in: 7200, after: before)

        try write(interval: 1200, ceiling: 2400)
        daemon.signal(SIGHUP)
        #expect(await daemon.waitForLine(containing: "configuration reloaded") != nil)
        let after = Date()
        let second = try await Self.poll(newsctl, socket: socket)
        Self.expectNext(second["/plain.xml"], in: 1200, after: after)
        Self.expectNext(second["/capped.xml"], in: 2400, after: after)

        daemon.signal(SIGTERM)
        #expect(await daemon.waitForExit() == 0)
        await server.stop()
    }
}
