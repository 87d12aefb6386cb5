import Foundation
import NewsCore
import NewsdTesting
import Synchronization
import Testing

/// The archive on `scripts/holdfs`, a FUSE file system that keeps each write in memory until the file is fsynced and
/// throws away, on a "power cut", whatever was not: a kill -9 alone cannot lose what the kernel was handed, a power
/// loss can. Nothing newsd reported as stored may be missing afterwards, and `verify` stays clean.
@Suite(.timeLimit(.minutes(5))) struct PowerLossTests {
    /// A mounted holdfs over `backing` at `mountPoint`, unmounted (lazily, whatever happened) when it ends.
    private final class HoldFS: Sendable {
        let mountPoint: URL
        let process: ChildProcess
        private let mounted = Mutex(true)

        init(backing: URL, mountPoint: URL, script: URL) async throws {
            self.mountPoint = mountPoint
            process = try ChildProcess(URL(fileURLWithPath: "/usr/bin/python3"), [script.path, backing.path, mountPoint.path])
            // Mounting has no event to await here: look for the mount, a bounded number of times.
            for _ in 0..<100 where !Self.mounted(mountPoint) {
                try await Task.sleep(for: .milliseconds(50))
            }
            try #require(Self.mounted(mountPoint), "holdfs did not mount: \(process.stderrLines.suffix(5))")
        }

        static func mounted(_ path: URL) -> Bool {
            let table = (try? String(contentsOfFile: "/proc/self/mounts", encoding: .utf8)) ?? ""
            return table.split(separator: "\n").contains { $0.split(separator: " ").dropFirst().first == Substring(path.path) }
        }

        /// Throws away every write not fsynced; the writes lost by all cuts so far.
        func powerCut() throws -> Int {
            try Data("cut".utf8).write(to: mountPoint.appendingPathComponent(".powercut"))
            let report = try String(contentsOf: mountPoint.appendingPathComponent(".powercut"), encoding: .utf8)
            return Int(report.split(separator: " ").last?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? -1
        }

        /// Unmounts, so that the kernel's cache of the files goes too, and waits for holdfs to end.
        func unmount() async -> Int32 {
            mounted.withLock { $0 = false }
            umount2(mountPoint.path, Int32(MNT_DETACH))
            return await process.waitForExit()
        }

        deinit {
            // Only its own mount: another may have taken the mount point since.
            if mounted.withLock({ $0 }) { umount2(mountPoint.path, Int32(MNT_DETACH)) }
            process.signal(SIGKILL)
        }
    }

    private static var script: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("scripts/holdfs")
    }

    /// Whether FUSE and python3-fusepy are there (`scripts/test` installs them).
    private static func available() async -> Bool {
        guard FileManager.default.fileExists(atPath: "/dev/fuse") else { return false }
        let probe = try? await runCommand(URL(fileURLWithPath: "/usr/bin/python3"), ["-c", "import fusepy"])
        return probe?.status == 0
    }

    @Test func holdfsLosesWhatWasNotSynced() async throws {
        try #require(await Self.available(), "needs /dev/fuse and python3-fusepy")
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (backing, mount) = (directory.appendingPathComponent("backing"), directory.appendingPathComponent("mnt"))
        for path in [backing, mount] { try FileManager.default.createDirectory(at: path, withIntermediateDirectories: true) }
        var fs = try await HoldFS(backing: backing, mountPoint: mount, script: Self.script)
        let file = mount.appendingPathComponent("file")
        let descriptor = open(file.path, O_WRONLY | O_CREAT, 0o600)
        try #require(descriptor >= 0)
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: false)
        try handle.write(contentsOf: Data("synced".utf8))
        try handle.synchronize()
        try handle.write(contentsOf: Data(" and lost".utf8))
        try handle.close()
        #expect(try String(contentsOf: file, encoding: .utf8) == "synced and lost")
        #expect(try fs.powerCut() == 1)
        _ = await fs.unmount()
        fs = try await HoldFS(backing: backing, mountPoint: mount, script: Self.script)
        #expect(try String(contentsOf: file, encoding: .utf8) == "synced")
        _ = await fs.unmount()
    }

    @Test func nothingNewsdReportedStoredIsLostToAPowerCut() async throws {
        try #require(await Self.available(), "needs /dev/fuse and python3-fusepy")
        let newsd = try #require(builtExecutable("newsd"))
        let newsctl = try #require(builtExecutable("newsctl"))
        let server = try await TestHTTPServer.start()
        let count = 150
        server.serve(
            "/feed.xml", body: Fixture.rss((1...count).map { (id: "a\($0)", link: server.url("/a/\($0).html").absoluteString) }))
        for number in 1...count {
            let paragraphs = (0..<20).map { "Paragraph \($0) of report \(number), written for the power-loss test." }
            server.serve("/a/\(number).html", body: Fixture.page("Report \(number)", paragraphs: paragraphs))
        }
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (backing, mount) = (directory.appendingPathComponent("backing"), directory.appendingPathComponent("mnt"))
        for path in [backing, mount] { try FileManager.default.createDirectory(at: path, withIntermediateDirectories: true) }
        let socket = directory.appendingPathComponent("newsd.sock").path
        let config = directory.appendingPathComponent("newsd.toml")
        try """
        data_dir = "mnt/data"
        control_socket = "newsd.sock"
        listen = ""
        [limits]
        politeness = 0
        max_connections = 4
        [[feed]]
        url = "\(server.url("/feed.xml"))"

        """.write(to: config, atomically: true, encoding: .utf8)
        func stored() async throws -> Set<String> {
            let listed = try await runCommand(newsctl, ["articles", "list", "--json", "--limit", "100000", "--socket", socket])
            try #require(listed.status == 0, "\(listed.stderr)")
            return Set(try JSONCoding.decoder().decode([ArticleSummary].self, from: Data(listed.stdout.utf8)).map(\.id))
        }

        var seed = UInt64.random(in: 1...UInt64.max)
        print("PowerLossTests seed \(seed)")
        var lostWrites = 0
        var reported: Set<String> = []
        // Three rounds of a poll cut short by a kill and a power cut; each round, and a last one, first checks what
        // the round before reported.
        for round in 1...4 {
            let fs = try await HoldFS(backing: backing, mountPoint: mount, script: Self.script)
            let daemon = try await startManual(newsd, config: config)
            let survived = try await stored()
            #expect(reported.isSubset(of: survived), "round \(round): lost \(reported.subtracting(survived).count) articles")
            let check = try await runCommand(newsctl, ["verify", "--json", "--socket", socket])
            #expect(check.status == 0, "round \(round): \(check.stdout.prefix(500)) \(check.stderr)")
            if round == 4 {
                daemon.signal(SIGTERM)
                #expect(await daemon.waitForExit() == 0)
                _ = await fs.unmount()
                break
            }

            let poll = Task { try await runCommand(newsctl, ["poll", "--json", "--socket", socket]) }
            seed = seed &* 6_364_136_223_846_793_005 &+ 1
            let wanted = survived.count + 5 + Int(seed >> 33) % 30
            reported = survived
            for _ in 0..<600 where reported.count < min(wanted, count) {
                reported = try await stored()
            }
            daemon.signal(SIGKILL)
            _ = await daemon.waitForExit()
            _ = try await poll.value
            lostWrites += try fs.powerCut()
            #expect(await fs.unmount() == 0)
        }
        #expect(lostWrites > 0, "the power cuts lost no write: the test tested nothing")
        await server.stop()
    }
}
