import Archive
import Daemon
import Extraction
import Fetching
import Foundation
import NewsCore
import NewsdTesting

extension NewsdBench {
    /// How long each page of the web interface takes, asked over loopback of a real node holding `count` articles (the
    /// dev pages varied, with their texts): 30 requests per page, one at a time, median and p99 in ms; the bar is 50.
    static func web(pages directory: URL, count: Int) async throws {
        let pages = try pageFiles(in: directory).map { try Data(contentsOf: $0) }
        let texts = pages.map { Extractor.extract($0) }
        let nodeDirectory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: nodeDirectory) }
        let identity = try NodeIdentity(directory: nodeDirectory)
        let archive = try Archive(path: nodeDirectory.appendingPathComponent("archive.sqlite").path)
        try archive.register(identity.key.record)
        try await storeConcurrently(0..<count, into: archive, signingWith: identity.key, inFlight: 16) { index in
            benchIngest(index, bytes: variant(of: pages, index), key: identity.key, text: texts[index % pages.count])
        }
        try requireCaptures(count, in: archive)
        let middle = try archive.article("https://bench.example/article/\(count / 2)")
        try archive.close()
        settleDisk()

        let node = try await TestNode.start(directory: nodeDirectory) { $0.webListen = "127.0.0.1:0" }
        guard let base = node.webURL else { fail("the web interface did not start") }
        let word = texts[0].body.split { !$0.isLetter }.first { $0.count >= 6 }.map(String.init) ?? "police"
        let asked: [(page: String, path: String)] = [
            ("recent articles", "/"),
            ("articles of a day", "/?since=2000-01-01&until=2100-01-01"),
            ("article", "/article?ref=\(middle.id)"),
            ("archived page frame", "/capture/\(middle.captures[0].blobHash)"),
            ("archived page", "/raw/\(middle.captures[0].blobHash)"),
            ("search", "/search?q=\(word)"),
            ("search, page 3", "/search?q=\(word)&page=3"),
            ("stories", "/stories"),
            ("stories, page 3", "/stories?page=3"),
            ("story", "/story?id=\(middle.story ?? "")"),
            ("feeds", "/feeds"),
            ("status", "/status"),
        ]
        let fetcher = Fetcher()
        for (page, path) in asked {
            let url = URL(string: path, relativeTo: base)!.absoluteURL
            var times: [Double] = []
            var bytes = 0
            for _ in 0..<30 {
                let began = ContinuousClock.now
                let response = try await fetcher.fetch(FetchRequest(url: url, limits: FetchLimits(maxBodyBytes: 64 << 20)))
                times.append((ContinuousClock.now - began) / .milliseconds(1))
                guard response.status == 200 else { fail("\(path) answered \(response.status)") }
                bytes = response.body.count
            }
            let (median, p99) = percentiles(times)
            emit([
                "bench": "web", "page": page, "articles": count, "bytes": bytes, "median_ms": median, "p99_ms": p99,
                "bar_ms": 50,
            ])
        }
        try await node.stop(removingData: false)
    }
}
