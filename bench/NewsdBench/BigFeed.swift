import Fetching
import Foundation
import Hummingbird
import NewsCore
import NewsdTesting

/// A real `newsd --manual` on a configuration of the benchmark's, reached through its control socket.
struct BenchDaemon {
    let process: ChildProcess
    let directory: URL
    private let socket: String
    private let client = Fetcher()

    /// Writes `config` (whose `data_dir` is "data") into a new directory and starts newsd on it.
    static func start(_ newsd: URL, config: String) async throws -> BenchDaemon {
        let directory = try temporaryDirectory()
        let file = directory.appendingPathComponent("newsd.toml")
        try config.write(to: file, atomically: true, encoding: .utf8)
        // A real process, so that its memory is the daemon's alone; --manual so that only the benchmark polls.
        let process = try ChildProcess(newsd, ["--config", file.path, "--manual"])
        guard await process.waitForLine(containing: "ready") != nil else {
            NewsdBench.fail("newsd did not start: \(process.stderrLines)")
        }
        return BenchDaemon(
            process: process, directory: directory, socket: directory.appendingPathComponent("data/newsd.sock").path)
    }

    /// Polls every feed now and returns what each poll came to.
    func poll() async throws -> [FeedStatus] {
        let response = try await client.fetch(
            FetchRequest(
                url: URL(string: "http://newsd/v1/poll")!, method: "POST",
                limits: FetchLimits(maxBodyBytes: 64 << 20, totalTimeout: 3600, lowSpeedBytes: 0), unixSocket: socket))
        guard response.status == 200 else { NewsdBench.fail("poll failed: HTTP \(response.status)") }
        return try JSONCoding.decoder().decode([FeedStatus].self, from: response.body)
    }

    /// Polls the feed at `url` alone: its articles are stored, and no revisit runs.
    func poll(only url: URL) async throws {
        let response = try await client.fetch(
            FetchRequest(
                url: URL(
                    string:
                        "http://newsd/v1/poll?feed=\(url.absoluteString.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)"
                )!,
                method: "POST", limits: FetchLimits(maxBodyBytes: 64 << 20, totalTimeout: 3600, lowSpeedBytes: 0),
                unixSocket: socket))
        guard response.status == 200 else { NewsdBench.fail("poll failed: HTTP \(response.status)") }
    }

    func status() async throws -> StatusReport {
        let response = try await client.fetch(FetchRequest(url: URL(string: "http://newsd/v1/status")!, unixSocket: socket))
        return try JSONCoding.decoder().decode(StatusReport.self, from: response.body)
    }

    func stop() async {
        process.signal(SIGTERM)
        _ = await process.waitForExit()
    }

    func remove() { try? FileManager.default.removeItem(at: directory) }
}

extension NewsdBench {
    /// Serves at `path` an RSS feed of `articles` entries linking to `/a/0.html`, `/a/1.html` and so on.
    static func serveFeed(on server: TestHTTPServer, at path: String, articles: Int) {
        let items = (0..<articles).map { index in
            "<item><title>Story \(index)</title><link>\(server.url("/a/\(index).html"))</link><guid>s\(index)</guid></item>"
        }
        server.serve(
            path,
            body: "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Site</title>\(items.joined())</channel></rss>",
            headers: [.contentType: "application/rss+xml"])
    }

    /// The first poll of one feed of `articles` entries on loopback, from a server that takes `delay` a page, with
    /// `perHost` connections to it and no politeness delay; beside it, curl fetching the same pages as many at a time
    /// (fetching only: no parsing, cleaning, hashing or storing).
    static func pollOneFeed(newsd: URL, articles: Int, delay: Duration, perHost: Int) async throws {
        let server = try await TestHTTPServer.start()
        serveFeed(on: server, at: "/big.xml", articles: articles)
        // With 50 ms a page, as a distant site would answer: one after another, 10,000 take over eight minutes. At
        // once, what newsd itself costs shows.
        for index in 0..<articles {
            let paragraphs = (0..<6).map { "<p>Paragraph \($0) of story \(index), long enough to be the article's text.</p>" }
            let page = "<html><body><article>\(paragraphs.joined())</article></body></html>"
            server.route("/a/\(index).html") { _ in
                if delay > .zero { try? await Task.sleep(for: delay) }
                return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: page)))
            }
        }
        let config = """
            data_dir = "data"
            listen = ""
            [limits]
            politeness = 0
            max_per_host = \(perHost)
            [[feed]]
            url = "\(server.url("/big.xml").absoluteString)"

            """
        let daemon = try await BenchDaemon.start(newsd, config: config)
        defer { daemon.remove() }
        let start = ContinuousClock.now
        let feeds = try await daemon.poll()
        let seconds = (ContinuousClock.now - start) / .seconds(1)
        guard feeds.first?.lastResult == "ok" else { fail("the poll failed: \(feeds.first?.lastError ?? "no status")") }
        let stored = try await daemon.status().counts.articles
        guard stored == articles else { fail("\(stored) articles stored, expected \(articles)") }
        await daemon.stop()
        emit([
            "bench": "poll-feed", "tool": "newsd", "articles": articles, "page_delay_ms": delay / .milliseconds(1),
            "per_host": perHost, "first_poll_s": (seconds * 100).rounded() / 100,
            "articles_per_s": (Double(articles) / seconds).rounded(),
        ])
        let urls = daemon.directory.appendingPathComponent("pages.txt")
        try (0..<articles).map { "url = \"\(server.url("/a/\($0).html"))\"\noutput = \"/dev/null\"\n" }
            .joined(separator: "next\n").write(to: urls, atomically: true, encoding: .utf8)
        let curlStart = ContinuousClock.now
        let result = try await runCommand(
            URL(fileURLWithPath: "/usr/bin/curl"), ["-s", "--parallel", "--parallel-max", "\(perHost)", "-K", urls.path])
        guard result.status == 0 else { fail("curl failed: \(result.stderr)") }
        let curlSeconds = (ContinuousClock.now - curlStart) / .seconds(1)
        emit([
            "bench": "poll-feed", "tool": "curl --parallel-max \(perHost) (fetch only)", "articles": articles,
            "page_delay_ms": delay / .milliseconds(1),
            "seconds": (curlSeconds * 100).rounded() / 100, "articles_per_s": (Double(articles) / curlSeconds).rounded(),
        ])
        await server.stop()
    }
}

