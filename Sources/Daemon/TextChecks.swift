import Archive
import Extraction
import Foundation
import NewsCore

/// Texts checked against the pages they were made of: the extractor run again, with the template blocks the
/// extraction names, must make the same text.
extension Daemon {
    /// What the current extractor makes of `capture`'s page, leaving out `template`; `nil` when the page is not stored.
    static func remake(_ capture: ContentHash, template: Set<UInt64>, archive: Archive) throws -> ExtractedArticle? {
        guard let capture = try archive.capture(capture), let raw = try archive.blob(capture.blobHash) else { return nil }
        return Cleaner.extract(raw, capture: capture, template: template)
    }

    /// Makes every text again whose extraction the current extractor made, adding a problem to `report` for each that
    /// comes out otherwise; counts those that could not be made again here (another extractor version's).
    static func reextractionCheck(
        _ report: inout VerifyReport, archive: Archive, progress: (_ done: Int, _ total: Int) -> Void
    ) throws {
        var (same, other) = (0, 0)
        var after = ""
        while case let page = try archive.extractions(after: after, limit: 256), let last = page.last {
            for extraction in page {
                guard extraction.extractor == Extractor.version else {
                    other += 1
                    continue
                }
                let made = try remake(extraction.captureID, template: extraction.templateBlocks, archive: archive)
                let text = made?.records(capture: extraction.captureID, node: extraction.nodeID)?.text.id
                if text == extraction.textID {
                    same += 1
                } else {
                    let who = extraction.nodeID.isEmpty ? "no node" : "node \(extraction.nodeID.prefix(16))"
                    report.problems.append(
                        .init(
                            kind: "text", id: extraction.textID.hex,
                            message:
                                "is not what \(extraction.extractor) makes of capture \(extraction.captureID)'s page "
                                + (made == nil ? "(the page is not stored)" : "(extraction \(extraction.id), by \(who))")))
                }
            }
            progress(same + other + report.problems.count, same + other + report.problems.count)
            after = last.id.hex
        }
        report.reextracted = same
        report.notReextracted = other
    }

    /// Signs, as this node's, the extractions made before extractions were signed whose texts the current extractor
    /// makes again from their pages (with the host's template as it stands, or none); the others stay unverified. Runs
    /// once, after the upgrade that brought signed extractions, until done or `stopping` says so between pages; returns
    /// how many were signed, or `nil` when there was nothing to do or the pass was stopped.
    func signLegacyExtractions(stopping: () -> Bool) throws -> Int? {
        guard try archive.setting("legacy-extractions-checked") == nil else { return nil }
        var signed = 0
        var after = ""
        while case let page = try archive.extractions(after: after, limit: 256, unsigned: true), let last = page.last {
            if stopping() { return nil }
            for extraction in page where extraction.extractor == Extractor.version {
                guard let capture = try archive.capture(extraction.captureID) else { continue }
                for template in [try archive.template(host: Cleaner.host(of: capture)), []] {
                    guard let made = try Self.remake(extraction.captureID, template: template, archive: archive),
                        let records = made.records(capture: extraction.captureID, node: identity.nodeID),
                        records.text.id == extraction.textID
                    else { continue }
                    signed += try archive.addText(records.text, extraction: identity.key.sign(records.extraction)) > 0 ? 1 : 0
                    break
                }
            }
            after = last.id.hex
        }
        try archive.set("legacy-extractions-checked", to: Canonical.timestamp(Date()))
        return signed
    }
}
