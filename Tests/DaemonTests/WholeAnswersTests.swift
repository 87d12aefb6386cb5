import Archive
import Daemon
import Fetching
import Foundation
import NewsCore
import NewsdTesting
import Synchronization
import Testing

@testable import Sync

/// Pages that cross a slow link compressed as a whole: the slower the link, the harder the node compresses them; and
/// what two answers at once both need is fetched once.
@Suite(.timeLimit(.minutes(3))) struct WholeAnswersTests {
    @Test func aSlowerLinkAsksForAHigherLevel() {
        let carry = Carry()
        #expect(carry.wholeLevel == 9, "not measured yet")
        // A satellite terminal's 512 kbit/s give some 450 KB of pages a second once decoded; a hotel's 4 Mbit/s 3.5 MB.
        carry.observe(bytes: 450_000, seconds: 1)
        #expect(carry.wholeLevel == 19)
        let rates = stride(from: 100_000.0, through: 64_000_000, by: 100_000)
        let levels = rates.map { SyncLimits.wholeLevel(forBytesPerSecond: $0) }
        #expect(zip(levels, levels.dropFirst()).allSatisfy { $0 >= $1 }, "a faster link never gets a higher level")
        #expect(SyncLimits.wholeLevel(forBytesPerSecond: 3_500_000) == 16)
        #expect(SyncLimits.wholeLevel(forBytesPerSecond: SyncLimits.slowBelowBytesPerSecond) == 12)
        #expect(levels.allSatisfy { SyncLimits.wholeLevels.contains($0) })
    }

    @Test func theNodeCompressesAnAnswerAtTheLevelAskedWithinItsBounds() async throws {
        let directory = try temporaryDirectory()
        let identity = try NodeIdentity(directory: directory)
        let archive = try Archive(path: directory.appendingPathComponent("archive.sqlite").path)
        try archive.register(identity.key.record)
        var hashes: [String] = []
        for number in 1...40 {
            let page = Data(
                Fixture.page(
                    "Report \(number)",
                    paragraphs: (0..<30).map { "Paragraph \($0) of report \(number): the council's works \($0 * number)." }
                ).utf8)
            let (article, capture) = try signedCapture(of: page, by: identity.key, url: "https://news.example/\(number)")
            try archive.store(
                Ingest(feed: nil, article: article, capture: capture, raw: HashedBytes(page), text: nil, extraction: nil))
            hashes.append(capture.blobHash.hex)
        }
        try archive.close()
        let source = try await TestNode.start(directory: directory)
        let key = NodeKey()
        try await source.allow(
            PeerConfig(name: "laptop", url: URL(string: "http://127.0.0.1:9")!, node: key.record.id.hex, pin: nil))
        let laptopDirectory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: laptopDirectory) }
        let laptop = try Archive(path: laptopDirectory.appendingPathComponent("archive.sqlite").path)
        defer { try? laptop.close() }
        let puller = Puller(archive: laptop, fetcher: Fetcher(), limits: FetchLimits(), key: key)

        /// The bytes that crossed (the answer's `Content-Length`, compressed) for the 40 pages asked for whole at
        /// `level`, each page checked.
        func answered(at level: Int) async throws -> Int {
            let body = try JSONEncoder().encode(ObjectsRequest(hashes: hashes, whole: true, level: level))
            let response = try await puller.request(
                source.asPeer("source"), path: "/v1/objects", query: nil, method: "POST", body: body)
            #expect(response.headers["content-encoding"] == "zstd")
            let blobs = try ObjectFrames.read(response.body) { hash, index in hash.hex == hashes[index] }
            #expect(blobs.map(\.hash.hex) == hashes)
            #expect(blobs.allSatisfy { $0.encoding == "identity" })
            return try #require(response.headers["content-length"].flatMap { Int($0) })
        }
        let nine = try await answered(at: 9)
        let nineteen = try await answered(at: 19)
        #expect(nineteen < nine)
        // Levels outside the node's bounds are brought within them: a peer cannot ask for more work than 19 takes.
        #expect(try await answered(at: 40) == nineteen)
        #expect(try await answered(at: -5) == nine)
        #expect(try await answered(at: 16) > nineteen)
        try await source.stop()
    }

    @Test func workTwoTasksNeedAtOnceIsDoneOnce() async throws {
        struct Failure: Error {}
        let once = Once<String>()
        final class Runs: Sendable { let count = Mutex(0) }
        let runs = Runs()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<16 {
                group.addTask {
                    try await once.once("dictionary") {
                        runs.count.withLock { $0 += 1 }
                        await Task.yield()
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(runs.count.withLock { $0 } == 1)
        // Work that failed is tried again by the next task that needs it.
        await #expect(throws: Failure.self) { try await once.once("other") { throw Failure() } }
        try await once.once("other") { runs.count.withLock { $0 += 1 } }
        #expect(runs.count.withLock { $0 } == 2)
    }
}
