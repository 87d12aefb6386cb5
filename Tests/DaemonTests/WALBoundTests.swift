import Foundation
import NewsCore
import NewsdTesting
import Synchronization
import Testing

/// The real `newsd`'s write-ahead log stays under its bound while it stores pages as fast as they come and readers
/// query the archive beside it.
@Suite(.timeLimit(.minutes(5))) struct WALBoundTests {
    /// Records the largest size `path` reaches, checking every 2 ms on a thread of its own until `stop()`.
    private final class SizeWatch: Sendable {
        private let state = Mutex((largest: Int64(0), stopped: false))
        private let done = DispatchSemaphore(value: 0)

        init(path: String) {
            Thread { [self] in
                var info = stat()
                while !state.withLock({ $0.stopped }) {
                    if stat(path, &info) == 0 { state.withLock { $0.largest = max($0.largest, Int64(info.st_size)) } }
                    usleep(2000)
                }
                done.signal()
            }.start()
        }

        func stop() -> Int64 {
            state.withLock { $0.stopped = true }
            done.wait()
            return state.withLock { $0.largest }
        }
    }

    @Test func theWALStaysUnderItsBoundWhileArticlesArriveAndReadersQuery() async throws {
        let newsd = try #require(builtExecutable("newsd"))
        let newsctl = try #require(builtExecutable("newsctl"))
        let server = try await TestHTTPServer.start()
        // 500 articles of 11 KB of words that do not compress: pages, texts and their index make some 25 MB to write,
        // in transactions of up to 3 MB (each word is new to the full-text index, which merges its segments now and
        // then inside a transaction).
        let count = 500
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        server.serve(
            "/feed.xml", body: Fixture.rss((1...count).map { (id: "a\($0)", link: server.url("/a/\($0).html").absoluteString) }))
        for number in 1...count {
            let words = Fixture.noise(words: 1024, state: &state).base64EncodedString().split(every: 8)
            let paragraphs = stride(from: 0, to: words.count, by: 200).map {
                words[$0..<min($0 + 200, words.count)].joined(separator: " ")
            }
            server.serve("/a/\(number).html", body: Fixture.page("Article \(number)", paragraphs: paragraphs))
        }
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.appendingPathComponent("newsd.toml")
        try
            "data_dir = \"data\"\nlisten = \"\"\nwal_checkpoint_mib = 1\n[limits]\npoliteness = 0\n[[feed]]\nurl = \"\(server.url("/feed.xml"))\"\n"
            .write(to: config, atomically: true, encoding: .utf8)
        let daemon = try await startManual(newsd, config: config)
        let socket = directory.appendingPathComponent("data/newsd.sock").path
        let watch = SizeWatch(path: directory.appendingPathComponent("data/archive.sqlite-wal").path)

        // Readers beside the writer: searches and status, one after another until the poll ends.
        let polling = Mutex(true)
        let readers = Task {
            var reads = 0
            while polling.withLock({ $0 }) {
                let search = try await runCommand(newsctl, ["search", "--json", "--socket", socket, "Article"])
                try #require(search.status == 0, "\(search.stderr)")
                let status = try await runCommand(newsctl, ["status", "--json", "--socket", socket])
                try #require(status.status == 0, "\(status.stderr)")
                reads += 2
            }
            return reads
        }
        let poll = try await runCommand(newsctl, ["poll", "--json", "--socket", socket])
        polling.withLock { $0 = false }
        let reads = try await readers.value
        let largest = watch.stop()
        try #require(poll.status == 0, "\(poll.stderr)")
        let statuses = try JSONCoding.decoder().decode([FeedStatus].self, from: Data(poll.stdout.utf8))
        #expect(statuses.first?.articles == count)
        #expect(reads >= 2)

        // Four times the 1 MiB threshold, and the transaction that crossed it (up to 3 MB here).
        let bound: Int64 = 8 << 20
        let archive = try FileManager.default.attributesOfItem(
            atPath: directory.appendingPathComponent("data/archive.sqlite").path)
        let written = try #require(archive[.size] as? Int64)
        #expect(written > 2 * bound, "the load wrote \(written) bytes, enough to outgrow an unbounded WAL")
        #expect(largest > 0 && largest <= bound, "the WAL reached \(largest) bytes")

        daemon.signal(SIGTERM)
        #expect(await daemon.waitForExit() == 0)
        await server.stop()
    }
}

extension String {
    /// The string in pieces of `length` characters (the last may be shorter).
    fileprivate func split(every length: Int) -> [Substring] {
        var pieces: [Substring] = []
        var start = startIndex
        while start < endIndex {
            let end = index(start, offsetBy: length, limitedBy: endIndex) ?? endIndex
            pieces.append(self[start..<end])
            start = end
        }
        return pieces
    }
}
