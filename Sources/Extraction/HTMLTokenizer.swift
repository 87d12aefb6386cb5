import Foundation
import NewsCore

/// The attributes of one start tag, as spans of the page's bytes; values are decoded when asked for.
struct Attributes {
    fileprivate(set) var source: UnsafeBufferPointer<UInt8>
    fileprivate var spans: [(name: Range<Int>, value: Range<Int>)] = []

    var isEmpty: Bool { spans.isEmpty }

    /// No attributes, for the elements a page leaves out and the parser implies.
    static var none: Attributes { Attributes(source: UnsafeBufferPointer(start: nil, count: 0)) }

    /// The raw bytes of the value of `name` (lowercase ASCII), if the attribute is there.
    func raw(_ name: StaticString) -> UnsafeBufferPointer<UInt8>? {
        let wanted = UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount)
        for span in spans where span.name.count == wanted.count {
            var index = 0
            while index < wanted.count, source[span.name.lowerBound + index] | 0x20 == wanted[index] { index += 1 }
            if index == wanted.count { return UnsafeBufferPointer(rebasing: source[span.value]) }
        }
        return nil
    }

    /// The value of `name` with character references decoded, if the attribute is there.
    subscript(_ name: StaticString) -> String? {
        guard let raw = raw(name) else { return nil }
        return String(decoding: CharacterReferences.decode(raw), as: UTF8.self)
    }
}

/// A forgiving HTML tokenizer over UTF-8 bytes: tags, attributes, text with character references decoded, comments
/// and raw text (`script`, `style`…) skipped as browsers do. Tree building is the caller's work.
struct HTMLTokenizer {
    private let bytes: UnsafeBufferPointer<UInt8>
    private var position = 0
    private var attributes: Attributes

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
        attributes = Attributes(source: bytes)
    }

    /// Calls `start` for each start tag (with its lowercased name and whether it closed itself), `end` for each end
    /// tag and `text` for the text between, in document order.
    mutating func run(
        start: (Tag, Attributes) -> Void, end: (Tag) -> Void, text: (UnsafeBufferPointer<UInt8>) -> Void
    ) {
        let count = bytes.count
        var textStart = 0
        func flushText(_ upTo: Int) {
            guard upTo > textStart else { return }
            let slice = UnsafeBufferPointer(rebasing: bytes[textStart..<upTo])
            if slice.contains(UInt8(ascii: "&")) {
                CharacterReferences.decode(slice).withUnsafeBufferPointer { text($0) }
            } else {
                text(slice)
            }
        }
        while position < count {
            guard let open = find(UInt8(ascii: "<"), from: position) else { break }
            guard open + 1 < count else { break }
            let next = bytes[open + 1]
            if isLetter(next) {
                flushText(open)
                let (tag, tagEnd) = startTag(at: open + 1)
                start(tag, attributes)
                position = tagEnd
                textStart = position
                if let closing = tag.rawTextEnd {
                    // The content of script, style and the like runs to its end tag, markup or not.
                    let contentEnd = findEndTag(closing, from: position) ?? count
                    if tag == .title || tag == .textarea {
                        flushText(contentEnd)
                    } else {
                        text(UnsafeBufferPointer(rebasing: bytes[position..<contentEnd]))
                    }
                    position = contentEnd < count ? (find(UInt8(ascii: ">"), from: contentEnd) ?? count - 1) + 1 : count
                    end(tag)
                    textStart = position
                }
            } else if next == UInt8(ascii: "/"), open + 2 < count, isLetter(bytes[open + 2]) {
                flushText(open)
                let nameEnd = scanName(from: open + 2)
                end(Tag.named(UnsafeBufferPointer(rebasing: bytes[(open + 2)..<nameEnd])))
                position = (find(UInt8(ascii: ">"), from: nameEnd) ?? count - 1) + 1
                textStart = position
            } else if next == UInt8(ascii: "!") || next == UInt8(ascii: "?") || next == UInt8(ascii: "/") {
                flushText(open)
                if open + 3 < count, bytes[open + 2] == UInt8(ascii: "-"), bytes[open + 3] == UInt8(ascii: "-") {
                    position = (findComment(from: open + 4) ?? count)
                } else {
                    position = (find(UInt8(ascii: ">"), from: open + 2) ?? count - 1) + 1
                }
                textStart = position
            } else {
                // A lone `<` is text.
                position = open + 1
            }
        }
        flushText(count)
    }

    private func isLetter(_ byte: UInt8) -> Bool { (byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A }

    private func find(_ byte: UInt8, from start: Int) -> Int? {
        guard start < bytes.count, let base = bytes.baseAddress,
            let found = memchr(base + start, Int32(byte), bytes.count - start)
        else { return nil }
        return base.distance(to: found.assumingMemoryBound(to: UInt8.self))
    }

    private func scanName(from start: Int) -> Int {
        var index = start
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0C, 0x0D, UInt8(ascii: "/"), UInt8(ascii: ">"): return index
            default: index += 1
            }
        }
        return index
    }

    /// The end of `-->` after `start`.
    private func findComment(from start: Int) -> Int? {
        var index = start
        while let dash = find(UInt8(ascii: "-"), from: index) {
            if dash + 2 < bytes.count, bytes[dash + 1] == UInt8(ascii: "-"), bytes[dash + 2] == UInt8(ascii: ">") {
                return dash + 3
            }
            index = dash + 1
        }
        return nil
    }

    /// Where `</name` starts, case-insensitively.
    private func findEndTag(_ name: [UInt8], from start: Int) -> Int? {
        var index = start
        while let open = find(UInt8(ascii: "<"), from: index) {
            if open + 1 + name.count < bytes.count, bytes[open + 1] == UInt8(ascii: "/") {
                var matched = 0
                while matched < name.count, bytes[open + 2 + matched] | 0x20 == name[matched] { matched += 1 }
                if matched == name.count { return open }
            }
            index = open + 1
        }
        return nil
    }

    /// Reads a start tag's name and attributes from just after `<`; returns the tag and where the text resumes.
    private mutating func startTag(at start: Int) -> (Tag, Int) {
        let nameEnd = scanName(from: start)
        let tag = Tag.named(UnsafeBufferPointer(rebasing: bytes[start..<nameEnd]))
        attributes.spans.removeAll(keepingCapacity: true)
        var index = nameEnd
        let count = bytes.count
        while index < count {
            let byte = bytes[index]
            if byte == UInt8(ascii: ">") { return (tag, index + 1) }
            if byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0C || byte == 0x0D || byte == UInt8(ascii: "/") {
                index += 1
                continue
            }
            let attributeStart = index
            while index < count {
                let current = bytes[index]
                if current == UInt8(ascii: "=") || current == UInt8(ascii: ">") || current == UInt8(ascii: "/") || current <= 0x20
                {
                    break
                }
                index += 1
            }
            if index == attributeStart { index += 1 }
            let name = attributeStart..<index
            while index < count, bytes[index] <= 0x20 { index += 1 }
            guard index < count, bytes[index] == UInt8(ascii: "=") else {
                attributes.spans.append((name, index..<index))
                continue
            }
            index += 1
            while index < count, bytes[index] <= 0x20 { index += 1 }
            guard index < count else { break }
            let quote = bytes[index]
            if quote == UInt8(ascii: "\"") || quote == UInt8(ascii: "'") {
                let valueEnd = find(quote, from: index + 1) ?? count
                attributes.spans.append((name, (index + 1)..<valueEnd))
                index = min(valueEnd + 1, count)
            } else {
                let valueStart = index
                while index < count, bytes[index] > 0x20, bytes[index] != UInt8(ascii: ">") { index += 1 }
                attributes.spans.append((name, valueStart..<index))
            }
        }
        return (tag, count)
    }
}

