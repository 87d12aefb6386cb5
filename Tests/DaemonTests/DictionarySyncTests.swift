import Archive
import Daemon
import Fetching
import Foundation
import NewsCore
import NewsdTesting
import Testing

@testable import Sync

/// Pages a node keeps compressed with its zstd dictionaries, pulled over a fast link.
@Suite(.timeLimit(.minutes(3))) struct DictionarySyncTests {
    @Test func aPullerTakesPagesAsTheNodeKeepsThemAndTheDictionaryTheyName() async throws {
        // A node whose pages of one site were recompressed with that site's dictionary, as an idle node's are.
        try await pulled(rounds: [80], paragraphs: 40) { source, laptop in
            let dictionary = try #require(try source.strings("SELECT hash FROM dictionary").first)
            #expect(try laptop.count("blob WHERE encoding = 'zstd:\(dictionary)'") == 80)
            #expect(try laptop.strings("SELECT host FROM dictionary WHERE hash = '\(dictionary)'") == ["news.example"])
        }
    }

    @Test func aPullerTakesADictionaryCompressedWithAnEarlierOneAsTheNodeKeepsIt() async throws {
        // The site's dictionary made again twice as its pages came, each compressed with the one before.
        let size = Fixture.page("Report 0", paragraphs: paragraphs(0, count: 200)).utf8.count
        let round = Archive.renewalBytes / size + 1
        try await pulled(rounds: [2, round, round], paragraphs: 200) { source, laptop in
            let chain = """
                SELECT blob.encoding FROM dictionary JOIN blob ON blob.hash = dictionary.hash ORDER BY dictionary.createdAt
                """
            let kept = try source.strings(chain)
            #expect(kept.count == 3)
            #expect(kept.dropFirst().allSatisfy { $0.hasPrefix("zstd:") })
            #expect(try laptop.strings(chain) == kept)
        }
    }

    /// A node whose pages of one site came in `rounds`, its dictionaries made after each and its pages recompressed,
    /// pulled by a node over a link it knows to be fast; `check` is given both files once every page, read with the
    /// dictionary it names, hashed right and the pulled pages are the node's.
    private func pulled(
        rounds: [Int], paragraphs count: Int, check: (ArchiveFile, ArchiveFile) throws -> Void
    ) async throws {
        let directory = try temporaryDirectory()
        let identity = try NodeIdentity(directory: directory)
        let archive = try Archive(path: directory.appendingPathComponent("archive.sqlite").path)
        try archive.register(identity.key.record)
        var number = 0
        for pages in rounds {
            for _ in 0..<pages {
                number += 1
                let page = Data(Fixture.page("Report \(number)", paragraphs: paragraphs(number, count: count)).utf8)
                let fetchedAt = Canonical.timestamp(Date(timeIntervalSince1970: 1_790_000_000 + Double(number)))
                let (article, capture) = try signedCapture(
                    of: page, by: identity.key, url: "https://news.example/\(number)", fetchedAt: fetchedAt)
                try archive.store(
                    Ingest(feed: nil, article: article, capture: capture, raw: HashedBytes(page), text: nil, extraction: nil))
            }
            #expect(try archive.buildDictionaries() == 1)
            while try archive.compactBlobs(limit: 32) > 0 {}
        }
        try archive.close()
        let source = try await TestNode.start(directory: directory)
        let sourceFile = try ArchiveFile(path: source.archivePath)

        // A node pulling over a link it knows to be fast (as loopback is, once measured: the link's speed is not this
        // test's to vary), with an archive of its own.
        let key = NodeKey()
        let laptopDirectory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: laptopDirectory) }
        let laptopPath = laptopDirectory.appendingPathComponent("archive.sqlite").path
        let laptop = try Archive(path: laptopPath)
        try laptop.register(key.record)
        try await source.allow(
            PeerConfig(name: "laptop", url: URL(string: "http://127.0.0.1:9")!, node: key.record.id.hex, pin: nil))
        let puller = Puller(archive: laptop, fetcher: Fetcher(), limits: FetchLimits(), key: key)
        puller.carry.observe(bytes: 1 << 30, seconds: 1)
        _ = try await puller.pull(source.asPeer("source"))

        #expect(try laptop.verify().isClean)
        try laptop.close()
        let file = try ArchiveFile(path: laptopPath)
        #expect(try file.verifiedBlobHashes() == sourceFile.verifiedBlobHashes())
        try check(sourceFile, file)
        try await source.stop()
    }

    /// The paragraphs of report `number`.
    private func paragraphs(_ number: Int, count: Int) -> [String] {
        (0..<count).map { "Paragraph \($0) of report \(number), on the roads and the council's works." }
    }
}
