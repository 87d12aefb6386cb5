import Foundation
import NewsCore

/// Which character encoding to read an XML feed with, when the document alone may not say right.
enum TextEncoding {
    /// The encoding to impose on libxml2, or `nil` to let it follow the BOM, the XML declaration or UTF-8.
    ///
    /// - A BOM or an encoding declared in the document wins, except that ISO-8859-1 and ASCII are read as
    ///   windows-1252, their superset, which is what such feeds really contain.
    /// - Otherwise the HTTP charset is used, unless it names a single-byte encoding while the bytes are
    ///   valid UTF-8 with non-ASCII text in them: a mislabel, read as UTF-8.
    /// - Otherwise UTF-8, or windows-1252 when the bytes are not valid UTF-8.
    static func xmlEncoding(for data: Data, contentType: String?) -> String? {
        let head = data.prefix(4)
        if head.starts(with: [0xEF, 0xBB, 0xBF]) || head.starts(with: [0xFE, 0xFF]) || head.starts(with: [0xFF, 0xFE]) {
            return nil
        }
        if let declared = declaredEncoding(data) {
            return singleByte.contains(declared) ? "windows-1252" : nil
        }
        let validUTF8 = String(validating: data, as: UTF8.self) != nil
        if let charset = ContentType.charset(contentType) {
            if singleByte.contains(charset) || charset == "windows-1252" {
                return validUTF8 && data.contains(where: { $0 >= 0x80 }) ? "UTF-8" : "windows-1252"
            }
            return charset
        }
        return validUTF8 ? nil : "windows-1252"
    }

    private static let singleByte: Set<String> = ["iso-8859-1", "iso8859-1", "latin1", "latin-1", "us-ascii", "ascii"]

    /// The `encoding` of an `<?xml …?>` declaration, lowercased.
    static func declaredEncoding(_ data: Data) -> String? {
        let head = String(decoding: data.prefix(256), as: UTF8.self)
        guard head.hasPrefix("<?xml"), let end = head.range(of: "?>") else { return nil }
        let declaration = head[..<end.lowerBound]
        guard let key = declaration.range(of: "encoding") else { return nil }
        let rest = declaration[key.upperBound...].drop { $0 == " " || $0 == "=" }
        guard let quote = rest.first, quote == "\"" || quote == "'" else { return nil }
        let value = rest.dropFirst().prefix { $0 != quote }
        return value.isEmpty ? nil : value.lowercased()
    }
}
