import Fetching
import Foundation
import NewsCore
import NewsdTesting
import Testing

/// The shaped link of the field tests does what it says: no faster than its bandwidth and delay allow, and it drops.
@Suite(.timeLimit(.minutes(2))) struct ShapedLinkTests {
    private func fetch(_ port: Int, _ path: String) async throws -> FetchResponse {
        try await Fetcher().fetch(
            FetchRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!, limits: FetchLimits(totalTimeout: 30)))
    }

    @Test func itTakesAtLeastWhatItsBandwidthAndDelayAllow() async throws {
        let server = try await TestHTTPServer.start()
        let body = Data((0..<96_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        server.serve("/big", bytes: body)
        server.serve("/small", body: "ok")
        let link = try ShapedLink.start(
            to: server.port,
            .init(
                name: "test", up: .init(bitsPerSecond: nil, delay: .milliseconds(50)),
                down: .init(bitsPerSecond: 1_000_000, delay: .milliseconds(50))))
        defer { link.stop() }

        let small = ContinuousClock.now
        #expect(try await fetch(link.port, "/small").body == Data("ok".utf8))
        #expect(ContinuousClock.now - small >= .milliseconds(100), "a round trip at least")
        let big = ContinuousClock.now
        let response = try await fetch(link.port, "/big")
        #expect(response.body == body)
        // 96,000 bytes at 125,000 bytes a second.
        #expect(ContinuousClock.now - big >= .milliseconds(768))
        #expect(link.traffic.down > 96_000 && link.traffic.up > 0 && link.traffic.drops == 0)
        await server.stop()
    }

    @Test func itResetsWhatIsUnderWayAndRefusesConnectionsWhileDown() async throws {
        let server = try await TestHTTPServer.start()
        server.serve("/long", bytes: Data(count: 400_000))
        let link = try ShapedLink.start(
            to: server.port,
            .init(
                name: "test", up: .init(bitsPerSecond: nil, delay: .zero),
                down: .init(bitsPerSecond: 512_000, delay: .zero), dropEvery: .milliseconds(500), downFor: .seconds(60)))
        defer { link.stop() }
        // 400 KB at 64 KB/s would take six seconds: the drop half a second after the first connection breaks it.
        await #expect(throws: FetchError.self) { try await fetch(link.port, "/long") }
        let broken = link.traffic
        #expect(broken.drops == 1)
        #expect(broken.down > 0 && broken.down < 400_000, "part of the body came before the reset")
        // Down for a minute: a new connection is refused at once, nothing more comes through.
        await #expect(throws: FetchError.self) { try await fetch(link.port, "/long") }
        #expect(link.traffic.down <= broken.down)
        await server.stop()
    }
}
