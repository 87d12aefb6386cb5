import Foundation

/// Which character encoding to read a page with, decided before parsing so that a `<meta charset>` found late
/// cannot switch encodings halfway through the page.
enum HTMLEncoding {
    /// The encoding for `html`: a byte-order mark, then the HTTP charset, then a `<meta>` charset in the first 4 KiB,
    /// then UTF-8 when the bytes are valid UTF-8 and windows-1252 when not. Latin-1 and ASCII labels are read as
    /// windows-1252, their superset, and such a label on valid, non-ASCII UTF-8 is taken for the mislabel it is.
    static func sniff(_ html: UnsafeRawBufferPointer, http: String?) -> String {
        let bytes = UnsafeBufferPointer(start: html.baseAddress?.assumingMemoryBound(to: UInt8.self), count: html.count)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { return "UTF-8" }
        if bytes.starts(with: [0xFE, 0xFF]) { return "UTF-16BE" }
        if bytes.starts(with: [0xFF, 0xFE]) { return "UTF-16LE" }
        let label = http.map { $0.lowercased() } ?? metaCharset(bytes)
        lazy var validUTF8 = String(validating: bytes, as: UTF8.self) != nil
        switch label {
        case nil:
            return validUTF8 ? "UTF-8" : "windows-1252"
        case "utf-8", "utf8", "unicode-1-1-utf-8", "utf-16", "utf-16le", "utf-16be":
            // A page that reached us as bytes and declares UTF-16 in a meta tag is really ASCII-compatible; a stray
            // invalid byte in a page that says UTF-8 becomes U+FFFD.
            return "UTF-8"
        case "iso-8859-1", "iso8859-1", "latin1", "latin-1", "us-ascii", "ascii", "windows-1252", "cp1252":
            return validUTF8 && bytes.contains(where: { $0 >= 0x80 }) ? "UTF-8" : "windows-1252"
        case let other?:
            return other
        }
    }

    /// The charset a `<meta charset>` or `<meta http-equiv content="…; charset=…">` in the first 4 KiB declares.
    static func metaCharset(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        let head = Array(bytes.prefix(4096)).map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }
        let key = Array("charset".utf8)
        var index = 0
        while index + key.count < head.count {
            guard head[index] == key[0], head[index..<index + key.count].elementsEqual(key) else {
                index += 1
                continue
            }
            var cursor = index + key.count
            index = cursor
            while cursor < head.count, head[cursor] == 0x20 { cursor += 1 }
            guard cursor < head.count, head[cursor] == UInt8(ascii: "=") else { continue }
            cursor += 1
            while cursor < head.count, head[cursor] == 0x20 || head[cursor] == 0x22 || head[cursor] == 0x27 { cursor += 1 }
            let start = cursor
            while cursor < head.count, isLabelByte(head[cursor]) { cursor += 1 }
            if cursor > start { return String(decoding: head[start..<cursor], as: UTF8.self) }
        }
        return nil
    }

    private static func isLabelByte(_ byte: UInt8) -> Bool {
        (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39) || byte == 0x2D || byte == 0x5F || byte == 0x3A
            || byte == 0x2E
    }

    /// windows-1252 bytes as UTF-8, every byte mapped (the five undefined ones to the C1 controls, as browsers do).
    static func windows1252ToUTF8(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + bytes.count / 8)
        for byte in bytes {
            if byte < 0x80 {
                out.append(byte)
            } else {
                let scalar = byte < 0xA0 ? CharacterReferences.windows1252[Int(byte - 0x80)] : UInt32(byte)
                CharacterReferences.append(scalar, to: &out)
            }
        }
        return out
    }

    /// `bytes` in the encoding `label` converted to UTF-8 by iconv; a byte it cannot convert becomes U+FFFD, and an
    /// encoding iconv does not know is read as windows-1252.
    static func convert(_ bytes: UnsafeRawBufferPointer, from label: String) -> [UInt8] {
        let converter = iconv_open("UTF-8", label)
        guard let converter, converter != iconv_t(bitPattern: -1) else { return windows1252ToUTF8(bytes) }
        defer { iconv_close(converter) }
        var out = [UInt8](repeating: 0, count: bytes.count * 2 + 16)
        var written = 0
        guard let base = bytes.baseAddress else { return [] }
        var input = UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: CChar.self))
        var inputLeft = bytes.count
        while inputLeft > 0 {
            var outputLeft = out.count - written
            let result = out.withUnsafeMutableBytes { buffer -> Int in
                var output: UnsafeMutablePointer<CChar>? = buffer.baseAddress!.advanced(by: written)
                    .assumingMemoryBound(to: CChar.self)
                var source: UnsafeMutablePointer<CChar>? = input
                let result = iconv(converter, &source, &inputLeft, &output, &outputLeft)
                input = source!
                return result
            }
            written = out.count - outputLeft
            guard result == -1 else { break }
            switch errno {
            case E2BIG:
                out += [UInt8](repeating: 0, count: out.count)
            case EILSEQ:
                // An invalid sequence: one replacement character, and on past the byte.
                if out.count - written < 3 { out += [UInt8](repeating: 0, count: 16) }
                out.replaceSubrange(written..<(written + 3), with: [0xEF, 0xBF, 0xBD])
                written += 3
                input += 1
                inputLeft -= 1
            default:
                inputLeft = 0
            }
        }
        out.removeSubrange(written...)
        return out
    }
}
