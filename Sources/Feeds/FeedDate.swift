public import Foundation
import NewsCore

/// Dates as feeds write them: RFC 822 (RSS), RFC 3339 / ISO 8601 (Atom, JSON Feed), and their common
/// broken variants. Parsed by hand: feeds carry thousands of dates, and formatters are slow.
public enum FeedDate {
    /// Parses `text`; `nil` when no known form fits.
    public static func parse(_ text: String) -> Date? {
        guard let trimmed = Whitespace.trimmed(text), let first = trimmed.utf8.first else { return nil }
        if let date = iso8601(Array(trimmed.utf8)) { return date }
        return first >= UInt8(ascii: "0") && first <= UInt8(ascii: "9") || first >= UInt8(ascii: "A") ? rfc822(trimmed) : nil
    }

    /// `YYYY-MM-DD[(T| )HH:MM[:SS[.fraction]]][Z|±HH[:]MM]`.
    private static func iso8601(_ bytes: [UInt8]) -> Date? {
        var index = 0
        func number(_ digits: Int) -> Int? {
            guard index + digits <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[index..<(index + digits)] {
                guard byte >= 48, byte <= 57 else { return nil }
                value = value * 10 + Int(byte - 48)
            }
            index += digits
            return value
        }
        func skip(_ character: Character) -> Bool {
            guard index < bytes.count, bytes[index] == character.asciiValue else { return false }
            index += 1
            return true
        }
        guard let year = number(4), skip("-"), let month = number(2), skip("-"), let day = number(2) else { return nil }
        var hour = 0
        var minute = 0
        var second = 0.0
        var offset = 0
        if index < bytes.count {
            guard skip("T") || skip("t") || skip(" "), let h = number(2), skip(":"), let m = number(2) else { return nil }
            hour = h
            minute = m
            if skip(":") {
                guard let s = number(2) else { return nil }
                second = Double(s)
                if skip(".") || skip(",") {
                    var scale = 0.1
                    while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 {
                        second += Double(bytes[index] - 48) * scale
                        scale /= 10
                        index += 1
                    }
                }
            }
            if skip("Z") || skip("z") {
            } else if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                let sign = bytes[index] == UInt8(ascii: "-") ? -1 : 1
                index += 1
                guard let hours = number(2) else { return nil }
                _ = skip(":")
                let minutes = number(2) ?? 0
                offset = sign * (hours * 3600 + minutes * 60)
            }
            guard index == bytes.count else { return nil }
        }
        return date(year: year, month: month, day: day, hour: hour, minute: minute, second: second, offset: offset)
    }

    private static let zones: [String: Int] = [
        "UT": 0, "UTC": 0, "GMT": 0, "Z": 0, "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8,
        "PDT": -7,
    ]

    private static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

    /// `[Day, ]DD Mon YYYY HH:MM[:SS] ZONE`, tolerant of case, missing seconds and two-digit years.
    private static func rfc822(_ text: String) -> Date? {
        var parts = text.split { $0 == " " || $0 == "," }
        if let first = parts.first, Int(first) == nil { parts.removeFirst() }
        guard parts.count >= 4, let day = Int(parts[0]),
            let month = months.firstIndex(of: parts[1].prefix(3).lowercased()),
            var year = Int(parts[2])
        else { return nil }
        if year < 100 { year += year < 50 ? 2000 : 1900 }
        let clock = parts[3].split(separator: ":").compactMap { Int($0) }
        guard clock.count >= 2 else { return nil }
        var offset = 0
        if parts.count >= 5 {
            let zone = parts[4]
            if let hours = zones[zone.uppercased()] {
                offset = hours * 3600
            } else if zone.count == 5, let sign = zone.first, sign == "+" || sign == "-", let value = Int(zone.dropFirst()) {
                offset = (value / 100 * 3600 + value % 100 * 60) * (sign == "-" ? -1 : 1)
            }
        }
        return date(
            year: year, month: month + 1, day: day, hour: clock[0], minute: clock[1],
            second: Double(clock.count > 2 ? clock[2] : 0),
            offset: offset)
    }

    /// A UTC instant from civil date and time fields (days-from-civil, proleptic Gregorian).
    private static func date(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Double, offset: Int) -> Date? {
        guard (1...12).contains(month), (1...31).contains(day), (0...24).contains(hour), (0...59).contains(minute), second < 61
        else { return nil }
        let days = civilDays(year: year, month: month, day: day)
        let seconds = Double(days * 86400 + hour * 3600 + minute * 60 - offset) + second
        return Date(timeIntervalSince1970: seconds)
    }
}
