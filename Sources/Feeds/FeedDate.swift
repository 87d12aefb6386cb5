public import Foundation

/// Dates as feeds write them: RFC 822 (RSS), RFC 3339 (Atom), and their common broken variants.
public enum FeedDate {
    /// Parses `text`; `nil` when no known form fits.
    public static func parse(_ text: String) -> Date? {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if let date = iso8601(trimmed) { return date }
        return rfc822(trimmed)
    }

    private static func iso8601(_ text: String) -> Date? {
        for fractional in [false, true] {
            if let date = try? Date.ISO8601FormatStyle(includingFractionalSeconds: fractional).parse(text) { return date }
        }
        // A date without a time, as some Atom feeds write it.
        return try? Date.ISO8601FormatStyle().year().month().day().parse(text)
    }

    private static let zones: [String: Int] = [
        "UT": 0, "UTC": 0, "GMT": 0, "Z": 0, "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8,
        "PDT": -7,
    ]

    private static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

    /// `[Day, ]DD Mon YYYY HH:MM[:SS] ZONE`, tolerant of case, missing seconds and two-digit years.
    private static func rfc822(_ text: String) -> Date? {
        var parts = text.replacingOccurrences(of: ",", with: " ").split(separator: " ").map(String.init)
        if let first = parts.first, Int(first) == nil { parts.removeFirst() }
        guard parts.count >= 4, let day = Int(parts[0]),
            let month = months.firstIndex(of: String(parts[1].lowercased().prefix(3))),
            var year = Int(parts[2])
        else { return nil }
        if year < 100 { year += year < 50 ? 2000 : 1900 }
        let clock = parts[3].split(separator: ":").compactMap { Int($0) }
        guard clock.count >= 2 else { return nil }
        var offsetSeconds = 0
        if parts.count >= 5 {
            let zone = parts[4]
            if let hours = zones[zone.uppercased()] {
                offsetSeconds = hours * 3600
            } else if zone.count == 5, let sign = zone.first, sign == "+" || sign == "-", let value = Int(zone.dropFirst()) {
                offsetSeconds = (value / 100 * 3600 + value % 100 * 60) * (sign == "-" ? -1 : 1)
            }
        }
        var components = DateComponents()
        components.year = year
        components.month = month + 1
        components.day = day
        components.hour = clock[0]
        components.minute = clock[1]
        components.second = clock.count > 2 ? clock[2] : 0
        components.timeZone = TimeZone(secondsFromGMT: offsetSeconds)
        return Calendar(identifier: .gregorian).date(from: components)
    }
}
