import Archive
import Extraction
import Foundation
import NewsCore

extension Daemon {
    /// Runs the current extractor, with what the archive knows of each host's template, over every stored page of one
    /// article, or over every page it has not cleaned yet when `article` is `nil`; on a thread of its own. Texts are
    /// stored beside the old ones; a run over every page also teaches the archive the templates of their hosts.
    func reextract(article: String?) async throws -> ReextractReport {
        let ids = try archive.capturesToClean(by: Extractor.version, article: article)
        let archive = self.archive
        let cleaner = Cleaner(archive: archive, metrics: metrics)
        let key = identity.key
        return try await onOwnThread {
            var report = ReextractReport(extractor: Extractor.version, captures: ids.count)
            var learnt = Set<ContentHash>()
            for id in ids {
                guard let capture = try archive.capture(id), let raw = try archive.blob(capture.blobHash) else {
                    continue
                }
                let cleaned = cleaner.clean(raw, capture: capture)
                // Pages no current extractor ever saw (an older one's, a peer's) teach their host's template,
                // once per article: from its oldest page.
                if article == nil, let articleID = capture.articleID, learnt.insert(articleID).inserted {
                    try cleaner.learn(from: cleaned, capture: capture)
                }
                guard let records = cleaned.records(capture: capture.id, node: key.record.id.hex) else {
                    report.noText += 1
                    continue
                }
                if try archive.addText(records.text, extraction: key.sign(records.extraction)) == 2 {
                    report.newTexts += 1
                } else {
                    report.sameTexts += 1
                }
            }
            return report
        }
    }
}
