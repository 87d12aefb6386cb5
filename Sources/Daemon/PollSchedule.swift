public import Archive
public import Foundation

/// When to poll a feed next.
///
/// - A feed with a fixed interval is polled on it. Otherwise the interval follows how often the feed
///   publishes (half the median gap between its recent entries), between `pollInterval` and `maxInterval`.
/// - The server's hints stretch it: RSS `<ttl>`, `Cache-Control: max-age` and `Expires`, each clamped
///   to `maxInterval`; `<skipHours>` and `<skipDays>` move a poll out of the hours the feed skips.
/// - After a failure, polls back off exponentially from one minute to `maxBackoff`, with ±20% jitter;
///   a `Retry-After` on 429 or 503 is obeyed (up to a day). A feed is never given up on.
public struct PollSchedule: Sendable {
    public var pollInterval: Double
    public var maxInterval: Double
    public var maxBackoff: Double

    public init(pollInterval: Double, maxInterval: Double, maxBackoff: Double = 6 * 3600) {
        self.pollInterval = pollInterval
        self.maxInterval = max(pollInterval, maxInterval)
        self.maxBackoff = maxBackoff
    }

    /// The interval the publishing rhythm given by `dates` suggests, or `nil` with fewer than three dates.
    public func adaptiveInterval(entryDates dates: [Date]) -> Double? {
        let recent = dates.sorted(by: >).prefix(20)
        guard recent.count >= 3 else { return nil }
        let gaps = zip(recent, recent.dropFirst()).map { $0.timeIntervalSince($1) }.sorted()
        let median = gaps[gaps.count / 2]
        return min(maxInterval, max(pollInterval, median / 2))
    }

    /// The next poll after a successful one at `now`.
    public func next(
        after now: Date, feed: Feed, responseHeaders: [String: String], jitter: Double = Double.random(in: 0.95...1.05)
    ) -> Date {
        var interval = feed.settings.interval ?? feed.hints.adaptiveInterval ?? pollInterval
        if feed.settings.interval == nil {
            if let ttl = feed.hints.ttl { interval = max(interval, min(maxInterval, Double(ttl) * 60)) }
            if let lifetime = Self.cacheLifetime(responseHeaders, now: now) {
                interval = max(interval, min(maxInterval, lifetime))
            }
        }
        return skipping(now.addingTimeInterval(interval * jitter), hours: feed.hints.skipHours, days: feed.hints.skipDays)
    }

    /// The next poll after the `failures`-th failure in a row, at `now`.
    public func next(
        afterFailure failures: Int, at now: Date, retryAfter: Double?, jitter: Double = Double.random(in: 0.8...1.2)
    ) -> Date {
        let backoff = min(maxBackoff, 60 * pow(2, Double(min(max(failures, 1), 30) - 1))) * jitter
        let wait = retryAfter.map { max(backoff, min($0, 86400)) } ?? backoff
        return now.addingTimeInterval(wait)
    }

    /// Seconds the response may be cached: `Cache-Control: max-age`, else `Expires` minus `Date` (or now).
    static func cacheLifetime(_ headers: [String: String], now: Date) -> Double? {
        if let control = headers["cache-control"]?.lowercased() {
            for directive in control.split(separator: ",") {
                let parts = directive.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
                if parts.count == 2, parts[0] == "max-age",
                    let seconds = Double(parts[1].trimmingCharacters(in: CharacterSet(charactersIn: "\"")))
                {
                    return max(0, seconds)
                }
            }
        }
        guard let expires = headers["expires"].flatMap(HTTPDate.parse) else { return nil }
        let reference = headers["date"].flatMap(HTTPDate.parse) ?? now
        return max(0, expires.timeIntervalSince(reference))
    }

    /// Seconds to wait that a `Retry-After` header asks for: delta-seconds or an HTTP date.
    public static func retryAfter(_ value: String?, now: Date) -> Double? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        if let seconds = Double(value) { return max(0, seconds) }
        return HTTPDate.parse(value).map { max(0, $0.timeIntervalSince(now)) }
    }

    /// The first whole hour at or after `date` that is neither a skipped hour nor on a skipped day (GMT).
    func skipping(_ date: Date, hours: [Int], days: [String]) -> Date {
        guard !hours.isEmpty || !days.isEmpty, hours.count < 24, days.count < 7 else { return date }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "GMT")!
        let names = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"]
        var candidate = date
        for _ in 0..<(8 * 24) {
            let hour = calendar.component(.hour, from: candidate)
            let day = names[calendar.component(.weekday, from: candidate) - 1]
            if !hours.contains(hour) && !days.contains(day) { return candidate }
            let startOfHour = calendar.dateInterval(of: .hour, for: candidate)?.start ?? candidate
            candidate = startOfHour.addingTimeInterval(3600)
        }
        return date
    }
}

/// HTTP dates (RFC 9110: IMF-fixdate, and the obsolete RFC 850 and asctime forms).
enum HTTPDate {
    static func parse(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        for format in ["EEE, dd MMM yyyy HH:mm:ss zzz", "EEEE, dd-MMM-yy HH:mm:ss zzz", "EEE MMM d HH:mm:ss yyyy"] {
            formatter.dateFormat = format
            if let date = formatter.date(from: text) { return date }
        }
        return nil
    }
}
