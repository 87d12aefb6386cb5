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
        let directory = try temporaryDirectory()
        let identity = try NodeIdentity(directory: directory)
        let archive = try Archive(path: directory.appendingPathComponent("archive.sqlite").path)
        try archive.register(identity.key.record)
        for number in 1...80 {
            let paragraphs = (0..<40).map { "Paragraph \($0) of report \(number), on the roads and the council's works." }
            let page = Data(Fixture.page("Report \(number)", paragraphs: paragraphs).utf8)
            let (article, capture) = try signedCapture(of: page, by: identity.key, url: "https://news.example/\(number)")
            try archive.store(
                Ingest(feed: nil, article: article, capture: capture, raw: HashedBytes(page), text: nil, extraction: nil))
        }
        #expect(try archive.buildDictionaries() == 1)
        while try archive.compactBlobs(limit: 32) > 0 {}
        try archive.close()
        let source = try await TestNode.start(directory: directory)
        let sourceFile = try ArchiveFile(path: source.archivePath)
        let dictionary = try #require(
            try await sourceFile.queue.read { try String.fetchOne($0, sql: "SELECT hash FROM dictionary") })

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

        // Every page, read here with the dictionary it names, hashes right; they came as the node keeps them.
        #expect(try laptop.verify().isClean)
        try laptop.close()
        let file = try ArchiveFile(path: laptopPath)
        #expect(try file.verifiedBlobHashes() == sourceFile.verifiedBlobHashes())
        #expect(try file.count("blob WHERE encoding = 'zstd:\(dictionary)'") == 80)
        let host = try await file.queue.read {
            try String.fetchOne($0, sql: "SELECT host FROM dictionary WHERE hash = ?", arguments: [dictionary])
        }
        #expect(host == "news.example")
        try await source.stop()
    }
}
