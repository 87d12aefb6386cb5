import Feeds
import Foundation
import FuzzDriver

// Built with `-D FUZZING -sanitize=fuzzer` (see fuzz/run), this is a libFuzzer target for the feed
// and OPML parsers. Built normally, it replays inputs given as files, to reproduce a crash.

private let base = URL(string: "https://fuzz.example/feed.xml")!

/// Parses `data` every way newsd does, and checks what any parse must give: the same result twice; entries whose
/// link, if any, is an absolute URL; titles without control characters or runs of white space (they are text).
private func parseAll(_ data: Data) {
    for contentType in [nil, "application/rss+xml; charset=iso-8859-1"] {
        let first = try? FeedParser.parse(data, url: base, contentType: contentType)
        let second = try? FeedParser.parse(data, url: base, contentType: contentType)
        precondition(first == second, "parsing the same bytes twice gave two results")
        guard let feed = first else { continue }
        for entry in feed.entries {
            if let link = entry.link { precondition(link.scheme != nil && !link.absoluteString.isEmpty, "relative link \(link)") }
            precondition(!entry.id.isEmpty, "an entry without an identity")
        }
        for title in [feed.title] + feed.entries.map(\.title) {
            guard let title else { continue }
            precondition(!title.isEmpty, "an empty title instead of none")
            precondition(
                !title.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F } && !title.contains("  "),
                "a title that is not plain text: \(title.debugDescription)")
        }
    }
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
