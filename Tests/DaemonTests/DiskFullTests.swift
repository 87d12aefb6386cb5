import Foundation
import NewsCore
import NewsdTesting
import Testing

/// Whether this process may mount a tmpfs (root on Linux): the disk-full test needs a disk it can fill.
private let canMount: Bool = {
    guard getuid() == 0 else { return false }
    let probe = "/tmp/newsd-mount-probe-\(getpid())"
    try? FileManager.default.createDirectory(atPath: probe, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: probe) }
    guard mount("tmpfs", probe, "tmpfs", 0, "size=1m") == 0 else { return false }
    umount(probe)
    return true
}()

@Suite(.timeLimit(.minutes(5))) struct DiskFullTests {
    @Test(.enabled(if: canMount, "needs root to mount a small tmpfs"))
    func aFullDiskIsAClearErrorCorruptsNothingAndPollingResumesWhenSpaceReturns() async throws {
        let directory = try temporaryDirectory()
        guard mount("tmpfs", directory.path, "tmpfs", 0, "size=3m") == 0 else {
            Issue.record("mount failed: \(String(cString: strerror(errno)))")
            return
        }
        defer {
            umount2(directory.path, Int32(MNT_DETACH))
            try? FileManager.default.removeItem(at: directory)
        }
        let server = try await TestHTTPServer.start()
        // Forty pages of incompressible bytes, 150 KB each: far more than the 3 MB disk holds.
        var generator = SystemRandomNumberGenerator()
        var items: [(id: String, link: String)] = []
        for number in 0..<40 {
            let noise = (0..<150_000).map { _ in UInt8.random(in: 0...255, using: &generator) }
            server.serve(
                "/p/\(number).html",
                bytes: Data("<html><body><p>Page \(number)</p><!--".utf8) + Data(noise) + Data("--></body></html>".utf8))
            items.append((id: "p\(number)", link: "/p/\(number).html"))
        }
        server.serve("/feed.xml", body: Fixture.rss(items), headers: [.eTag: "\"full\""])
        let node = try await TestNode.start(feeds: [server.url("/feed.xml")], directory: directory)

        let full = try await node.poll()
        #expect(full.first?.lastResult == "error")
        #expect(full.first?.lastError?.contains("full") == true, "\(full.first?.lastError ?? "")")
        let stored = try await node.status().counts.captures
        #expect(stored < 40)

        // What was stored is intact.
        let verify = try await runCommand(
            try #require(builtExecutable("newsctl")), ["verify", "--json", "--socket", node.config.controlSocket.path])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")

        // Space returns: the next poll stores the rest.
        #expect(mount("tmpfs", directory.path, "tmpfs", UInt(MS_REMOUNT), "size=64m") == 0)
        let resumed = try await node.poll()
        #expect(resumed.first?.lastResult == "ok", "\(resumed.first?.lastError ?? "")")
        #expect(resumed.first?.articles == 40)
        try await node.stop(removingData: false)
        await server.stop()
    }
}
