import Foundation
import NewsCore
import NewsdTesting
import Testing

/// A page larger than what a flapping link carries between two breaks still arrives: each try asks only for the rest
/// of it (`Range`), and the whole is checked against its hash.
@Suite(.timeLimit(.minutes(3))) struct BlobResumeTests {
    @Test func aPageCutShortByEachBreakIsResumedWhereItStopped() async throws {
        // One page of 3.2 MB that does not compress, over 4 Mbit/s that resets every connection every 2 s: about 1 MB
        // crosses between two breaks.
        let directory = try temporaryDirectory()
        try Fixture.fill(directory, articles: 1, words: 400_000)
        let source = try await TestNode.start(directory: directory)
        let (laptop, link) = try await TestNode.start(
            pullingFrom: source,
            over: .even(
                "breaking", bitsPerSecond: 4_000_000, roundTrip: .milliseconds(40), dropEvery: .seconds(2),
                downFor: .milliseconds(300)))
        defer { link.stop() }

        let peers = try await laptop.sync()
        #expect(peers.first?.lastResult == "ok", "\(peers)")
        #expect(link.traffic.drops >= 2, "the page took several tries")
        let file = try ArchiveFile(path: laptop.archivePath)
        #expect(try file.verifiedBlobHashes() == ArchiveFile(path: source.archivePath).verifiedBlobHashes())
        // What the breaks cost is what was in flight, not the page again from the start at each try.
        #expect(link.traffic.down < 3_200_000 * 13 / 10, "\(link.traffic.down) bytes down for a page of 3.2 MB")
        try await laptop.stop()
        try await source.stop()
    }
}
