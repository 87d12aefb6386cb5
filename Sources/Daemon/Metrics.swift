import Foundation
import Synchronization

/// The daemon's counters and histograms, rendered in the Prometheus text format at `/metrics`.
final class Metrics: Sendable {
    private struct Histogram {
        static let bounds: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]
        var counts = [Int](repeating: 0, count: bounds.count)
        var sum = 0.0
        var total = 0

        mutating func observe(_ value: Double) {
            for (index, bound) in Self.bounds.enumerated() where value <= bound { counts[index] += 1 }
            sum += value
            total += 1
        }
    }

    private struct State {
        var counters: [String: Double] = [:]
        var histograms: [String: Histogram] = [:]
    }

    private let state = Mutex(State())

    private static let help: [String: (type: String, text: String)] = [
        "newsd_polls_total": ("counter", "Feed polls by result."),
        "newsd_fetch_seconds": ("histogram", "Time to fetch a feed or a page."),
        "newsd_fetched_bytes_total": ("counter", "Bytes of feeds and pages received."),
        "newsd_articles_stored_total": ("counter", "Article captures stored."),
        "newsd_extraction_seconds": ("histogram", "Time to clean one page."),
        "newsd_sync_rounds_total": ("counter", "Syncs with peers (pull and push) by peer and result."),
        "newsd_sync_records_total": ("counter", "Records pulled from peers that were new here."),
        "newsd_sync_records_pushed_total": ("counter", "Records pushed to peers that were new there."),
        "newsd_sync_bytes_total": ("counter", "Sync request and answer bodies by peer and direction."),
        "newsd_sync_requests_total": ("counter", "Requests made to peers (each at least one round trip) by peer."),
        "newsd_sync_texts_made_total": (
            "counter", "Texts a peer left out of a pull or a push that were made here from their pages."
        ),
        "newsd_sync_texts_fetched_total": (
            "counter", "Texts a peer left out that did not come out the same here and were fetched."
        ),
        "newsd_sync_texts_not_made_by_peer_total": (
            "counter", "Texts left out of a push that the peer could not make from their pages (sent again with them)."
        ),
        "newsd_sync_objects_served_total": ("counter", "Blobs served to peers."),
        "newsd_archive_blob_bytes": ("gauge", "Bytes of raw content held in the archive."),
        "newsd_archive_articles": ("gauge", "Articles in the archive."),
        "newsd_archive_captures": ("gauge", "Captures in the archive."),
        "newsd_archive_stored_blob_bytes": ("gauge", "Bytes the archive's blobs take as stored (compressed)."),
    ]

    /// Adds `amount` to the counter `name` with `labels`.
    func count(_ name: String, _ labels: [String: String] = [:], by amount: Double = 1) {
        state.withLock { $0.counters[Self.key(name, labels), default: 0] += amount }
    }

    /// Records one observation of `seconds` in the histogram `name`.
    func observe(_ name: String, seconds: Double) {
        state.withLock { $0.histograms[name, default: Histogram()].observe(seconds) }
    }

    /// The exposition text, with `gauges` (name → value) read at scrape time.
    func render(gauges: [String: Double]) -> String {
        let snapshot = state.withLock { $0 }
        var series: [String: [String]] = [:]
        for (key, value) in snapshot.counters { series[Self.name(of: key), default: []].append("\(key) \(Self.number(value))") }
        for (name, value) in gauges { series[name, default: []].append("\(name) \(Self.number(value))") }
        for (name, histogram) in snapshot.histograms {
            var lines: [String] = []
            for (index, bound) in Histogram.bounds.enumerated() {
                lines.append("\(name)_bucket{le=\"\(bound)\"} \(histogram.counts[index])")
            }
            lines += [
                "\(name)_bucket{le=\"+Inf\"} \(histogram.total)", "\(name)_sum \(histogram.sum)",
                "\(name)_count \(histogram.total)",
            ]
            series[name] = lines
        }
        var out = ""
        for name in series.keys.sorted() {
            if let help = Self.help[name] { out += "# HELP \(name) \(help.text)\n# TYPE \(name) \(help.type)\n" }
            out += series[name, default: []].sorted().joined(separator: "\n") + "\n"
        }
        return out
    }

    private static func key(_ name: String, _ labels: [String: String]) -> String {
        guard !labels.isEmpty else { return name }
        let escaped = labels.sorted { $0.key < $1.key }.map { key, value in
            "\(key)=\"\(value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n"))\""
        }
        return "\(name){\(escaped.joined(separator: ","))}"
    }

    private static func name(of key: String) -> String { String(key.prefix { $0 != "{" }) }

    private static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }
}
