/// White space handling for feed text, over Unicode scalars (Foundation's character sets go through UTF-16
/// and were most of the time a feed took to parse).
enum Whitespace {
    static func isSpace(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x80 ? scalar.value == 0x20 || (0x09...0x0D).contains(scalar.value) : scalar.properties.isWhitespace
    }

    /// `text` without white space at either end, or `nil` when nothing else is left.
    static func trimmed(_ text: String) -> String? {
        let scalars = text.unicodeScalars
        guard let first = scalars.firstIndex(where: { !isSpace($0) }), let last = scalars.lastIndex(where: { !isSpace($0) })
        else { return nil }
        if first == scalars.startIndex && scalars.index(after: last) == scalars.endIndex { return text }
        return String(Substring(scalars[first...last]))
    }

    /// `text` trimmed, with each run of white space inside made one space and control characters (C0, DEL, C1) left
    /// out: text to show on a line. `nil` when empty.
    static func collapsed(_ text: String) -> String? {
        guard let trimmed = trimmed(text) else { return nil }
        var previousSpace = false
        let needsWork = trimmed.unicodeScalars.contains { scalar in
            let space = isSpace(scalar)
            defer { previousSpace = space }
            return (space && (previousSpace || scalar != " ")) || isControl(scalar)
        }
        guard needsWork else { return trimmed }
        var out: [UInt8] = []
        out.reserveCapacity(trimmed.utf8.count)
        previousSpace = false
        for scalar in trimmed.unicodeScalars {
            if isSpace(scalar) {
                if !previousSpace { out.append(0x20) }
                previousSpace = true
            } else if isControl(scalar) {
                continue
            } else {
                previousSpace = false
                UTF8.encode(scalar) { out.append($0) }
            }
        }
        // Leaving out a control character can leave a space at either end.
        return Whitespace.trimmed(String(decoding: out, as: UTF8.self))
    }

    /// A control character that is not white space.
    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        !isSpace(scalar) && (scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value))
    }
}
