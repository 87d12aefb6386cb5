import Feeds
import Fetching
import Foundation
import Hummingbird
import NewsCore
import NewsdTesting

/// newsd's benchmarks. Each prints JSON lines; `bench/run` runs them beside the tools a user would
/// otherwise use. Figures are medians: these machines are noisy.
@main
struct NewsdBench {
    static func main() async throws {
        try keepScratchInOneDirectory()
        defer { removeScratch() }
        let arguments = Array(CommandLine.arguments.dropFirst())
        switch arguments.first {
        case "parse": try parse(output: arguments.dropFirst().first)
        case "ingest":
            guard arguments.count >= 2 else { fail("usage: newsd-bench ingest PAGES_DIR [ARTICLES] [SEARCH_OUTPUT_DIR]") }
            try await ingest(
                pages: URL(fileURLWithPath: arguments[1]), count: arguments.count > 2 ? Int(arguments[2]) ?? 20000 : 20000,
                searchOutput: arguments.count > 3 ? URL(fileURLWithPath: arguments[3]) : nil)
        case "storage":
            guard arguments.count >= 2 else { fail("usage: newsd-bench storage PAGES_DIR [ARTICLES]") }
            try await ingest(
                pages: URL(fileURLWithPath: arguments[1]), count: arguments.count > 2 ? Int(arguments[2]) ?? 20000 : 20000,
                searchOutput: nil, storageOnly: true)
        case "search":
            guard arguments.count >= 2 else { fail("usage: newsd-bench search PAGES_DIR [ARTICLES] [ARCHIVE_DIR]") }
            try await searchAtScale(
                pages: URL(fileURLWithPath: arguments[1]),
                count: arguments.count > 2 ? Int(arguments[2]) ?? 1_000_000 : 1_000_000,
                keep: arguments.count > 3 ? URL(fileURLWithPath: arguments[3]) : nil)
        case "refile":
            guard arguments.count >= 2 else { fail("usage: newsd-bench refile ARCHIVE_DIR") }
            try refileSearchCorpus(in: URL(fileURLWithPath: arguments[1]))
        case "poll":
            guard arguments.count >= 2 else { fail("usage: newsd-bench poll NEWSD [FEEDS]") }
            try await poll(
                newsd: URL(fileURLWithPath: arguments[1]), feeds: arguments.count > 2 ? Int(arguments[2]) ?? 1000 : 1000)
        case "poll-feed":
            guard arguments.count >= 2 else { fail("usage: newsd-bench poll-feed NEWSD [ARTICLES]") }
            // A distant site's pages, four at a time as the default per-host cap has it; then pages that come at once,
            // sixteen at a time, where what newsd costs shows.
            let newsd = URL(fileURLWithPath: arguments[1])
            let articles = arguments.count > 2 ? Int(arguments[2]) ?? 10000 : 10000
            try await pollOneFeed(newsd: newsd, articles: articles, delay: .milliseconds(50), perHost: 4)
            try await pollOneFeed(newsd: newsd, articles: articles, delay: .zero, perHost: 16)
        case "revisit":
            guard arguments.count >= 2 else { fail("usage: newsd-bench revisit NEWSD [ARTICLES]") }
            try await revisit(
                newsd: URL(fileURLWithPath: arguments[1]), articles: arguments.count > 2 ? Int(arguments[2]) ?? 1000 : 1000)
        case "extract":
            guard arguments.count >= 2 else { fail("usage: newsd-bench extract PAGES_DIR [PREDICTIONS_JSON]") }
            try extract(pages: URL(fileURLWithPath: arguments[1]), predictions: arguments.count > 2 ? arguments[2] : nil)
        case "sync":
            guard arguments.count >= 2 else { fail("usage: newsd-bench sync PAGES_DIR [ARTICLES] [RSYNC]") }
            try await sync(
                pages: URL(fileURLWithPath: arguments[1]), count: arguments.count > 2 ? Int(arguments[2]) ?? 2000 : 2000,
                rsync: arguments.count > 3 ? arguments[3] : nil)
        case "field":
            guard arguments.count >= 2 else { fail("usage: newsd-bench field PAGES_DIR [ARTICLES] [RSYNC] [PROFILE...]") }
            let named = [ShapedLink.Profile.satellite, .threeG, .flaky]
            let profiles = arguments.dropFirst(4).map { name in
                guard let profile = named.first(where: { $0.name == name }) else { fail("no link profile \(name)") }
                return profile
            }
            try await field(
                pages: URL(fileURLWithPath: arguments[1]), count: arguments.count > 2 ? Int(arguments[2]) ?? 1000 : 1000,
                rsync: arguments.count > 3 ? arguments[3] : nil, profiles: profiles.isEmpty ? named : profiles)
        case "web":
            guard arguments.count >= 2 else { fail("usage: newsd-bench web PAGES_DIR [ARTICLES]") }
            try await web(
                pages: URL(fileURLWithPath: arguments[1]), count: arguments.count > 2 ? Int(arguments[2]) ?? 20000 : 20000)
        case "stories":
            guard arguments.count >= 3 else { fail("usage: newsd-bench stories ARTICLES_JSONL OUTPUT_JSON [SEED]") }
            try await stories(
                set: URL(fileURLWithPath: arguments[1]), output: URL(fileURLWithPath: arguments[2]),
                seed: arguments.count > 3 ? UInt64(arguments[3]) ?? 1 : 1)
        case "disk":
            guard arguments.count >= 2 else { fail("usage: newsd-bench disk MANIFEST") }
            try await disk(manifest: URL(fileURLWithPath: arguments[1]))
        case "events":
            try await events(count: arguments.count > 1 ? Int(arguments[1]) ?? 100_000 : 100_000)
        case "extract-memory":
            guard arguments.count >= 2 else { fail("usage: newsd-bench extract-memory PAGES_DIR [MB]") }
            try extractMemory(
                pages: URL(fileURLWithPath: arguments[1]), megabytes: arguments.count > 2 ? Int(arguments[2]) ?? 5 : 5)
        default:
            fail(
                "usage: newsd-bench parse [DIR] | poll NEWSD [FEEDS] | poll-feed NEWSD [ARTICLES] | revisit NEWSD [ARTICLES] | ingest PAGES_DIR [ARTICLES] | storage PAGES_DIR [ARTICLES] | field PAGES_DIR [ARTICLES] [RSYNC] [PROFILE...] | extract PAGES_DIR [PREDICTIONS]"
                    + " | extract-memory PAGES_DIR [MB] | web PAGES_DIR [ARTICLES] | stories ARTICLES_JSONL OUTPUT_JSON [SEED] | events [ARTICLES]"
                    + " | disk MANIFEST | search PAGES_DIR [ARTICLES] [ARCHIVE_DIR] | refile ARCHIVE_DIR"
            )
        }
    }

    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data((message + "\n").utf8))
        removeScratch()
        exit(2)
    }

    /// The one directory the archives and nodes of this run are made in (``temporaryDirectory()``).
    private static let scratch = URL(fileURLWithPath: "/tmp").appendingPathComponent(
        "newsd-bench-\(UUID().uuidString.prefix(8))")

    /// Makes every temporary directory of this run inside ``scratch`` and removes it on every way out: a return, a
    /// failure, and an interrupt or a termination (a run stopped midway, as scripts stop it once the figure they want is
    /// out, once left gigabytes of archives behind).
    private static func keepScratchInOneDirectory() throws {
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        setenv("NEWSD_SCRATCH", scratch.path, 1)
        for number in [SIGINT, SIGTERM, SIGHUP] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                removeScratch()
                exit(128 + number)
            }
            source.resume()
            signalSources.append(source)
        }
    }

    /// The signal sources, kept for the run's length; written only at the start of `main`, before any other task.
    nonisolated(unsafe) private static var signalSources: [any DispatchSourceSignal] = []

    static func removeScratch() { try? FileManager.default.removeItem(at: scratch) }

    /// Prints `fields` as one JSON line, at once: a run of many minutes written to a file shows each figure as it comes.
    static func emit(_ fields: [String: Any]) {
        guard let data = try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys]) else {
            fail("cannot encode \(fields)")
        }
        print(String(decoding: data, as: UTF8.self))
        fflush(nil)
    }

    static func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

    /// The median and the 99th percentile of `values` (milliseconds), to two decimals.
    static func percentiles(_ values: [Double]) -> (median: Double, p99: Double) {
        let sorted = values.sorted()
        return ((sorted[sorted.count / 2] * 100).rounded() / 100, (sorted[sorted.count * 99 / 100] * 100).rounded() / 100)
    }

    /// CPU time (user and system) the process has used so far, in seconds, on all its threads.
    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let seconds = { (time: timeval) in Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    /// Parser throughput on a large RSS 2.0 and a large Atom document (written to `output` for comparison runs).
    static func parse(output: String?) throws {
        let paragraph = String(
            repeating: "Reporting from the valley, where the road reopened after three days of floods. ", count: 6)
        var rss =
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\" xmlns:content=\"http://purl.org/rss/1.0/modules/content/\""
        rss +=
            " xmlns:dc=\"http://purl.org/dc/elements/1.1/\"><channel><title>Big RSS</title><link>https://bench.example/</link>\n"
        var atom =
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>Big Atom</title>\n"
        for item in 0..<8000 {
            rss += """
                <item><title>Story \(item) &amp; more</title><link>https://bench.example/a/\(item).html</link>
                <guid isPermaLink="false">bench-\(item)</guid><pubDate>Sun, 22 Nov 2026 10:\(item % 60):00 GMT</pubDate>
                <dc:creator>Reporter \(item % 40)</dc:creator><description>\(paragraph.prefix(200))</description>
                <content:encoded><![CDATA[<p>\(paragraph)</p><p>\(paragraph)</p>]]></content:encoded></item>

                """
            atom += """
                <entry><title>Story \(item)</title><link rel="alternate" href="https://bench.example/a/\(item).html"/>
                <id>tag:bench.example,2026:\(item)</id><updated>2026-11-22T10:\(String(format: "%02d", item % 60)):00Z</updated>
                <author><name>Reporter \(item % 40)</name></author><summary>\(paragraph.prefix(200))</summary>
                <content type="html">&lt;p&gt;\(paragraph)&lt;/p&gt;&lt;p&gt;\(paragraph)&lt;/p&gt;</content></entry>

                """
        }
        rss += "</channel></rss>\n"
        atom += "</feed>\n"
        for (format, text) in [("rss", rss), ("atom", atom)] {
            let data = Data(text.utf8)
            if let output {
                try data.write(to: URL(fileURLWithPath: output).appendingPathComponent("big.\(format).xml"))
            }
            let url = URL(string: "https://bench.example/feed")!
            var times: [Double] = []
            var entries = 0
            for _ in 0..<7 {
                let start = ContinuousClock.now
                entries = try FeedParser.parse(data, url: url).entries.count
                times.append((ContinuousClock.now - start) / .seconds(1))
            }
            let seconds = median(times)
            emit([
                "bench": "parse", "tool": "newsd", "format": format, "bytes": data.count, "entries": entries,
                "median_ms": (seconds * 1000).rounded(), "mb_per_s": (Double(data.count) / 1e6 / seconds * 10).rounded() / 10,
            ])
        }
    }

    /// A real newsd process polling `count` feeds on a local server: the first poll (every feed new), then
    /// rounds in which every feed answers 304; and the daemon's memory.
    static func poll(newsd: URL, feeds count: Int) async throws {
        let server = try await TestHTTPServer.start()
        for index in 0..<count {
            let feed = """
                <?xml version="1.0"?><rss version="2.0"><channel><title>Feed \(index)</title>
                <item><title>Story \(index)</title><link>/a/\(index).html</link><guid>s\(index)</guid></item></channel></rss>
                """
            server.serve("/f/\(index).xml", body: feed, headers: [.eTag: "\"v\(index)\"", .contentType: "application/rss+xml"])
            server.serve(
                "/a/\(index).html", body: "<html><body><article><p>Story \(index) body text.</p></article></body></html>")
        }
        var config = "data_dir = \"data\"\nlisten = \"\"\n[limits]\npoliteness = 0\nmax_per_host = 16\n"
        for index in 0..<count { config += "[[feed]]\nurl = \"\(server.url("/f/\(index).xml").absoluteString)\"\n" }
        let daemon = try await BenchDaemon.start(newsd, config: config)
        defer { daemon.remove() }
        let directory = daemon.directory
        /// Polls every feed, checks that each came back with `result`, and returns the seconds it took.
        func pollAll(expecting result: String) async throws -> Double {
            let start = ContinuousClock.now
            let feeds = try await daemon.poll()
            let seconds = (ContinuousClock.now - start) / .seconds(1)
            let matching = feeds.filter { $0.lastResult == result }.count
            guard feeds.count == count, matching == count else {
                fail("\(matching) of \(feeds.count) feeds answered \(result), expected all \(count)")
            }
            return seconds
        }
        let first = try await pollAll(expecting: "ok")
        let stored = try await daemon.status().counts.articles
        guard stored == count else { fail("\(stored) articles stored after the first poll, expected \(count)") }
        var rounds: [Double] = []
        for _ in 0..<5 { rounds.append(try await pollAll(expecting: "not-modified")) }
        let memory = try String(contentsOfFile: "/proc/\(daemon.process.pid)/status", encoding: .utf8)
        func kilobytes(_ key: String) -> Int {
            memory.split(separator: "\n").first { $0.hasPrefix(key) }.flatMap {
                Int($0.split(separator: " ").dropFirst().first ?? "")
            } ?? 0
        }
        emit([
            "bench": "poll", "tool": "newsd", "feeds": count, "first_poll_s": (first * 1000).rounded() / 1000,
            "all_304_median_s": (median(rounds) * 1000).rounded() / 1000, "rounds": rounds.count,
            "rss_mb": Double(kilobytes("VmRSS:")) / 1024, "peak_rss_mb": Double(kilobytes("VmHWM:")) / 1024,
        ])
        // What a user might do instead: curl fetching the same feeds conditionally, in parallel, in one process.
        let urls = directory.appendingPathComponent("urls.txt")
        try (0..<count).map { index in
            let url = server.url("/f/\(index).xml").absoluteString
            return "url = \"\(url)\"\noutput = \"/dev/null\"\nheader = \"If-None-Match: \\\"v\(index)\\\"\"\n"
        }.joined(separator: "next\n").write(to: urls, atomically: true, encoding: .utf8)
        var curlRounds: [Double] = []
        for _ in 0..<5 {
            let start = ContinuousClock.now
            let result = try await runCommand(
                URL(fileURLWithPath: "/usr/bin/curl"), ["-s", "--parallel", "--parallel-max", "16", "-K", urls.path])
            guard result.status == 0 else { fail("curl failed: \(result.stderr)") }
            curlRounds.append((ContinuousClock.now - start) / .seconds(1))
        }
        emit([
            "bench": "poll", "tool": "curl --parallel (fetch only, no state, no parsing)", "feeds": count,
            "all_304_median_s": (median(curlRounds) * 1000).rounded() / 1000,
        ])
        await daemon.stop()
        await server.stop()
    }
}
