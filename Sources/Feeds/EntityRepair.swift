import CLibXML2
import Foundation
import NewsCore

/// Rewrites the character references of a feed that XML would lose, before libxml2 reads it.
///
/// Feeds are written by people who write HTML: a bare `&` ("Tom & Jerry"), HTML's named references
/// (`&eacute;`, `&nbsp;`), and entities declared in a `<!DOCTYPE>`. An XML parser drops all three, so text
/// would lose characters. This pass, outside comments, CDATA sections and processing instructions:
/// - keeps XML's five predefined references and valid numeric ones;
/// - turns an HTML named reference into its numeric one;
/// - replaces a reference to an entity the document's internal subset declares with that entity's text,
///   escaped, and never expanded further (at most as many bytes as the document again, or 1 MiB), so no
///   declaration can multiply the document;
/// - escapes every other `&` as `&amp;`, so it stays a character of the text;
/// - removes the `<!DOCTYPE>`, so libxml2 neither loads nor expands anything.
enum EntityRepair {
    /// The repaired document, or `nil` when it needs no change (the usual case, decided in one pass).
    static func repaired(_ data: Data) -> Data? {
        data.withUnsafeBytes { raw in
            var pass = Pass(raw.bindMemory(to: UInt8.self))
            return pass.run()
        }
    }

    /// Whether the bytes can be scanned for ASCII `&` and `<` as they are (not UTF-16 or UTF-32, not ISO-2022).
    static func scannable(_ data: Data, encoding: String?) -> Bool {
        let head = Array(data.prefix(4))
        if head.starts(with: [0xFE, 0xFF]) || head.starts(with: [0xFF, 0xFE]) || head.contains(0) { return false }
        let declared = (encoding ?? TextEncoding.declaredEncoding(data) ?? "").lowercased()
        return !declared.hasPrefix("utf-16") && !declared.hasPrefix("utf-32") && !declared.hasPrefix("iso-2022")
            && !declared.hasPrefix("ucs")
    }

    private struct Pass {
        let bytes: UnsafeBufferPointer<UInt8>
        /// The output once something changed; bytes before `copied` are in it.
        var out: [UInt8]?
        var copied = 0
        var declared: [String: [UInt8]] = [:]
        var expansionBudget: Int

        init(_ bytes: UnsafeBufferPointer<UInt8>) {
            self.bytes = bytes
            expansionBudget = max(bytes.count, 1 << 20)
        }

        mutating func run() -> Data? {
            var index = 0
            let count = bytes.count
            while index < count {
                switch bytes[index] {
                case UInt8(ascii: "<"):
                    index = markup(at: index)
                case UInt8(ascii: "&"):
                    index = reference(at: index)
                default:
                    index += 1
                }
            }
            guard var out else { return nil }
            out.append(contentsOf: bytes[copied...])
            return Data(out)
        }

        /// Replaces `bytes[range]` with `replacement` in the output.
        mutating func replace(_ range: Range<Int>, with replacement: some Collection<UInt8>) {
            if out == nil {
                out = Array(bytes[0..<range.lowerBound])
            } else {
                out!.append(contentsOf: bytes[copied..<range.lowerBound])
            }
            out!.append(contentsOf: replacement)
            copied = range.upperBound
        }

        func starts(_ prefix: String, at index: Int) -> Bool {
            var position = index
            for byte in prefix.utf8 {
                guard position < bytes.count, Pass.folded(bytes[position]) == Pass.folded(byte) else { return false }
                position += 1
            }
            return true
        }

        /// ASCII letters in lower case, other bytes as they are.
        static func folded(_ byte: UInt8) -> UInt8 { byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte }

        /// The index just past `terminator` from `index`, or the end.
        func after(_ terminator: String, from index: Int) -> Int {
            let first = terminator.utf8.first!
            var position = index
            while position < bytes.count {
                if bytes[position] == first, starts(terminator, at: position) { return position + terminator.utf8.count }
                position += 1
            }
            return bytes.count
        }

        /// Skips comments, CDATA and processing instructions whole, and takes a DOCTYPE out.
        mutating func markup(at index: Int) -> Int {
            if starts("<!--", at: index) { return after("-->", from: index + 4) }
            if starts("<![CDATA[", at: index) { return after("]]>", from: index + 9) }
            if starts("<?", at: index) { return after("?>", from: index + 2) }
            if starts("<!DOCTYPE", at: index) {
                let end = doctype(at: index)
                replace(index..<end, with: EmptyCollection())
                return end
            }
            return index + 1
        }

        /// Reads a DOCTYPE's general entity declarations and returns the index just past it.
        mutating func doctype(at index: Int) -> Int {
            var position = index + 9
            var inSubset = false
            var quote: UInt8?
            while position < bytes.count {
                let byte = bytes[position]
                if let open = quote {
                    if byte == open { quote = nil }
                } else if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
                    quote = byte
                } else if byte == UInt8(ascii: "[") {
                    inSubset = true
                } else if byte == UInt8(ascii: "]") {
                    inSubset = false
                } else if inSubset, byte == UInt8(ascii: "<") {
                    if starts("<!--", at: position) {
                        position = after("-->", from: position + 4)
                        continue
                    }
                    if starts("<!ENTITY", at: position) {
                        position = entity(at: position + 8)
                        continue
                    }
                } else if byte == UInt8(ascii: ">"), !inSubset {
                    return position + 1
                }
                position += 1
            }
            return bytes.count
        }

