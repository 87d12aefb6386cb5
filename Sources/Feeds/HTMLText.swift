import CLibXML2

/// Escaped HTML in a feed's text fields, as the plain text a reader sees.
enum HTMLText {
    /// Whether `text` holds a tag or a character reference, and so is HTML rather than plain text.
    static func looksLikeHTML(_ text: String) -> Bool {
        var previous: UInt8 = 0
        for byte in text.utf8 {
            let letter = byte | 0x20 >= 0x61 && byte | 0x20 <= 0x7A
            if previous == UInt8(ascii: "<"), letter || byte == UInt8(ascii: "/") || byte == UInt8(ascii: "!") { return true }
            if previous == UInt8(ascii: "&"), letter || byte == UInt8(ascii: "#") { return true }
            previous = byte
        }
        return false
    }

    /// The text of an HTML fragment: tags removed, scripts and styles left out, references decoded.
    static func plain(_ html: String) -> String {
        let options = Int32(
            HTML_PARSE_RECOVER.rawValue | HTML_PARSE_NOERROR.rawValue | HTML_PARSE_NOWARNING.rawValue
                | HTML_PARSE_NONET.rawValue)
        var utf8 = Array(html.utf8)
        utf8.append(0)
        let document = utf8.withUnsafeBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) {
                htmlReadMemory($0, Int32(buffer.count - 1), nil, "UTF-8", options)
            }
        }
        guard let document else { return html }
        defer { xmlFreeDoc(document) }
        return Node(UnsafeMutableRawPointer(document).assumingMemoryBound(to: xmlNode.self)).text(separatingBlocks: true)
    }
}
