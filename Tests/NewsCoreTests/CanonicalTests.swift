import Foundation
import Testing

@testable import NewsCore

/// The canonical encoding as docs/PROTOCOL.md states it, computed by reflection over a record's stored properties:
/// slow, but independent of the hand-written field lists it checks.
private func reference(_ record: some ContentAddressed) -> String {
    func quote(_ string: String) -> String {
        var out = "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += "\\u00" + String(format: "%02x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
    func json(_ value: Any) -> String? {
        switch value {
        case let string as String: return quote(string)
        case let hash as ContentHash: return quote(hash.hex)
        case let int as Int: return String(int)
        case let int as Int64: return String(int)
        default:
            let mirror = Mirror(reflecting: value)
            #expect(mirror.displayStyle == .optional, "records hold only strings, hashes, integers and optionals")
            return mirror.children.first.flatMap { json($0.value) }
        }
    }
    let fields = Mirror(reflecting: record).children.compactMap { child -> (String, String)? in
        guard let label = child.label, label != "id", label != "signature", let value = json(child.value) else { return nil }
        // An extraction made before extractions were signed has no node, and its encoding no nodeID.
        if record is ExtractionRecord, label == "nodeID", value == "\"\"" { return nil }
        return (label, value)
    }
    .sorted { Array($0.0.utf8).lexicographicallyPrecedes(Array($1.0.utf8)) }
    return "{" + fields.map { quote($0.0) + ":" + $0.1 }.joined(separator: ",") + "}"
}

@Suite struct CanonicalTests {
    /// Strings that exercise escaping: quotes, backslashes, controls, non-ASCII, NUL; and absent optionals.
    private static let strings: [String?] = [
        nil, "", "plain", "quote \" backslash \\ slash /", "lines\nand\rtabs\t", "bell \u{7} escape \u{1B} nul \u{0}",
        "Zürich — 東京 🙂", "\u{7F} delete",
    ]

    @Test func everyRecordKindEncodesAsTheProtocolSays() {
        let hash = ContentHash(ofText: "x")
        var records: [any ContentAddressed] = [NodeRecord(publicKey: Data(repeating: 7, count: 32))]
        for (index, string) in Self.strings.enumerated() {
            let text = string ?? "none"
            records.append(ArticleRecord(url: text))
            records.append(
                CaptureRecord(
                    articleID: index.isMultiple(of: 2) ? hash : nil, url: text, finalURL: text + "/", fetchedAt: text,
                    status: index * 100 - 250, contentType: string, etag: string, lastModified: string, blobHash: hash,
                    size: Int.max - index, nodeID: text))
            records.append(
                TextRecord(
                    title: string, byline: string, published: string, language: string, body: text, modified: string,
                    canonicalURL: string, imageURL: string))
            records.append(ExtractionRecord(captureID: hash, textID: hash, extractor: text))
            records.append(
                ExtractionRecord(
                    captureID: hash, textID: hash, extractor: text, template: (0..<UInt64(index)).map { $0 << 60 | $0 },
                    nodeID: text))
            records.append(
                AnnotationRecord(
                    articleID: hash, key: text, value: string, time: Int64.min + Int64(index), counter: -index, nodeID: text))
        }
        for record in records {
            #expect(String(decoding: record.canonicalEncoding.data, as: UTF8.self) == reference(record))
        }
    }

    @Test func aNULMakesARecordUnstorable() {
        #expect(
            TextRecord(title: nil, byline: nil, published: nil, language: nil, body: "a\u{0}b").canonicalEncoding.storable
                == false)
        #expect(TextRecord(title: nil, byline: nil, published: nil, language: nil, body: "a\u{1}b").canonicalEncoding.storable)
    }
}

/// MinHash's ASCII fast path gives what the Unicode tables give.
@Suite struct MinHashTests {
    /// Word hashes as the Unicode properties define words and case: the rule the fast path must follow.
    private func referenceWords(_ text: String) -> [UInt64] {
        var words: [UInt64] = []
        var current: UInt64 = 0xcbf2_9ce4_8422_2325
        var inWord = false
        for scalar in text.unicodeScalars {
            if scalar.properties.isAlphabetic || scalar.properties.numericType != nil {
                for lowered in scalar.properties.lowercaseMapping.unicodeScalars {
                    current = (current ^ UInt64(lowered.value)) &* 0x0000_0100_0000_01B3
                }
                inWord = true
            } else if inWord {
                words.append(current)
                current = 0xcbf2_9ce4_8422_2325
                inWord = false
            }
        }
        if inWord { words.append(current) }
        return words
    }

    @Test func everyASCIICharacterSplitsAndFoldsAsTheUnicodeTablesSay() {
        for value in 0..<0x80 {
            let character = String(UnicodeScalar(UInt8(value)))
            let text = "Alpha beta\(character)Gamma\(character) ZETA Ünïcode ² \(character)"
            #expect(MinHash.wordHashes(text) == referenceWords(text), "U+\(String(value, radix: 16))")
        }
    }
}
