import Foundation
import NewsCore

/// The human form of status output.
enum StatusText {
    static func render(_ status: StatusReport) -> String {
        let now = Date()
        let counts = status.counts
        var out = """
            newsd \(status.version)  pid \(status.pid)  up \(duration(status.uptimeSeconds))  \(status.activity)
            node     \(status.nodeID)\(status.tlsPin.map { "\ntls pin  \($0)" } ?? "")\
            \(status.web.map { "\nweb      \($0)" } ?? "")
            data     \(status.dataDirectory)  (\(bytes(status.dataBytes)))
            archive  \(counts.feeds) feeds, \(counts.articles) articles, \(counts.captures) captures, \(counts.texts) texts, \
            \(counts.blobs) blobs (\(bytes(counts.blobBytes))), change log at \(counts.lastSequence)
            growth   \(counts.capturesLastDay) captures (\(bytes(counts.capturedBytesLastDay))) in the last 24 hours

            """
        if let timestamps = status.timestamps { out += timestampLines(timestamps, now: now) }
        if let revisits = status.revisits {
            out += "revisits \(revisits.waiting) articles scheduled; today \(revisits.requestsToday) of \(revisits.budget), "
            out += "\(bytes(Int64(revisits.bytesToday))), \(revisits.changedToday) changed (newsctl edits)\n"
        }
        out += "\n" + feeds(status.feeds, now: now)
        out += "\n" + peers(status.peers, now: now)
        return out
    }

    /// Captures with a trusted timestamp, and each authority's state.
    static func timestampLines(_ timestamps: TimestampStatus, now: Date) -> String {
        var out = "timestamps \(timestamps.stamped) of \(timestamps.captures) captures\n"
        for authority in timestamps.authorities {
            out += "  \(marker(authority.lastError == nil ? "ok" : "error")) \(authority.url): \(authority.stamped) stamped, "
            out += "\(authority.waiting) waiting"
            if let last = authority.lastTokenAt { out += ", last token \(ago(last, now: now))" }
            if let next = authority.nextAt, authority.waiting > 0 { out += ", next \(until(next, now: now))" }
            out += "\n"
            if let error = authority.lastError { out += "      \(error)\n" }
        }
        return out
    }

    static func feeds(_ feeds: [FeedStatus], now: Date) -> String {
        guard !feeds.isEmpty else { return "feeds    none configured\n" }
        var out = "feeds\n"
        for feed in feeds {
            let result = feed.lastResult ?? "never polled"
            let last = feed.lastPollAt.map { "\(ago($0, now: now))" } ?? "-"
            let next = feed.nextPollAt.map { "next \(until($0, now: now))" } ?? "next now"
            out += "  \(marker(feed.lastResult)) \(feed.title ?? feed.url)"
            out += (feed.category.map { "  [\($0)]" } ?? "") + (feed.origin == "user" ? "  (added with newsctl)" : "") + "\n"
            out += "      \(feed.url)\n"
            if let site = feed.site { out += "      site \(site)\n" }
            for move in feed.moves ?? [] {
                out += "      moved permanently (\(move.status)) \(ago(move.at, now: now)): \(move.from) → \(move.to)\n"
            }
            if let location = feed.location, feed.moves?.isEmpty ?? true { out += "      moved permanently to \(location)\n" }
            out += "      \(result), \(last), \(next), \(feed.articles) articles"
            if feed.errorCount > 0 { out += ", \(feed.errorCount) failures in a row" }
            if feed.warnings > 0 { out += ", repaired while parsing" }
            out += "\n"
            if let error = feed.lastError { out += "      error: \(error)\n" }
        }
        return out
    }

    static func peers(_ peers: [PeerStatus], now: Date) -> String {
        guard !peers.isEmpty else { return "peers    none configured\n" }
        var out = "peers\n"
        for peer in peers {
            let last = peer.lastSyncAt.map { ago($0, now: now) } ?? "never synced"
            out += "  \(marker(peer.lastResult)) \(peer.name)  \(peer.url)\n"
            out += "      \(peer.lastResult ?? "-"), \(last), cursor \(peer.cursor)"
            out += peer.behind.map { ", \($0) changes behind\n" } ?? "\n"
            if let error = peer.lastError { out += "      error: \(error)\n" }
        }
        return out
    }

    private static func marker(_ result: String?) -> String {
        switch result {
        case "ok", "not-modified": "✓"
        case "error": "✗"
        default: "·"
        }
    }

    static func duration(_ seconds: Double) -> String {
        let total = Int(seconds.rounded())
        if total < 60 { return "\(total)s" }
        if total < 3600 { return "\(total / 60)m\(total % 60)s" }
        if total < 86400 { return "\(total / 3600)h\(total % 3600 / 60)m" }
        return "\(total / 86400)d\(total % 86400 / 3600)h"
    }

    private static func ago(_ date: Date, now: Date) -> String { "\(duration(max(0, now.timeIntervalSince(date)))) ago" }

    private static func until(_ date: Date, now: Date) -> String {
        let seconds = date.timeIntervalSince(now)
        return seconds <= 0 ? "now" : "in \(duration(seconds))"
    }

    static func bytes(_ count: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(count)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(count) B" : String(format: "%.1f %@", value, units[unit])
    }
}
