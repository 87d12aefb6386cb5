import Crypto
public import Foundation

/// The SHA-256 of some bytes, as 64 lowercase hex digits: the address of every blob, text and record.
public struct ContentHash: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    /// The 64 lowercase hex digits.
    public let hex: String

    /// Hashes `bytes`.
    public init(of bytes: some DataProtocol) {
        hex = SHA256.hash(data: bytes).hexString
    }

    /// Hashes the UTF-8 encoding of `text`.
    public init(ofText text: String) {
        self.init(of: Data(text.utf8))
    }

    /// Parses a hash from its hex form; `nil` unless it is exactly 64 hex digits (either case).
    public init?(hex: String) {
        let lower = hex.lowercased()
        guard lower.utf8.count == 64, lower.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) })
        else { return nil }
        self.hex = lower
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let string = try container.decode(String.self)
        guard let hash = ContentHash(hex: string) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "not a SHA-256 hex digest: \(string.prefix(80))")
        }
        self = hash
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(hex)
    }

    public var description: String { hex }

    /// The digest's 32 bytes.
    public var digest: Data { Data(hex: hex) ?? Data() }

    /// The hash whose bytes are `digest`.
    init(digest: SHA256.Digest) {
        hex = digest.hexString
    }

    public static func < (lhs: ContentHash, rhs: ContentHash) -> Bool { lhs.hex < rhs.hex }
}

/// Bytes with their SHA-256, computed once when they are wrapped: whoever holds them never hashes them again, and
/// cannot be handed a hash that belongs to other bytes.
public struct HashedBytes: Sendable {
    public let bytes: Data
    public let hash: ContentHash

    /// Wraps `bytes`, hashing them.
    public init(_ bytes: Data) {
        self.bytes = bytes
        hash = ContentHash(of: bytes)
    }
}

extension Data {
    /// Bytes from hex digits (either case); `nil` unless every pair is hex.
    public init?(hex: String) {
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0 else { return nil }
        func value(_ digit: UInt8) -> UInt8? {
            switch digit {
            case 48...57: digit - 48
            case 97...102: digit - 87
            case 65...70: digit - 55
            default: nil
            }
        }
        var bytes = [UInt8]()
        bytes.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = value(digits[index]), let low = value(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        self.init(bytes)
    }
}

extension Collection where Element == UInt8 {
    /// Whether these bytes are `other`'s, compared in time that does not depend on where they differ (for secrets).
    public func isEqualInConstantTime(to other: some Collection<UInt8>) -> Bool {
        count == other.count && zip(self, other).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}

extension Sequence where Element == UInt8 {
    /// Lowercase hex digits of these bytes.
    public var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(underestimatedCount * 2)
        for byte in self {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
