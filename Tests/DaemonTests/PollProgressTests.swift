import Foundation
import Hummingbird
import Logging
import NewsCore
import NewsdTesting
import Testing

@testable import Daemon

/// A poll under way counts as stuck once nothing in it has moved for longer than a fetch may take: the watchdog's pings
/// stop then (see `SystemdNotifyTests` for the writer's half).
@Suite(.timeLimit(.minutes(2))) struct PollProgressTests {
    @Test func aPollWaitingLongerThanAnyFetchMayTakeCountsAsStalled() async throws {
        let server = try await TestHTTPServer.start()
        let (entered, enter) = AsyncStream<Void>.makeStream()
        let (released, release) = AsyncStream<Void>.makeStream()
        server.serve("/feed.xml", body: Fixture.rss([(id: "held", link: "/held.html")]))
        server.route("/held.html") { _ in
            enter.yield()
            for await _ in released { break }
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: Fixture.page("Held", paragraphs: ["Text."]))))
        }
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let limits = FetchLimits(maxBodyBytes: 1 << 20, connectTimeout: 5, totalTimeout: 20)
        let config = NewsdConfig(
            dataDirectory: directory, listen: nil, pollInterval: 86400, logLevel: "warning", limits: limits, politeness: 0,
            feeds: [FeedConfig(url: server.url("/feed.xml"))])
        let daemon = try Daemon(config: config, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        let running = Task { try await daemon.run(handleSignals: false, scheduled: false) }
        _ = await daemon.ready()
        let bound = Duration.seconds(limits.connectTimeout + limits.totalTimeout) + Poller.storingGrace

        #expect(!daemon.poller.stalled(at: .now + bound * 2), "no poll under way")
        let poll = Task { try await daemon.poller.pollNow() }
        for await _ in entered { break }
        let waiting = ContinuousClock.now
        #expect(!daemon.poller.stalled(at: waiting), "the article's fetch is still within its limits")
        #expect(daemon.poller.stalled(at: waiting + bound + .seconds(1)), "no fetch may take that long")

        release.yield()
        let statuses = try await poll.value
        #expect(statuses.map(\.lastResult) == ["ok"])
        #expect(!daemon.poller.stalled(at: .now + bound * 2), "the poll ended")
        await daemon.shutdown()
        try await running.value
        await server.stop()
    }

    @Test func aRunThatFailsBeforeItsListenersDoesNotLeaveReadyWaiting() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        // An empty listen address is the configuration file's way of turning sync off; given to the library as is, the
        // sync listener cannot start.
        let config = NewsdConfig(dataDirectory: directory, listen: "", logLevel: "warning")
        let daemon = try Daemon(config: config, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        let running = Task { try await daemon.run(handleSignals: false, scheduled: false) }
        #expect(await daemon.ready() == nil)
        await #expect(throws: (any Error).self) { try await running.value }
    }
}
