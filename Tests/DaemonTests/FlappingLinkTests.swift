import Foundation
import NewsCore
import NewsdTesting
import Testing

/// A sync asked for over a link that keeps breaking rides it out within the same request: what was committed stays,
/// blobs that came whole are not asked for again, and requests shrink until they fit between two breaks.
@Suite(.timeLimit(.minutes(3))) struct FlappingLinkTests {
    @Test func newsctlSyncFinishesOverALinkThatDropsEveryThreeSeconds() async throws {
        let newsctl = try #require(builtExecutable("newsctl"))
        let server = try await TestHTTPServer.start()
        let count = 150
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        server.serve(
            "/feed.xml", body: Fixture.rss((1...count).map { (id: "a\($0)", link: server.url("/a/\($0).html").absoluteString) }))
        for number in 1...count {
            // 16 KB of words that do not compress: some 2.4 MB of pages in all.
            let words = Fixture.noise(words: 1536, state: &state).base64EncodedString()
            server.serve("/a/\(number).html", body: Fixture.page("Article \(number)", paragraphs: [words]))
        }
        let first = try await TestNode.start(feeds: [server.url("/feed.xml")])
        _ = try await first.poll()
        // Two nodes pull it all over 4 Mbit/s each way, 40 ms round trip: one over a steady link, one over a link that
        // resets every connection every 3 s and then refuses them for half a second.
        func pull(_ name: String, dropping: Bool) async throws -> (node: TestNode, link: ShapedLink, result: CommandResult) {
            let (node, link) = try await TestNode.start(
                pullingFrom: first,
                over: .even(
                    name, bitsPerSecond: 4_000_000, roundTrip: .milliseconds(40), dropEvery: dropping ? .seconds(3) : nil,
                    downFor: .milliseconds(500)))
            let result = try await runCommand(newsctl, ["sync", "--json", "--socket", node.config.controlSocket.path])
            link.stop()
            return (node, link, result)
        }
        let steady = try await pull("steady", dropping: false)
        let second = try await pull("flapping", dropping: true)
        #expect(second.result.status == 0, "\(second.result.stdout) \(second.result.stderr)")
        let source = try await first.status()
        for node in [steady.node, second.node] {
            let status = try await node.status()
            #expect(status.counts.articles == count && status.counts.captures == source.counts.captures)
        }
        #expect(second.link.traffic.drops >= 1, "the link broke while the sync ran")
        // What the breaks cost is what was in flight when they came, not the sync again from the start each time.
        let (steadyBytes, flappingBytes) = (steady.link.traffic.down, second.link.traffic.down)
        #expect(
            Double(flappingBytes) < Double(steadyBytes) * 1.6,
            "\(flappingBytes) bytes down over the flapping link, \(steadyBytes) over the steady one")
        try await steady.node.stop()
        try await second.node.stop()
        try await first.stop()
        await server.stop()
    }

    @Test func aPeerThatResetsEveryConnectionAtOnceIsGivenUpAfterAFewTries() async throws {
        // A relay to a port where nothing listens: it takes each connection, then resets it at once.
        let resetting = try ShapedLink.start(
            to: 9, .even("resetting", bitsPerSecond: 4_000_000, roundTrip: .milliseconds(2)))
        defer { resetting.stop() }
        let source = try await TestNode.start()
        var peer = source.asPeer("source")
        peer.url = URL(string: "http://127.0.0.1:\(resetting.port)")!
        let laptop = try await TestNode.start(peers: [peer])
        let began = ContinuousClock.now
        let peers = try await laptop.sync()
        #expect(peers.first?.lastResult == "error", "\(peers)")
        #expect(resetting.traffic.down == 0)
        // Five tries with pauses of 1, 2, 4 and 8 s (with jitter): about 20 s alone. In a full parallel run on two cores
        // 90-113 s were seen: a reset then takes more than the second that tells it from a link's break, and the sync
        // gives up on the two minutes without a byte instead. Either way it ends, and not after the half hour a link
        // that flaps while data moves is given. The rule itself, try by try, is `LinkWatchTests`'.
        #expect(ContinuousClock.now - began < .seconds(150), "gave up after \(ContinuousClock.now - began)")
        try await laptop.stop()
        try await source.stop()
    }
}
