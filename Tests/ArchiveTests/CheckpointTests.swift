import Foundation
import GRDB
import NewsCore
import NewsdTesting
import Synchronization
import Testing

@testable import Archive

@Suite struct CheckpointTests {
    private let key = NodeKey()
    private let scratch = Scratch()

    /// What an archive's checkpointer reported: all of it, and as a stream.
    private final class Heard: Sendable {
        let log = Mutex<[Checkpointer.Event]>([])
        let (events, continuation) = AsyncStream<Checkpointer.Event>.makeStream()

        func record(_ event: Checkpointer.Event) {
            log.withLock { $0.append(event) }
            continuation.yield(event)
        }

        /// The frames in the WAL after each commit.
        var commits: [Int32] { log.withLock { $0.compactMap { if case .committed(let frames) = $0 { frames } else { nil } } } }

        /// Whether the WAL started over: a commit left fewer frames in it than the one before.
        var startedOver: Bool { zip(commits, commits.dropFirst()).contains { $1 < $0 } }
    }

    /// An archive in a new directory whose WAL is checkpointed every `pages` pages.
    private func archive(checkpointPages pages: Int32) throws -> (Archive, path: String, Heard) {
        let path = try scratch.archivePath()
        let heard = Heard()
        let archive = try Archive(path: path, checkpointPages: pages) { heard.record($0) }
        try archive.register(key.record)
        return (archive, path, heard)
    }

    /// Stores, in a transaction of its own, a page of `bytes` random (incompressible) bytes.
    @discardableResult
    private func storePage(_ number: Int, bytes: Int, in archive: Archive) throws -> Ingest {
        let page = Data((0..<bytes).map { _ in UInt8.random(in: 0...255) })
        let (article, capture) = try signedCapture(of: page, by: key, url: "https://news.example/\(number)")
        let ingest = Ingest(
            feed: nil, article: article, capture: capture, raw: HashedBytes(page), text: nil, extraction: nil)
        try archive.store(ingest)
        return ingest
    }

    @Test(.timeLimit(.minutes(1))) func theWALIsCopiedBesideTheWriterThenStartsOver() async throws {
        let (archive, path, heard) = try archive(checkpointPages: 512)
        // About 22 frames a page: past the threshold, well short of four times it.
        var stored = try (0..<40).map { try storePage($0, bytes: 32 * 1024, in: archive) }
        for await event in heard.events {
            if case .copiedBeside(let copied) = event {
                #expect(copied >= 512)
                break
            }
        }
        // Small pages, each a few frames, until the WAL starts over: at once if the thread copied everything, after
        // a commit copied what was added meanwhile, or after the thread went again. The bound is far above that.
        while !heard.startedOver, stored.count < 240 {
            stored.append(try storePage(stored.count, bytes: 512, in: archive))
        }
        #expect(heard.startedOver)
        // The writer never had to fall back on checkpointing it all itself.
        #expect(heard.commits.allSatisfy { $0 < 4 * 512 })
        for ingest in stored { #expect(try archive.blob(ingest.capture.blobHash) == ingest.raw.bytes) }
        #expect(try archive.verify().isClean)
        try archive.close()
        try FileManager.default.removeItem(at: URL(fileURLWithPath: path).deletingLastPathComponent())
    }

    @Test func withoutTheThreadCommitsKeepTheWALBounded() throws {
        let (archive, path, heard) = try archive(checkpointPages: 64)
        archive.checkpointer.stop()
        // About 17 frames a page (the page, the rows and their indexes), 1,700 in all.
        for number in 0..<100 { try storePage(number, bytes: 16 * 1024, in: archive) }
        #expect(heard.commits.allSatisfy { $0 < 4 * 64 + 32 })
        #expect(heard.log.withLock { $0.contains { if case .copiedInline = $0 { true } else { false } } })
        // The WAL file keeps the largest size it had: four times the threshold and what one commit adds beyond it,
        // in frames of a 24-byte header and a 4 KiB page after the file's 32-byte header.
        let walBytes = try #require(try FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int)
        #expect(walBytes <= 32 + (4 * 64 + 32) * 4120)
        #expect(try archive.verify().isClean)
        try archive.close()
        try FileManager.default.removeItem(at: URL(fileURLWithPath: path).deletingLastPathComponent())
    }

    @Test func everyConnectionSyncsItsCommits() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let archive = try Archive(path: directory.appendingPathComponent("archive.sqlite").path)
        // 2 is FULL: in WAL mode, each commit syncs the WAL before it returns.
        #expect(try archive.pool.write { try Int.fetchOne($0, sql: "PRAGMA synchronous") } == 2)
        #expect(try archive.pool.read { try Int.fetchOne($0, sql: "PRAGMA synchronous") } == 2)
        try archive.close()
    }

    @Test func readersMapTheFileAndTheWriterDoesNot() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let archive = try Archive(path: directory.appendingPathComponent("archive.sqlite").path)
        // SQLite caps the size asked at the largest it was built for (2 GiB less 64 KiB for Debian's).
        let mapped = try archive.pool.read { try Int.fetchOne($0, sql: "PRAGMA mmap_size") } ?? 0
        #expect(mapped >= 1 << 30 && mapped <= Archive.readerMapBytes)
        #expect(try archive.pool.write { try Int.fetchOne($0, sql: "PRAGMA mmap_size") } == 0)
        try archive.close()
    }
}
