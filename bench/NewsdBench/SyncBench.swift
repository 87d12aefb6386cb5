import Archive
import Daemon
import Foundation
import NewsCore
import NewsdTesting

extension NewsdBench {
    /// Sync between two real nodes on loopback: an initial sync of `count` articles, a sync with nothing new, and one
    /// of 1 % new articles; bytes on the wire are the loopback interface's, so headers and TCP are counted too.
    /// With `rsync`, in the same run, what a user would run instead: the raw pages as files (written before anything
    /// else, so long settled) moved by `rsync -az`, and node A's stored archive (checkpointed; its pages compressed
    /// already, so no `-z`) moved by `rsync`, each to an rsync daemon on loopback. Every timed run starts on a disk that
    /// has written back what came before.
    static func sync(pages directory: URL, count: Int, rsync: String?) async throws {
        let pages = try pageFiles(in: directory).map { try Data(contentsOf: $0) }
        @Sendable func page(_ index: Int) -> Data { variant(of: pages, index) }
        let rsyncRoot = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: rsyncRoot) }
        let rawPages = rsyncRoot.appendingPathComponent("pages")
        if rsync?.isEmpty == false {
            try FileManager.default.createDirectory(at: rawPages, withIntermediateDirectories: true)
            for index in 0..<count { try page(index).write(to: rawPages.appendingPathComponent("\(index).html")) }
        }

        // Node A's archive, filled before it starts, with A's own key.
        let aDirectory = try temporaryDirectory()
        let identity = try NodeIdentity(directory: aDirectory)
        let archivePath = aDirectory.appendingPathComponent("archive.sqlite").path
        func ingest(_ range: Range<Int>) async throws {
            let archive = try Archive(path: archivePath)
            try archive.register(identity.key.record)
            try await storeConcurrently(range, into: archive, signingWith: identity.key, inFlight: 16) { index in
                benchIngest(index, bytes: page(index), key: identity.key)
            }
            try idleWork(on: archive)
            try archive.close()
        }
        func storedBytes() throws -> Int {
            let archive = try Archive(path: archivePath)
            defer { try? archive.close() }
            return Int(try archive.counts().storedBlobBytes)
        }
        try await ingest(0..<count)
        let payload = try storedBytes()
        // The stored archive as rsync would take it: checkpointed (closing the last connection does that), one file.
        let storedCopy = rsyncRoot.appendingPathComponent("archive")
        if rsync?.isEmpty == false {
            try FileManager.default.createDirectory(at: storedCopy, withIntermediateDirectories: true)
            try FileManager.default.copyItem(
                atPath: archivePath, toPath: storedCopy.appendingPathComponent("archive.sqlite").path)
        }
        settleDisk()
        let a = try await TestNode.start(directory: aDirectory)
        let b = try await TestNode.start(peers: [a.asPeer("a")])
        try await a.allow(b, as: "b")

        func measured(_ body: () async throws -> Void) async throws -> (seconds: Double, bytes: Int) {
            let before = loopbackBytes()
            let start = ContinuousClock.now
            try await body()
            return ((ContinuousClock.now - start) / .seconds(1), loopbackBytes() - before)
        }
        let initial = try await measured {
            let peers = try await b.sync()
            guard peers.first?.lastResult == "ok" else { fail("sync failed: \(peers)") }
        }
        emit([
            "bench": "sync-initial", "articles": count, "seconds": (initial.seconds * 100).rounded() / 100,
            "wire_bytes": initial.bytes, "compressed_payload_bytes": payload,
            "wire_over_payload": (Double(initial.bytes) / Double(payload) * 1000).rounded() / 1000,
        ])
        let idle = try await measured { _ = try await b.sync() }
        emit(["bench": "sync-nothing-new", "wire_bytes": idle.bytes, "bar_bytes": 2048])

        let more = max(1, count / 100)
        try await ingest(count..<(count + more))
        let morePayload = try storedBytes() - payload
        let incremental = try await measured { _ = try await b.sync() }
        emit([
            "bench": "sync-incremental", "articles": more, "wire_bytes": incremental.bytes,
            "compressed_payload_bytes": morePayload,
            "wire_over_payload": (Double(incremental.bytes) / Double(morePayload) * 1000).rounded() / 1000,
        ])
        try await b.stop()
        try await a.stop()

        if let rsync, !rsync.isEmpty {
            settleDisk()
            try await rsyncComparison(
                rsync: rsync, tool: "rsync -az of the raw pages", source: rawPages, compress: true, count: count,
                measured: measured)
            settleDisk()
            try await rsyncComparison(
                rsync: rsync, tool: "rsync of the stored archive", source: storedCopy, compress: false, count: count,
                measured: measured)
        }
    }

    /// Writes back what is dirty and waits (up to a minute) until the kernel holds less than 20 MB unwritten, so that a
    /// timed run does not pay for the work before it.
    static func settleDisk() {
        Glibc.sync()
        for _ in 0..<60 {
            let meminfo = (try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8)) ?? ""
            let dirty =
                meminfo.split(separator: "\n").first { $0.hasPrefix("Dirty:") }
                .flatMap { $0.split(separator: " ").dropFirst().first }.flatMap { Int($0) } ?? 0
            if dirty < 20_000 { return }
            Thread.sleep(forTimeInterval: 1)
        }
    }

    /// The files of `source` moved by rsync (with `-z` if `compress`) to an rsync daemon on 127.0.0.1.
    private static func rsyncComparison(
        rsync: String, tool: String, source: URL, compress: Bool, count: Int,
        measured: (() async throws -> Void) async throws -> (seconds: Double, bytes: Int)
    ) async throws {
        let root = try temporaryDirectory()
        let target = root.appendingPathComponent("target")
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
        let daemon = try RsyncDaemon.start(rsync, serving: target)
        defer { daemon.stop() }
        var status: Int32 = -1
        let copied = try await measured {
            let client = Process()
            client.executableURL = URL(fileURLWithPath: rsync)
            client.arguments = [compress ? "-az" : "-a", source.path + "/", "rsync://127.0.0.1:\(daemon.port)/bench/"]
            client.standardError = FileHandle.nullDevice
            try client.run()
            client.waitUntilExit()
            status = client.terminationStatus
        }
        guard status == 0 else { fail("rsync failed with status \(status)") }
        emit([
            "bench": "sync-initial", "tool": tool, "articles": count,
            "seconds": (copied.seconds * 100).rounded() / 100,
            "wire_bytes": copied.bytes,
        ])
        try? FileManager.default.removeItem(at: root)
    }

    /// Bytes received on the loopback interface so far (each byte sent on it is received once).
    static func loopbackBytes() -> Int {
        guard let table = try? String(contentsOfFile: "/proc/net/dev", encoding: .utf8),
            let line = table.split(separator: "\n").first(where: { $0.trimmingCharacters(in: .whitespaces).hasPrefix("lo:") })
        else { return 0 }
        let fields = line.split(separator: ":")[1].split(separator: " ")
        return Int(fields[0]) ?? 0
    }
}
