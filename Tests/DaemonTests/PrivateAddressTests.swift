import Fetching
import Foundation
import NewsCore
import NewsdTesting
import Testing

private let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

/// A feed on the internet must not make newsd fetch what only this machine can see. The test's own network namespace
/// puts a site on a public-looking address (192.0.2.10, a documentation address) and a canary on its loopback; newsd
/// runs in it, and newsctl reaches it through the control socket, a file.
@Suite(
    .enabled(
        if: getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare")
            && FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip"), "needs root, unshare and ip"),
    .timeLimit(.minutes(2)))
struct PrivateAddressTests {
    @Test func linksFromARemoteFeedToLocalAddressesAreRefusedUnlessTheFeedAllowsThem() async throws {
        let newsd = try #require(builtExecutable("newsd"))
        let newsctl = try #require(builtExecutable("newsctl"))
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let log = directory.appendingPathComponent("canary.log")
        let config = directory.appendingPathComponent("newsd.toml")
        try """
        data_dir = "data"
        listen = ""
        [limits]
        politeness = 0
        [[feed]]
        url = "http://192.0.2.10:8080/feed.xml"
        [[feed]]
        url = "http://192.0.2.10:8080/trusted.xml"
        allow_private = true
        """.write(to: config, atomically: true, encoding: .utf8)
        let script = """
            ip link set lo up && ip addr add 192.0.2.10/32 dev lo || exit 1
            python3 '\(fixtures.appendingPathComponent("lan-canary.py").path)' 8080 8081 '\(log.path)' > '\(directory.path)/up' &
            for _ in $(seq 1 200); do [ -s '\(directory.path)/up' ] && break; sleep 0.05; done
            exec '\(newsd.path)' --config '\(config.path)' --manual
            """
        let daemon = try ChildProcess(URL(fileURLWithPath: "/usr/bin/unshare"), ["--net", "sh", "-c", script])
        try #require(await daemon.waitForLine(containing: "ready") != nil, "\(daemon.stderrLines)")
        let socket = directory.appendingPathComponent("data/newsd.sock").path

        let poll = try await runCommand(newsctl, ["poll", "--json", "--socket", socket])
        let feeds = try JSONCoding.decoder().decode([FeedStatus].self, from: Data(poll.stdout.utf8))
        let remote = try #require(feeds.first { $0.url.hasSuffix("/feed.xml") })
        let trusted = try #require(feeds.first { $0.url.hasSuffix("/trusted.xml") })
        // Loopback by address, by name (after DNS) and behind a redirect: each refused with a sentence; the public
        // page archived.
        #expect(remote.lastResult == "error")
        #expect(remote.lastError?.hasPrefix("3 of 4 articles failed") == true, "\(remote.lastError ?? "")")
        #expect(remote.lastError?.contains("is an address of this machine or its network") == true)
        #expect(trusted.lastResult == "ok", "\(trusted.lastError ?? "")")
        let articles = try await runCommand(newsctl, ["articles", "--json", "--socket", socket])
        #expect(articles.status == 0, "\(articles.stderr)")
        #expect(articles.stdout.contains("192.0.2.10:8080/public.html"))
        #expect(!articles.stdout.contains("/direct") && !articles.stdout.contains("/by-name"))
        // The canary saw the trusted feed's request and nothing else.
        let seen = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        #expect(seen == "/trusted\n", "the canary was asked for: \(seen)")

        daemon.signal(SIGTERM)
        #expect(await daemon.waitForExit() == 0)
    }
}

/// Which addresses count as this machine's or its network's.
@Suite(.timeLimit(.minutes(5))) struct LocalAddressTests {
    @Test func loopbackPrivateLinkLocalAndUniqueLocalAreLocalAndPublicOnesAreNot() {
        for local in [
            "127.0.0.1", "127.8.9.10", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.169.254",
            "100.64.0.1", "0.0.0.0", "224.0.0.1", "::1", "::", "fe80::1", "fd12:3456::1", "::ffff:127.0.0.1",
            "::ffff:10.0.0.1", "not an address",
        ] {
            #expect(LocalAddress.isLocal(local), "\(local)")
        }
        for remote in ["192.0.2.10", "8.8.8.8", "172.32.0.1", "100.128.0.1", "2001:db8::1", "::ffff:8.8.8.8"] {
            #expect(!LocalAddress.isLocal(remote), "\(remote)")
        }
        #expect(LocalAddress.isLocal(host: "localhost"))
        #expect(LocalAddress.isLocal(host: "[::1]"))
        #expect(LocalAddress.isLocal(host: "10.0.0.8"))
        #expect(!LocalAddress.isLocal(host: "news.example"))
    }
}
