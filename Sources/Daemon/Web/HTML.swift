import Foundation

/// A piece of markup. Strings interpolated into it are escaped, so archived text can never become markup by
/// accident; only other `HTML` values are inserted as they are.
///
/// ```swift
/// let title = "Tom & Jerry <script>"
/// let item: HTML = "<li>\(title)</li>"  // <li>Tom &amp; Jerry &lt;script&gt;</li>
/// ```
struct HTML: Sendable, ExpressibleByStringInterpolation {
    private(set) var markup: String

    init(stringLiteral value: String) { markup = value }

    init(stringInterpolation: Interpolation) { markup = stringInterpolation.markup }

    private init(markup: String) { self.markup = markup }

    /// Interpolation that escapes text and inserts markup.
    struct Interpolation: StringInterpolationProtocol {
        fileprivate var markup = ""

        init(literalCapacity: Int, interpolationCount: Int) { markup.reserveCapacity(literalCapacity + 16 * interpolationCount) }

        mutating func appendLiteral(_ literal: String) { markup += literal }

        /// Text, escaped for element content and quoted attribute values alike.
        mutating func appendInterpolation(_ text: String) { markup += HTML.escape(text) }

        mutating func appendInterpolation(_ number: Int) { markup += String(number) }

        mutating func appendInterpolation(_ html: HTML) { markup += html.markup }

        mutating func appendInterpolation(_ parts: [HTML]) {
            for part in parts { markup += part.markup }
        }
    }

    /// `text` with the five characters that matter in HTML replaced by references.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// A path with a query string, each name and value percent-encoded; empty values are left out. Interpolate the
    /// result as text: its `&` are escaped as attribute values need.
    static func link(_ path: String, _ query: [(String, String?)] = []) -> String {
        let pairs = query.compactMap { name, value -> String? in
            guard let value, !value.isEmpty else { return nil }
            return "\(name)=\(percentEncoded(value))"
        }
        return pairs.isEmpty ? path : path + "?" + pairs.joined(separator: "&")
    }

    /// A path with the query string of `fields`, in the order of their names.
    static func link(_ path: String, _ fields: [String: String]) -> String {
        link(path, fields.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
    }

    /// `text` percent-encoded for a query value or a path segment.
    static func percentEncoded(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
    }

    private static let unreserved = CharacterSet(
        charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
}
