import Feeds
import Foundation
import FuzzDriver

// Built with `-D FUZZING -sanitize=fuzzer` (see fuzz/run), this is a libFuzzer target for the feed
// and OPML parsers. Built normally, it replays inputs given as files, to reproduce a crash.

private let base = URL(string: "https://fuzz.example/feed.xml")!

private func parseAll(_ data: Data) {
    _ = try? FeedParser.parse(data, url: base)
    _ = try? FeedParser.parse(data, url: base, contentType: "application/rss+xml; charset=iso-8859-1")
    _ = try? OPML.parse(data)
}

#if FUZZING
    /// SwiftPM links an executable's entry point under this name; it hands control to libFuzzer.
    @_cdecl("feed_fuzzer_main")
    public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
        fuzz(argc, argv, parseAll)
    }
#else
    @main
    struct FeedFuzzerReplay {
        static func main() throws { try replay(parseAll) }
    }
#endif
