import Foundation
import NewsCore
import NewsdTesting
import Testing

/// A node whose archive is recreated, or restored from an older copy, is synced from the start: its sequence numbers
/// mean something else now. Nothing is lost and nothing doubled.
@Suite(.timeLimit(.minutes(5))) struct EpochTests {
    @Test func aRecreatedOrRestoredPeerIsSyncedFromTheStart() async throws {
        let server = try await TestHTTPServer.start()
        Fixture.serveSite(on: server, pages: 2, etag: "\"2\"")
        var a = try await TestNode.start(feeds: [server.url("/feed.xml")])
        _ = try await a.poll()
        let b = try await TestNode.start()
        try await a.allow(b, as: "b")
        try await b.allow(a, as: "a")
        func synced() async throws {
            let peers = try await b.sync()
            #expect(peers.map(\.lastResult) == ["ok"], "\(peers)")
            let fileA = try ArchiveFile(path: a.archivePath)
            let fileB = try ArchiveFile(path: b.archivePath)
            #expect(try fileB.captureIDs() == fileA.captureIDs())
            #expect(try fileB.count("change") == fileA.count("change"), "nothing doubled")
        }
        try await synced()
        let directory = a.directory
        let files = ["archive.sqlite", "archive.sqlite-wal"].map { directory.appendingPathComponent($0) }
        let copies = files.map { $0.appendingPathExtension("copy") }
        /// Removes the archive, its WAL and shared-memory files.
        func removeArchive() throws {
            for file in files + [directory.appendingPathComponent("archive.sqlite-shm")]
            where FileManager.default.fileExists(atPath: file.path) {
                try FileManager.default.removeItem(at: file)
            }
        }
        /// Restarts A on its directory (on a new port, which B is told), after `change` to its files.
        func restartA(_ change: () throws -> Void) async throws {
            try await a.stop(removingData: false)
            try change()
            a = try await TestNode.start(feeds: [server.url("/feed.xml")], directory: directory)
            try await b.allow(a, as: "a")
            try await a.allow(b, as: "b")
        }

        // Restored: A goes back to a copy taken now, after archiving more and syncing it; then archives anew, more
        // than it lost, so its log passes B's cursor again.
        try await restartA {
            for (file, copy) in zip(files, copies) where FileManager.default.fileExists(atPath: file.path) {
                try FileManager.default.copyItem(at: file, to: copy)
            }
        }
        Fixture.serveSite(on: server, pages: 4, etag: "\"4\"")
        _ = try await a.poll()
        try await synced()
        try await restartA {
            try removeArchive()
            for (file, copy) in zip(files, copies) where FileManager.default.fileExists(atPath: copy.path) {
                try FileManager.default.moveItem(at: copy, to: file)
            }
        }
        Fixture.serveSite(on: server, pages: 9, etag: "\"9\"")
        _ = try await a.poll()
        #expect(try ArchiveFile(path: a.archivePath).count("change") > ArchiveFile(path: b.archivePath).count("change") / 2)
        let peersBefore = try await b.status().peers
        try await synced()
        #expect(peersBefore.first?.cursor ?? 0 > 0)

        // Recreated: a new, empty archive with the same key (a new epoch): each gets all the other has, again.
        try await restartA { try removeArchive() }
        Fixture.serveSite(on: server, pages: 10, etag: "\"10\"")
        _ = try await a.poll()
        try await synced()
        #expect(try ArchiveFile(path: a.archivePath).count("article") == 10)

        try await a.stop()
        try await b.stop()
        await server.stop()
    }
}
