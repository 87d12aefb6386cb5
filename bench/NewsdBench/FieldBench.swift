import Archive
import Daemon
import Extraction
import Foundation
import NewsCore
import NewsdTesting

extension NewsdBench {
    /// Sync over the links researchers have: for each profile (``ShapedLink/Profile``), a new node pulls `count`
    /// articles (real pages with their texts, as a node that polled them holds them) from a node that has them, through
    /// a shaped relay, with `newsctl sync` run again until it holds everything, as a user's loop would; and, in the same
    /// run, `rsync -az --partial` pulls the same pages as files from an rsync daemon through the same kind of relay,
    /// retried after each failure. Bytes are the relay's, each way. One JSON line per tool and profile.
    static func field(pages directory: URL, count: Int, rsync: String?, profiles: [ShapedLink.Profile]) async throws {
        guard let newsctl = builtExecutable("newsctl") else { fail("newsctl is not built beside newsd-bench") }
        let pages = try pageFiles(in: directory).map { try Data(contentsOf: $0) }
        // The pages themselves as long as there are enough, varied copies after that.
        @Sendable func page(_ index: Int) -> Data { index < pages.count ? pages[index] : variant(of: pages, index) }
        let root = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let files = root.appendingPathComponent("pages")
        try FileManager.default.createDirectory(at: files, withIntermediateDirectories: true)
        for index in 0..<count { try page(index).write(to: files.appendingPathComponent("\(index).html")) }

        // `FIELD_TOOLS` ("newsd rsync" unless set) says which tools run: a long profile can be run one tool at a time.
        let tools = Set((ProcessInfo.processInfo.environment["FIELD_TOOLS"] ?? "newsd rsync").split(separator: " "))
        let rsync = tools.contains("rsync") ? rsync : nil
        let source = tools.contains("newsd") ? try await fieldSource(count: count, page: page) : nil
        let deadline = Duration.seconds(Double(ProcessInfo.processInfo.environment["FIELD_DEADLINE"] ?? "") ?? 3600)

        for profile in profiles {
            // newsd: a new node whose peer is the source, reached through the relay.
            if let (source, payload) = source {
                settleDisk()
                let (laptop, link) = try await TestNode.start(pullingFrom: source, over: profile)
                let started = ContinuousClock.now
                var finished = false
                var tries = 0
                while ContinuousClock.now - started < deadline {
                    tries += 1
                    _ = try await runCommand(
                        newsctl, ["sync", "--json", "--socket", laptop.config.controlSocket.path], limit: deadline)
                    if try await laptop.status().counts.captures >= count {
                        finished = true
                        break
                    }
                    try await Task.sleep(for: .seconds(1))
                }
                let seconds = (ContinuousClock.now - started) / .seconds(1)
                link.stop()
                let requests = try await laptop.metric("newsd_sync_requests_total")
                emitField(
                    profile: profile, tool: "newsd", count: count, seconds: seconds, link: link, finished: finished,
                    extra: [
                        "tries": tries, "requests": Int(requests),
                        "requests_per_1000": (requests * 1000 / Double(count)).rounded(),
                        "stored_page_bytes": payload,
                    ])
                try await laptop.stop()
            }

            // rsync: the same pages as files, pulled from an rsync daemon through a relay shaped the same way.
            if let rsync, !rsync.isEmpty {
                settleDisk()
                let daemon = try RsyncDaemon.start(rsync, serving: files)
                let link = try ShapedLink.start(to: daemon.port, profile)
                let target = root.appendingPathComponent("rsync-\(profile.name)")
                try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
                let started = ContinuousClock.now
                var finished = false
                var tries = 0
                while ContinuousClock.now - started < deadline {
                    tries += 1
                    let result = try await runCommand(
                        URL(fileURLWithPath: rsync),
                        ["-az", "--partial", "--timeout=60", "rsync://127.0.0.1:\(link.port)/bench/", target.path + "/"],
                        limit: deadline)
                    if result.status == 0 {
                        finished = true
                        break
                    }
                    try await Task.sleep(for: .seconds(1))
                }
                let seconds = (ContinuousClock.now - started) / .seconds(1)
                link.stop()
                daemon.stop()
                let copied = (try? FileManager.default.contentsOfDirectory(atPath: target.path).count) ?? 0
                emitField(
                    profile: profile, tool: "rsync -az --partial", count: count, seconds: seconds, link: link,
                    finished: finished && copied == count, extra: ["tries": tries])
                try? FileManager.default.removeItem(at: target)
            }
        }
        try await source?.node.stop()
    }

    /// The node that has the field bench's `count` articles (`page(index)` each, with the text the node made of it),
    /// filled before it starts and its pages recompressed as an idle node's are; and their bytes as stored.
    private static func fieldSource(count: Int, page: @escaping @Sendable (Int) -> Data) async throws -> (
        node: TestNode, payload: Int64
    ) {
        let aDirectory = try temporaryDirectory()
        let identity = try NodeIdentity(directory: aDirectory)
        let archive = try Archive(path: aDirectory.appendingPathComponent("archive.sqlite").path)
        try archive.register(identity.key.record)
        try await storeConcurrently(0..<count, into: archive, signingWith: identity.key, inFlight: 16) { index in
            // The text the node made of the page, as its poller would have.
            let bytes = page(index)
            let text = Extractor.extract(bytes, url: URL(string: benchURL(index)), encoding: nil)
            return benchIngest(index, bytes: bytes, key: identity.key, text: text, varied: false)
        }
        while try archive.compactBlobs(limit: 256) > 0 {}
        let payload = try archive.counts().storedBlobBytes
        try archive.close()
        return (try await TestNode.start(directory: aDirectory), payload)
    }

    private static func emitField(
        profile: ShapedLink.Profile, tool: String, count: Int, seconds: Double, link: ShapedLink, finished: Bool,
        extra: [String: Any]
    ) {
        let traffic = link.traffic
        emit(
            extra.merging([
                "bench": "field", "profile": profile.name, "tool": tool, "articles": count,
                "seconds": (seconds * 10).rounded() / 10, "bytes_up": traffic.up, "bytes_down": traffic.down,
                "drops": traffic.drops, "finished": finished,
            ]) { first, _ in first })
    }
}

/// An rsync daemon on 127.0.0.1 serving one directory as the module `bench`, writable.
struct RsyncDaemon {
    let port: Int
    private let process: Process
    private let config: URL

    /// Starts `rsync --daemon` serving `directory`; returns once it accepts connections (within five seconds).
    static func start(_ rsync: String, serving directory: URL) throws -> RsyncDaemon {
        let port = freePort()
        let config = directory.deletingLastPathComponent().appendingPathComponent("rsyncd-\(port).conf")
        try """
        use chroot = no
        uid = \(getuid())
        gid = \(getgid())
        [bench]
        path = \(directory.path)
        read only = no
        """.write(to: config, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: rsync)
        process.arguments = ["--daemon", "--no-detach", "--address=127.0.0.1", "--port=\(port)", "--config=\(config.path)"]
        try process.run()
        let daemon = RsyncDaemon(port: port, process: process, config: config)
        for _ in 0..<50 {
            let probe = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = UInt16(port).bigEndian
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(probe, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            close(probe)
            if connected == 0 { return daemon }
            Thread.sleep(forTimeInterval: 0.1)
        }
        daemon.stop()
        throw POSIXError(.ECONNREFUSED)
    }

    func stop() {
        process.terminate()
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: config)
    }
}
