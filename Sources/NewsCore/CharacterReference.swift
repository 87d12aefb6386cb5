/// Numeric character references (`&#233;`, `&#xE9;`), as HTML and XML write them.
public enum CharacterReference {
    /// The code point `digits` names: what follows `&#` up to the `;`, decimal or `x`/`X` and hexadecimal; `nil` when
    /// they are not digits, or more than eight.
    @inlinable public static func codePoint(_ digits: some Collection<UInt8>) -> UInt32? {
        var digits = digits[...]
        var radix: UInt32 = 10
        if let marker = digits.first, marker | 0x20 == UInt8(ascii: "x") {
            radix = 16
            digits = digits.dropFirst()
        }
        guard !digits.isEmpty, digits.count <= 8 else { return nil }
        var value: UInt32 = 0
        for digit in digits {
            let letter = digit | 0x20
            if digit >= 0x30, digit <= 0x39 {
                value = value * radix + UInt32(digit - 0x30)
            } else if radix == 16, letter >= 0x61, letter <= 0x66 {
                value = value * radix + UInt32(letter - 0x61 + 10)
            } else {
                return nil
            }
        }
        return value
    }
}
