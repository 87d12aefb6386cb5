import Feeds
import Foundation

// Built with `-D FUZZING -sanitize=fuzzer` (see fuzz/run), this is a libFuzzer target for the feed
// and OPML parsers. Built normally, it replays inputs given as files, to reproduce a crash.

private let base = URL(string: "https://fuzz.example/feed.xml")!

private func parseAll(_ data: Data) {
    _ = try? FeedParser.parse(data, url: base)
    _ = try? FeedParser.parse(data, url: base, contentType: "application/rss+xml; charset=iso-8859-1")
    _ = try? OPML.parse(data)
}

#if FUZZING
    @_silgen_name("LLVMFuzzerRunDriver")
    private func runFuzzer(
        _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
        _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
    ) -> CInt

    /// SwiftPM links an executable's entry point under this name; it hands control to libFuzzer.
    @_cdecl("feed_fuzzer_main")
    public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
        var count = argc
        var arguments = argv
        return runFuzzer(&count, &arguments) { bytes, size in
            parseAll(bytes.map { Data(bytes: $0, count: size) } ?? Data())
            return 0
        }
    }
#else
    @main
    struct FeedFuzzerReplay {
        static func main() throws {
            for path in CommandLine.arguments.dropFirst() {
                parseAll(try Data(contentsOf: URL(fileURLWithPath: path)))
                print("ok \(path)")
            }
        }
    }
#endif
