import Archive
import Daemon
import Fetching
import Foundation
import NewsCore
import NewsdTesting
import Testing

/// Blobs the node behind `socket` has served since it started, from its metrics.
private func served(socket: String) async throws -> Int {
    let metrics = try await Fetcher().fetch(FetchRequest(url: URL(string: "http://newsd/metrics")!, unixSocket: socket))
    let line = String(decoding: metrics.body, as: UTF8.self).split(separator: "\n")
        .first { $0.hasPrefix("newsd_sync_objects_served_total ") }
    return line.flatMap { Double($0.split(separator: " ").last ?? "") }.map(Int.init) ?? 0
}

/// A puller killed with SIGKILL in the middle of a large transfer: the next sync finishes it, nothing is lost, and
/// only what was in flight is fetched again.
@Suite(.timeLimit(.minutes(5))) struct InterruptedSyncTests {
    @Test func aPullerKilledAt10_50And75PercentResumesAndLosesNothing() async throws {
        let newsd = try #require(builtExecutable("newsd"))
        let newsctl = try #require(builtExecutable("newsctl"))
        // A: 1,200 articles of 48 KB that do not compress, archived before it starts.
        let total = 1200
        let aDirectory = try temporaryDirectory()
        try await onOwnThread { try Fixture.fill(aDirectory, articles: total, words: 6000) }
        let a = try await TestNode.start(directory: aDirectory)

        // B: a newsd process of its own, which can be killed.
        let bDirectory = try temporaryDirectory()
        let bData = bDirectory.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: bData, withIntermediateDirectories: true)
        let bID = try NodeIdentity(directory: bData).nodeID
        let config = bDirectory.appendingPathComponent("newsd.toml")
        try """
        data_dir = "data"
        listen = "127.0.0.1:0"
        [[peer]]
        name = "a"
        url = "\(a.syncURL.absoluteString)"
        node = "\(a.nodeID)"
        """.write(to: config, atomically: true, encoding: .utf8)
        try await a.allow(PeerConfig(name: "b", url: URL(string: "http://127.0.0.1:9")!, node: bID))
        let socket = bData.appendingPathComponent("newsd.sock").path

        func startB() async throws -> ChildProcess { try await startManual(newsd, config: config) }
        func captures() async throws -> Int {
            let status = try await runCommand(newsctl, ["status", "--json", "--socket", socket])
            guard status.status == 0 else { return 0 }
            return try JSONCoding.decoder().decode(StatusReport.self, from: Data(status.stdout.utf8)).counts.captures
        }

        var interruptions = 0
        // The last kill comes at 75 %: at 90 % a loaded machine sometimes let B finish first, and the terminal sync
        // below then had nothing left to show progress of.
        for percent in [10, 50, 75] {
            let b = try await startB()
            let sync = Task { try await runCommand(newsctl, ["sync", "--socket", socket]) }
            // Watch A serve the transfer (a bounded loop) and kill B once `percent` of it has left A: B is then
            // receiving or storing a batch.
            for _ in 0..<5000 {
                if try await served(socket: a.config.controlSocket.path) >= total * percent / 100 { break }
                try await Task.sleep(for: .milliseconds(1))
            }
            b.signal(SIGKILL)
            _ = await b.waitForExit()
            _ = try? await sync.value
            let held = try ArchiveFile(path: bData.appendingPathComponent("archive.sqlite").path).captureIDs().count
            if held < total { interruptions += 1 }
        }
        #expect(interruptions >= 2, "the kills came after the transfer had finished")

        // Started again, B finishes the transfer: all of A, verified.
        // On a terminal (util-linux's `script` gives it one) the sync shows its progress.
        let b = try await startB()
        let finished = try await runCommand(
            URL(fileURLWithPath: "/usr/bin/script"), ["-qec", "\(newsctl.path) sync --socket \(socket)", "/dev/null"])
        #expect(finished.status == 0, "\(finished.stdout)\(finished.stderr)")
        #expect(finished.stdout.contains("\r[") && finished.stdout.contains(" changes"), "\(finished.stdout)")
        #expect(try await captures() == total)
        let verify = try await runCommand(newsctl, ["verify", "--socket", socket])
        #expect(verify.status == 0, "\(verify.stdout)")
        #expect(
            try ArchiveFile(path: bData.appendingPathComponent("archive.sqlite").path).captureIDs()
                == ArchiveFile(path: a.archivePath).captureIDs())

        // What A served: everything once, and again at most what each kill interrupted: the blobs of the page being
        // stored and of the two pages fetched meanwhile (a request's worth each).
        let servedInAll = try await served(socket: a.config.controlSocket.path)
        #expect(servedInAll >= total)
        #expect(servedInAll <= total + 3 * 3 * 256, "served \(servedInAll) blobs for \(total)")
        b.signal(SIGTERM)
        _ = await b.waitForExit()
        try await a.stop()
        try? FileManager.default.removeItem(at: bDirectory)
    }

    @Test func aServerKilledAt10_50And90PercentLosesTheSyncButNothingElse() async throws {
        let newsd = try #require(builtExecutable("newsd"))
        let newsctl = try #require(builtExecutable("newsctl"))
        let total = 1200
        let aDirectory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: aDirectory) }
        let aData = aDirectory.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: aData, withIntermediateDirectories: true)
        try await onOwnThread { try Fixture.fill(aData, articles: total, words: 6000) }
        let aID = try NodeIdentity(directory: aData).nodeID
        // B, in this process, pulls from A, a newsd process of its own on a port chosen now.
        let port = freePort()
        let b = try await TestNode.start(peers: [
            PeerConfig(name: "a", url: URL(string: "http://127.0.0.1:\(port)")!, node: aID)
        ])
        let config = aDirectory.appendingPathComponent("newsd.toml")
        try """
        data_dir = "data"
        listen = "127.0.0.1:\(port)"
        [[peer]]
        name = "b"
        url = "\(b.syncURL.absoluteString)"
        node = "\(b.nodeID)"
        """.write(to: config, atomically: true, encoding: .utf8)
        let socket = aData.appendingPathComponent("newsd.sock").path
        func startA() async throws -> ChildProcess { try await startManual(newsd, config: config) }
        var interruptions = 0
        var behind: [Int64] = []
        for percent in [10, 50, 90] {
            // A's count starts again with each start: the kill comes at `percent` of what B still lacks.
            let remaining = total - (try await b.status().counts.captures)
            let a = try await startA()
            let sync = Task { try await b.sync() }
            for _ in 0..<5000 {
                if try await served(socket: socket) >= remaining * percent / 100 { break }
                try await Task.sleep(for: .milliseconds(1))
            }
            a.signal(SIGKILL)
            _ = await a.waitForExit()
            let result = try await sync.value
            if result.first?.lastResult == "error" {
                interruptions += 1
                behind.append(try await b.status().peers.first?.behind ?? 0)
            }
        }
        #expect(interruptions >= 2, "the kills came after the transfer had finished")
        // After a broken transfer, B knows how far behind it is.
        #expect(behind.contains { $0 > 0 }, "\(behind)")
        // What B stored of the broken transfers is intact, and the next sync completes it.
        let a = try await startA()
        let synced = try await b.sync()
        #expect(synced.first?.lastResult == "ok", "\(synced.first?.lastError ?? "")")
        #expect(synced.first?.behind == 0)
        #expect(try await b.status().counts.captures == total)
        let verify = try await runCommand(newsctl, ["verify", "--socket", b.config.controlSocket.path])
        #expect(verify.status == 0, "\(verify.stdout)")
        a.signal(SIGTERM)
        _ = await a.waitForExit()
        try await b.stop()
    }
}
