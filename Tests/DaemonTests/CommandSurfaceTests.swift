import Foundation
import NewsCore
import NewsdTesting
import Testing

/// Every `newsctl` command, found from its own `--help`: with `--json` it prints JSON and succeeds against the real
/// daemon, and a failure is one line on stderr starting with `newsctl:` and exit status 1.
@Suite(.timeLimit(.minutes(5))) struct CommandSurfaceTests {
    /// The leaf commands `newsctl --help` lists, recursively: `["status"]`, `["feeds", "list"]`, ….
    private static func commands(_ newsctl: URL, under path: [String] = []) async throws -> [[String]] {
        let help = try await runCommand(newsctl, path + ["--help"])
        let lines = help.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        guard let start = lines.firstIndex(of: "SUBCOMMANDS:") else { return [path] }
        var leaves: [[String]] = []
        for line in lines[(start + 1)...] {
            // "  name    what it does" or "  name (default)  …": the closing "  See 'newsctl help …'" is no command.
            guard line.hasPrefix("  "), let name = line.split(separator: " ").first,
                line.contains("\(name)  ") || line.contains("\(name) (default)"),
                name.allSatisfy({ $0.isLowercase || $0 == "-" })
            else { continue }
            leaves += try await commands(newsctl, under: path + [String(name)])
        }
        return leaves
    }

    /// A command that needs no daemon.
    private static let offline: Set<String> = ["feeds parse", "config check", "extract", "web passwd"]

    /// What a command reads on standard input: for its case that succeeds, and for the one that fails.
    private static let inputs: [String: (ok: String, bad: String)] = ["web passwd": ("a long password\n", "short\n")]

    /// Whether `result` is a failure told in one line: `newsctl: …` on stderr, status 1.
    private static func oneLineFailure(_ result: CommandResult) -> Bool {
        let lines = result.stderr.split(separator: "\n")
        return result.status == 1 && lines.count == 1 && lines[0].hasPrefix("newsctl: ")
    }

    @Test func everyCommandPrintsJSONAndFailsInOneLine() async throws {
        let newsd = try #require(builtExecutable("newsd"))
        let newsctl = try #require(builtExecutable("newsctl"))
        let server = try await TestHTTPServer.start()
        Fixture.serveSite(on: server, pages: 2)
        server.serve("/other.xml", body: Fixture.rss([]))
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.appendingPathComponent("newsd.toml")
        try "data_dir = \"data\"\nlisten = \"\"\n[limits]\npoliteness = 0\n[[feed]]\nurl = \"\(server.url("/feed.xml"))\"\n"
            .write(to: config, atomically: true, encoding: .utf8)
        let daemon = try await startManual(newsd, config: config)
        let socket = directory.appendingPathComponent("data/newsd.sock").path
        let files = directory.appendingPathComponent("files")
        try FileManager.default.createDirectory(at: files, withIntermediateDirectories: true)
        let opml = files.appendingPathComponent("feeds.opml")
        try "<opml version=\"2.0\"><body><outline type=\"rss\" xmlUrl=\"\(server.url("/other.xml"))\"/></body></opml>"
            .write(to: opml, atomically: true, encoding: .utf8)
        let feedFile = files.appendingPathComponent("feed.xml")
        try Fixture.rss([(id: "x", link: "https://example.org/x")]).write(to: feedFile, atomically: true, encoding: .utf8)
        let pageFile = files.appendingPathComponent("page.html")
        try Fixture.page("A page", paragraphs: ["Some words of a page kept in a file."])
            .write(to: pageFile, atomically: true, encoding: .utf8)

        func run(_ arguments: [String], daemonCommand: Bool, input: String? = nil) async throws -> CommandResult {
            try await runCommand(
                newsctl, arguments + (daemonCommand ? ["--socket", socket] : []), input: input.map { Data($0.utf8) })
        }
        let polled = try await run(["poll", "--json"], daemonCommand: true)
        try #require(polled.status == 0, "\(polled.stderr)")
        let listed = try await run(["articles", "list", "--json"], daemonCommand: true)
        let articles = try JSONCoding.decoder().decode([ArticleSummary].self, from: Data(listed.stdout.utf8))
        let article = try #require(articles.first?.id)
        let events = try await run(["stories", "--all", "--json"], daemonCommand: true)
        let event = try #require(try JSONCoding.decoder().decode([Event].self, from: Data(events.stdout.utf8)).first?.id)
        let node = String(repeating: "ab", count: 32)
        let export = files.appendingPathComponent("export.jsonl").path

        // What each command is run with (in this order), and with what it must fail; `nil` for a failure: the daemon
        // is not there.
        let cases: [(command: String, ok: [String], bad: [String]?)] = [
            ("status", [], nil),
            ("poll", [], ["https://unknown.example/feed.xml"]),
            ("sync", [], ["no-such-peer"]),
            ("feeds list", [], nil),
            ("feeds show", [server.url("/feed.xml").absoluteString], ["https://unknown.example/feed.xml"]),
            ("feeds add", [server.url("/other.xml").absoluteString], ["gopher://old.example/"]),
            ("feeds remove", [server.url("/other.xml").absoluteString], ["https://unknown.example/feed.xml"]),
            ("feeds import", [opml.path], [files.appendingPathComponent("missing.opml").path]),
            ("feeds export", [], [directory.appendingPathComponent("no/such/dir/feeds.opml").path]),
            ("feeds parse", [feedFile.path], [files.appendingPathComponent("missing.xml").path]),
            ("articles list", [], ["--since", "yesterday-ish"]),
            ("articles show", [article], ["no-such-article"]),
            ("articles diff", [article], ["no-such-article"]),
            ("search", ["Paragraph"], ["\"unclosed"]),
            ("show", [article], ["no-such-article"]),
            ("diff", [article], [article, "7", "9"]),
            ("edits", [], ["--since", "last week"]),
            ("stories", [], ["--limit", "0"]),
            ("story", [event], ["00000000"]),
            ("verify", [], nil),
            ("timestamp", [], nil),
            ("prove", [article, "--out", files.appendingPathComponent("proof.zip").path], ["no-such-article"]),
            (
                "backup", [files.appendingPathComponent("backup.sqlite").path],
                [
                    directory.appendingPathComponent("no/such/dir/backup.sqlite").path
                ]
            ),
            ("tag", [article, "checked"], ["no-such-article", "checked"]),
            ("note", [article, "seen in the field"], ["no-such-article", "text"]),
            ("hide", [article], ["no-such-article"]),
            ("export", ["--jsonl", export], ["--jsonl", directory.appendingPathComponent("no/such/dir/x.jsonl").path]),
            ("import", ["--jsonl", export], ["--jsonl", files.appendingPathComponent("missing.jsonl").path]),
            ("peers list", [], nil),
            ("peers add", ["http://127.0.0.1:9", "--node", node, "--name", "b"], ["http://127.0.0.1:9", "--node", "xyz"]),
            ("peers remove", ["b"], ["no-such-peer"]),
            ("config check", [config.path], [files.appendingPathComponent("missing.toml").path]),
            ("reextract", [article], ["no-such-article"]),
            ("extract", [pageFile.path], [files.appendingPathComponent("missing.html").path]),
            ("web passwd", [], []),
        ]

        let found = try await Self.commands(newsctl).map { $0.joined(separator: " ") }
        #expect(found.count >= 25, "\(found)")
        #expect(Set(found) == Set(cases.map(\.command)), "every command has a case here")

        for (command, ok, bad) in cases {
            let words = command.split(separator: " ").map(String.init)
            let daemonCommand = !Self.offline.contains(command)
            let result = try await run(words + ok + ["--json"], daemonCommand: daemonCommand, input: Self.inputs[command]?.ok)
            #expect(result.status == 0, "\(command): \(result.stderr)")
            let json = try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8), options: .fragmentsAllowed)
            #expect(json != nil, "\(command) --json printed: \(result.stdout.prefix(300))")

            let failure: CommandResult
            if let bad {
                failure = try await run(words + bad + ["--json"], daemonCommand: daemonCommand, input: Self.inputs[command]?.bad)
            } else {
                failure = try await runCommand(
                    newsctl, words + ["--json", "--socket", files.appendingPathComponent("none.sock").path])
            }
            #expect(Self.oneLineFailure(failure), "\(command) \(bad ?? []): status \(failure.status), stderr \(failure.stderr)")
        }

        daemon.signal(SIGTERM)
        #expect(await daemon.waitForExit() == 0)
        await server.stop()
    }
}