/// HTML character references: numeric ones and the named ones news pages use (HTML 4's set).
enum CharacterReferences {
    /// `bytes` with every reference it holds replaced by its UTF-8.
    static func decode(_ bytes: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            guard byte == UInt8(ascii: "&") else {
                out.append(byte)
                index += 1
                continue
            }
            var end = index + 1
            while end < bytes.count, end - index < 34, isNameByte(bytes[end]) { end += 1 }
            let terminated = end < bytes.count && bytes[end] == UInt8(ascii: ";")
            let name = bytes[(index + 1)..<end]
            if let scalar = scalar(name, terminated: terminated) {
                append(scalar, to: &out)
                index = terminated ? end + 1 : end
            } else {
                out.append(byte)
                index += 1
            }
        }
        return out
    }

    private static func isNameByte(_ byte: UInt8) -> Bool {
        (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x7A) || (byte >= 0x30 && byte <= 0x39) || byte == UInt8(ascii: "#")
    }

    private static func scalar(_ name: Slice<UnsafeBufferPointer<UInt8>>, terminated: Bool) -> UInt32? {
        guard let first = name.first else { return nil }
        if first == UInt8(ascii: "#") {
            guard let value = CharacterReference.codePoint(name.dropFirst()) else { return nil }
            if value >= 0x80, value < 0xA0 { return windows1252[Int(value - 0x80)] }
            if value == 0 || value > 0x10FFFF || (value >= 0xD800 && value < 0xE000) { return 0xFFFD }
            return value
        }
        let key = String(decoding: name, as: UTF8.self)
        guard terminated || legacy.contains(key) else { return nil }
        return named[key]
    }

    static func append(_ scalar: UInt32, to out: inout [UInt8]) {
        switch scalar {
        case 0..<0x80: out.append(UInt8(scalar))
        case 0x80..<0x800: out += [UInt8(0xC0 | (scalar >> 6)), UInt8(0x80 | (scalar & 0x3F))]
        case 0x800..<0x10000:
            out += [UInt8(0xE0 | (scalar >> 12)), UInt8(0x80 | ((scalar >> 6) & 0x3F)), UInt8(0x80 | (scalar & 0x3F))]
        default:
            out += [
                UInt8(0xF0 | (scalar >> 18)), UInt8(0x80 | ((scalar >> 12) & 0x3F)), UInt8(0x80 | ((scalar >> 6) & 0x3F)),
                UInt8(0x80 | (scalar & 0x3F)),
            ]
        }
    }

    /// What windows-1252 puts at 0x80–0x9F, which is what numeric references to those code points mean on the web.
    static let windows1252: [UInt32] = [
        0x20AC, 0x81, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x8D, 0x017D, 0x8F,
        0x90, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x9D, 0x017E,
        0x0178,
    ]

    /// The references browsers also recognise without a semicolon, among those news pages use.
    private static let legacy: Set<String> = ["amp", "lt", "gt", "quot", "nbsp", "AMP", "LT", "GT", "QUOT"]

    private static let named: [String: UInt32] = {
        var table: [String: UInt32] = [
            "quot": 34, "amp": 38, "apos": 39, "lt": 60, "gt": 62, "OElig": 338, "oelig": 339, "Scaron": 352, "scaron": 353,
            "Yuml": 376, "fnof": 402, "circ": 710, "tilde": 732, "ensp": 8194, "emsp": 8195, "thinsp": 8201, "zwnj": 8204,
            "zwj": 8205, "lrm": 8206, "rlm": 8207, "ndash": 8211, "mdash": 8212, "lsquo": 8216, "rsquo": 8217, "sbquo": 8218,
            "ldquo": 8220, "rdquo": 8221, "bdquo": 8222, "dagger": 8224, "Dagger": 8225, "bull": 8226, "hellip": 8230,
            "permil": 8240, "prime": 8242, "Prime": 8243, "lsaquo": 8249, "rsaquo": 8250, "oline": 8254, "frasl": 8260,
            "euro": 8364, "trade": 8482, "larr": 8592, "uarr": 8593, "rarr": 8594, "darr": 8595, "harr": 8596, "minus": 8722,
            "infin": 8734, "ne": 8800, "le": 8804, "ge": 8805, "hyphen": 8208, "dash": 8208, "nbsp": 160, "NewLine": 10,
            "Tab": 9, "laquo": 171, "raquo": 187, "copy": 169, "reg": 174, "deg": 176, "middot": 183, "times": 215,
            "divide": 247,
        ]
        // Latin-1 from U+00A0 to U+00FF, in order.
        let latin1 = """
            nbsp iexcl cent pound curren yen brvbar sect uml copy ordf laquo not shy reg macr deg plusmn sup2 sup3 acute \
            micro para middot cedil sup1 ordm raquo frac14 frac12 frac34 iquest Agrave Aacute Acirc Atilde Auml Aring AElig \
            Ccedil Egrave Eacute Ecirc Euml Igrave Iacute Icirc Iuml ETH Ntilde Ograve Oacute Ocirc Otilde Ouml times Oslash \
            Ugrave Uacute Ucirc Uuml Yacute THORN szlig agrave aacute acirc atilde auml aring aelig ccedil egrave eacute \
            ecirc euml igrave iacute icirc iuml eth ntilde ograve oacute ocirc otilde ouml divide oslash ugrave uacute ucirc \
            uuml yacute thorn yuml
            """
        for (offset, name) in latin1.split(separator: " ").enumerated() { table[String(name)] = 0xA0 + UInt32(offset) }
        // Greek letters, capital and small, from Alpha (U+0391) and alpha (U+03B1).
        let greek =
            "Alpha Beta Gamma Delta Epsilon Zeta Eta Theta Iota Kappa Lambda Mu Nu Xi Omicron Pi Rho _ Sigma Tau Upsilon Phi Chi Psi Omega"
        for (offset, name) in greek.split(separator: " ").enumerated() where name != "_" {
            table[String(name)] = 0x391 + UInt32(offset)
            table[name.prefix(1).lowercased() + name.dropFirst()] = 0x3B1 + UInt32(offset)
        }
        table["sigmaf"] = 0x3C2
        return table
    }()
}
