import Archive
import Extraction
import Foundation
import NewsCore

/// Cleans captured pages with the current extractor, leaving out what the archive has learnt is the template of
/// the page's host, and teaches the archive each new article's blocks.
struct Cleaner: Sendable {
    let archive: Archive
    let metrics: Metrics

    /// The cleaned article of a capture whose page is `raw`.
    func clean(_ raw: Data, capture: CaptureRecord) -> ExtractedArticle {
        let template = (try? archive.template(host: Self.host(of: capture))) ?? []
        let start = ContinuousClock.now
        defer { metrics.observe("newsd_extraction_seconds", seconds: (ContinuousClock.now - start) / .seconds(1)) }
        return Self.extract(raw, capture: capture, template: template)
    }

    /// What the current extractor makes of `capture`'s page `raw`, leaving out the blocks of `template`.
    static func extract(_ raw: Data, capture: CaptureRecord, template: Set<UInt64>) -> ExtractedArticle {
        Extractor.extract(
            raw, url: URL(string: capture.finalURL), encoding: ContentType.charset(capture.contentType), template: template)
    }

    /// Counts the blocks of a newly archived article toward its host's template.
    func learn(from article: ExtractedArticle, capture: CaptureRecord) throws {
        try archive.learnTemplate(sample(of: article, capture: capture))
    }

    /// The blocks of `article`, cleaned from `capture`'s page, as its host's template counts them.
    func sample(of article: ExtractedArticle, capture: CaptureRecord) -> TemplateSample {
        TemplateSample(host: Self.host(of: capture), blocks: article.blocks)
    }

    /// The host whose template applies to `capture`'s page.
    static func host(of capture: CaptureRecord) -> String {
        URL(string: capture.finalURL)?.host?.lowercased() ?? ""
    }
}