        /// Reads `<!ENTITY name "value">` from just after `<!ENTITY`; parameter and external entities are
        /// skipped. Returns the index just past the declaration.
        mutating func entity(at index: Int) -> Int {
            var position = index
            func skipSpace() { while position < bytes.count, bytes[position] <= 0x20 { position += 1 } }
            skipSpace()
            let parameter = position < bytes.count && bytes[position] == UInt8(ascii: "%")
            if parameter {
                position += 1
                skipSpace()
            }
            let nameStart = position
            while position < bytes.count, bytes[position] > 0x20, bytes[position] != UInt8(ascii: ">") { position += 1 }
            let name = String(decoding: bytes[nameStart..<position], as: UTF8.self)
            skipSpace()
            if position < bytes.count, bytes[position] == UInt8(ascii: "\"") || bytes[position] == UInt8(ascii: "'") {
                let quote = bytes[position]
                let valueStart = position + 1
                position = valueStart
                while position < bytes.count, bytes[position] != quote { position += 1 }
                if !parameter, !name.isEmpty, declared[name] == nil {
                    declared[name] = escaped(bytes[valueStart..<min(position, bytes.count)])
                }
            }
            while position < bytes.count, bytes[position] != UInt8(ascii: ">") { position += 1 }
            return min(position + 1, bytes.count)
        }

        /// An entity's value as text in a document: `<` and `>` escaped, its own references kept when XML
        /// or HTML knows them (declared entities are not expanded inside it), every other `&` escaped.
        func escaped(_ value: Slice<UnsafeBufferPointer<UInt8>>) -> [UInt8] {
            var out: [UInt8] = []
            var index = value.startIndex
            while index < value.endIndex {
                let byte = value[index]
                switch byte {
                case UInt8(ascii: "<"): out += Array("&lt;".utf8)
                case UInt8(ascii: ">"): out += Array("&gt;".utf8)
                case UInt8(ascii: "&"):
                    let (end, known) = Pass.known(value.base, at: index, limit: value.endIndex)
                    if let known {
                        out += known.written ?? Array(value.base[index..<end])
                        index = end
                        continue
                    }
                    out += Array("&amp;".utf8)
                default: out.append(byte)
                }
                index += 1
            }
            return out
        }

        /// A reference at `index` (an `&`): kept, rewritten or escaped. Returns where scanning goes on.
        mutating func reference(at index: Int) -> Int {
            let (end, known) = Pass.known(bytes, at: index, limit: bytes.count)
            if let known {
                if let written = known.written { replace(index..<end, with: written) }
                return end
            }
            if end > index, let value = declared[String(decoding: bytes[(index + 1)..<(end - 1)], as: UTF8.self)],
                value.count <= expansionBudget
            {
                expansionBudget -= value.count
                replace(index..<end, with: value)
                return end
            }
            replace(index..<(index + 1), with: "&amp;".utf8)
            return index + 1
        }

        /// A reference XML or HTML knows: kept as written (`written` is `nil`: XML's own, numeric ones), or
        /// written otherwise (HTML's named ones as numeric references, `&#X…;` as `&#…;`).
        struct Known {
            var written: [UInt8]?
        }

        /// Reads `&name;` or `&#…;` at `index`. Returns the index past the `;` (or `index` when there is
        /// no well-formed reference) and, when XML or HTML knows it, how to write it. A reference kept as it
        /// stands costs no copy: most of a feed's references are `&amp;` and `&lt;`.
        static func known(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int, limit: Int) -> (Int, Known?) {
            var end = index + 1
            while end < limit, end - index < 40, isNameByte(bytes[end]) { end += 1 }
            guard end < limit, bytes[end] == UInt8(ascii: ";"), end > index + 1 else { return (index, nil) }
            let name = bytes[(index + 1)..<end]
            let past = end + 1
            if name.first == UInt8(ascii: "#") {
                guard let scalar = CharacterReference.codePoint(name.dropFirst()), isXMLCharacter(scalar) else {
                    return (index, nil)
                }
                // XML knows `&#x…;` but not HTML's `&#X…;`.
                return (past, Known(written: name.dropFirst().first == UInt8(ascii: "X") ? Array("&#\(scalar);".utf8) : nil))
            }
            let text = String(decoding: name, as: UTF8.self)
            if ["amp", "lt", "gt", "quot", "apos"].contains(text) { return (past, Known(written: nil)) }
            let entity = text.withCString { htmlEntityLookup(UnsafeRawPointer($0).assumingMemoryBound(to: xmlChar.self)) }
            if let entity { return (past, Known(written: Array("&#\(entity.pointee.value);".utf8))) }
            return (past, nil)
        }

        static func isNameByte(_ byte: UInt8) -> Bool {
            (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x7A) || (byte >= 0x30 && byte <= 0x39) || byte == UInt8(ascii: "#")
                || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
                || byte == UInt8(ascii: ":")
                || byte >= 0x80
        }

        static func isXMLCharacter(_ scalar: UInt32) -> Bool {
            scalar == 0x9 || scalar == 0xA || scalar == 0xD || (0x20...0xD7FF).contains(scalar)
                || (0xE000...0xFFFD).contains(scalar) || (0x10000...0x10FFFF).contains(scalar)
        }
    }
}