extension NewsdBench {
    /// What revisiting costs: `articles` pages (about 40 KB each, with an ETag, as news sites send) are archived, then
    /// revisited five times, as the default schedule does over a week (1 hour, 6 hours, 1, 3 and 7 days), with 2 % of
    /// them edited in place after the first capture. With `articles` new articles a day, this is a day's revisiting once
    /// the schedule runs full. Beside it, what fetching the same pages again without validators would cost.
    static func revisit(newsd: URL, articles: Int) async throws {
        let server = try await TestHTTPServer.start()
        serveFeed(on: server, at: "/feed.xml", articles: articles)
        func page(_ index: Int, edited: Bool) -> String {
            let paragraphs = (0..<60).map { paragraph in
                "<p>Paragraph \(paragraph) of story \(index)\(edited && paragraph == 3 ? ", corrected" : ""): a sentence long "
                    + "enough to stand for a real article's text, with words that vary from one story to the next.</p>"
            }
            return "<html><head><title>Story \(index)</title></head><body><nav>Home World Region</nav><article>"
                + paragraphs.joined() + "</article><footer>Site footer</footer></body></html>"
        }
        for index in 0..<articles {
            server.serve("/a/\(index).html", body: page(index, edited: false), headers: [.eTag: "\"\(index)-1\""])
        }
        let config = """
            data_dir = "data"
            listen = ""
            web_listen = ""
            revisit_after = [0, 0, 0, 0, 0]
            revisit_budget = \(articles * 10)
            [limits]
            politeness = 0
            [[feed]]
            url = "\(server.url("/feed.xml").absoluteString)"

            """
        let daemon = try await BenchDaemon.start(newsd, config: config)
        defer { daemon.remove() }
        try await daemon.poll(only: server.url("/feed.xml"))
        guard try await daemon.status().counts.articles == articles else { fail("not every article was stored") }
        let edited = Array(stride(from: 0, to: articles, by: 50))
        for index in edited {
            server.serve("/a/\(index).html", body: page(index, edited: true), headers: [.eTag: "\"\(index)-2\""])
        }
        let pageBytes = page(0, edited: false).utf8.count
        let start = ContinuousClock.now
        for _ in 0..<5 { _ = try await daemon.poll() }
        let seconds = (ContinuousClock.now - start) / .seconds(1)
        guard let revisits = try await daemon.status().revisits, revisits.waiting == 0 else {
            fail("revisits were left undone")
        }
        await daemon.stop()
        await server.stop()
        // A revisit that did not find a change was answered 304 (the server honours If-None-Match).
        let unchanged = Double(revisits.requestsToday - revisits.changedToday) / Double(revisits.requestsToday)
        let fields: [String: Any] = [
            "bench": "revisit", "tool": "newsd (conditional GET)", "articles_per_day": articles, "revisits_each": 5,
            "requests_per_day": revisits.requestsToday, "body_bytes_per_day": revisits.bytesToday,
            "not_modified_share": (unchanged * 1000).rounded() / 1000, "edits_made": edited.count,
            "edits_found": revisits.changedToday, "seconds": (seconds * 100).rounded() / 100,
        ]
        emit(fields)
        emit([
            "bench": "revisit", "tool": "the same pages fetched again without validators", "articles_per_day": articles,
            "revisits_each": 5, "requests_per_day": articles * 5, "body_bytes_per_day": articles * 5 * pageBytes,
        ])
    }
}
