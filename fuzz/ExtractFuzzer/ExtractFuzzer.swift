import Extraction
import Foundation
import FuzzDriver

// Built with `-D FUZZING -sanitize=fuzzer` (see fuzz/run), this is a libFuzzer target for the article extractor.
// Built normally, it replays inputs given as files, to reproduce a crash.

private let base = URL(string: "https://fuzz.example/a/story.html")!

/// Extracts `data` as served with no charset and as served with a wrong one, and checks what must always hold: the same
/// result twice (texts are content-addressed and re-extracted to check them), paragraphs and title as trimmed plain
/// text, and a reason whenever there is no text.
private func extractAll(_ data: Data) {
    for charset in [nil, "shift_jis"] {
        let article = Extractor.extract(data, url: base, encoding: charset)
        precondition(article == Extractor.extract(data, url: base, encoding: charset), "extracting twice gave two results")
        if let title = article.title {
            precondition(!title.isEmpty && title == title.trimmingCharacters(in: .whitespacesAndNewlines), "untrimmed title")
            precondition(!title.unicodeScalars.contains { $0.value < 0x20 }, "a control character in the title")
        }
        for paragraph in article.paragraphs {
            precondition(!paragraph.isEmpty, "an empty paragraph")
            precondition(paragraph == paragraph.trimmingCharacters(in: .whitespacesAndNewlines), "untrimmed paragraph")
            precondition(!paragraph.unicodeScalars.contains { $0.value < 0x20 }, "a control character in the text")
        }
        precondition(!article.paragraphs.isEmpty || article.note != nil, "no text and no reason")
    }
}

#if FUZZING
    /// SwiftPM links an executable's entry point under this name; it hands control to libFuzzer.
    @_cdecl("extract_fuzzer_main")
    public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
        fuzz(argc, argv, extractAll)
    }
#else
    @main
    struct ExtractFuzzerReplay {
        static func main() throws { try replay(extractAll) }
    }
#endif
