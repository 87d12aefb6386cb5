public import Foundation
public import NewsCore

/// The cleaned form of a page: its main text and what the page says about itself.
public struct ExtractedArticle: Sendable, Equatable, Codable {
    public var title: String?
    public var byline: String?
    /// The publication date as the page states it (ISO 8601 where the page gives one).
    public var published: String?
    /// The date of the last change as the page states it.
    public var modified: String?
    public var language: String?
    /// The URL the page names as its canonical one.
    public var canonicalURL: String?
    /// The lead image the page names for sharing.
    public var imageURL: String?
    /// Paragraphs of the main text, headings and list items each their own.
    public var paragraphs: [String]
    /// Why the text is empty or partial, when it is.
    public var note: String?
    /// Fingerprints of every text block of the page, for learning a host's template (not part of the JSON form).
    public var blocks: [UInt64] = []
    /// Fingerprints of the page's blocks that were left out as its host's template (not part of the JSON form): with
    /// the page and the extractor, what it takes to make the same text again.
    public var templateBlocks: [UInt64] = []

    /// The main text: paragraphs separated by blank lines.
    public var body: String { paragraphs.joined(separator: "\n\n") }

    enum CodingKeys: String, CodingKey {
        case title, byline, published, modified, language, canonicalURL, imageURL, paragraphs, note
    }

    init(paragraphs: [String], note: String? = nil) {
        self.paragraphs = paragraphs
        self.note = note
    }
}

extension ExtractedArticle {
    /// The text record of this article and the record saying which extractor made it of `capture` on the node
    /// `node` (to be signed by it), with the template blocks it left out; `nil` when the page gave no text.
    public func records(capture: ContentHash, node: String) -> (text: TextRecord, extraction: ExtractionRecord)? {
        guard !paragraphs.isEmpty else { return nil }
        let text = TextRecord(
            title: title, byline: byline, published: published, language: language, body: body, modified: modified,
            canonicalURL: canonicalURL, imageURL: imageURL)
        return (
            text,
            ExtractionRecord(
                captureID: capture, textID: text.id, extractor: Extractor.version, template: templateBlocks, nodeID: node)
        )
    }
}

/// Turns HTML into an ``ExtractedArticle``. Bytes in, values out: no I/O.
public enum Extractor {
    /// Recorded with every text, so that re-extraction with a newer extractor adds texts instead of replacing them.
    public static let version = "newsd-extract/5"

    /// Pages are cut to this many bytes before parsing, which bounds time and memory whatever arrives.
    public static let maximumBytes = 8 << 20

    /// Extracts the main text and metadata of `html`.
    /// - Parameters:
    ///   - url: where the page came from; resolves relative links.
    ///   - encoding: the charset HTTP declared, which wins over what the page says.
    ///   - template: fingerprints of blocks the archive has seen on many pages of the same host; they are not text.
    public static func extract(
        _ html: Data, url: URL? = nil, encoding: String? = nil, template: Set<UInt64> = []
    ) -> ExtractedArticle {
        guard !html.isEmpty else { return ExtractedArticle(paragraphs: [], note: "the page is empty") }
        let truncated = html.count > maximumBytes
        let document = html.prefix(maximumBytes).withUnsafeBytes { HTMLDocument.parse($0, http: encoding) }
        var article: ExtractedArticle
        if document.tags == 0 {
            let text = PlainText(String(decoding: document.text, as: UTF8.self))
            article = ExtractedArticle(paragraphs: text.paragraphs)
            article.title = text.title
        } else {
            let metadata = Metadata(document, url: url)
            var selection = Selection(document, template: template, title: metadata.title, byline: metadata.byline)
            article = ExtractedArticle(paragraphs: selection.paragraphs())
            article.title = metadata.title
            article.byline = metadata.byline
            article.published = metadata.published
            article.modified = metadata.modified
            article.language = metadata.language
            article.canonicalURL = metadata.canonicalURL
            article.imageURL = metadata.imageURL
            article.blocks = selection.fingerprints()
            if !template.isEmpty { article.templateBlocks = Set(article.blocks).intersection(template).sorted() }
        }
        if article.paragraphs.isEmpty {
            article.note = document.runs.contains { $0.letters > 0 } ? "no main text found" : "the page has no text"
        } else if truncated {
            article.note = "the page was cut to its first \(maximumBytes >> 20) MiB"
        }
        return article
    }
}

/// 64-bit FNV-1a: the fingerprints of text blocks (``ExtractedArticle/blocks``) and of class names.
struct FNV1a {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func add(_ byte: UInt8) {
        value = (value ^ UInt64(byte)) &* 0x100_0000_01b3
    }

    /// The fingerprint of `bytes`.
    static func hash(_ bytes: some Sequence<UInt8>) -> UInt64 {
        var hash = FNV1a()
        for byte in bytes { hash.add(byte) }
        return hash.value
    }
}

/// Unicode NFC, soft hyphens, zero-width and control characters removed, whitespace collapsed to single spaces.
func normalise(_ text: String) -> String {
    var out = ""
    out.unicodeScalars.reserveCapacity(text.utf8.count)
    var pendingSpace = false
    let ascii = text.utf8.allSatisfy { $0 < 0x80 }
    for scalar in (ascii ? text : text.precomposedStringWithCanonicalMapping).unicodeScalars {
        let value = scalar.value
        let isSpace: Bool
        if value < 0x80 {
            isSpace = value == 0x20 || (value >= 0x09 && value <= 0x0D)
            // Other control characters are never text (and NUL does not survive a round trip through C strings).
            if !isSpace, value < 0x20 || value == 0x7F { continue }
        } else if value < 0xA0 {
            continue
        } else if value == 0x00AD || value == 0x200B || value == 0x200C || value == 0x200D || value == 0x2060 || value == 0xFEFF {
            continue
        } else {
            isSpace = scalar.properties.isWhitespace
        }
        if isSpace {
            pendingSpace = !out.isEmpty
        } else {
            if pendingSpace { out.unicodeScalars.append(" ") }
            pendingSpace = false
            out.unicodeScalars.append(scalar)
        }
    }
    return out
}

/// Lowercased letters and digits, one space between words: headings and titles compared without their punctuation.
func folded(_ text: String) -> String {
    text.lowercased().unicodeScalars.split { !CharacterSet.alphanumerics.contains($0) }.map {
        String(String.UnicodeScalarView($0))
    }
    .joined(separator: " ")
}

/// A line that names the author ("By …").
func startsAsByline(_ text: String) -> Bool {
    text.hasPrefix("By ") || text.hasPrefix("by ") || text.hasPrefix("BY ")
}
