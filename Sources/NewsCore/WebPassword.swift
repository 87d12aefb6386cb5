import Crypto
import Foundation
import _CryptoExtras

/// The web interface's password, kept as an scrypt hash: `scrypt$N$r$p$SALT$HASH`, salt and hash in base64.
/// `newsctl web passwd` makes the line for the configuration file.
public struct WebPassword: Sendable, Equatable {
    private let rounds: Int
    private let blockSize: Int
    private let parallelism: Int
    private let salt: Data
    private let hash: Data

    /// The hash of `password`, with a new random salt: N = 2^15, r = 8, p = 1 (32 MiB, about 0.1 s here).
    public static func hash(_ password: String) throws -> String {
        let salt = SymmetricKey(size: .bits128).withUnsafeBytes { Data($0) }
        let derived = try derive(password, salt: salt, rounds: 1 << 15, blockSize: 8, parallelism: 1)
        return "scrypt$\(1 << 15)$8$1$\(salt.base64EncodedString())$\(derived.base64EncodedString())"
    }

    /// Reads a hash `hash(_:)` made; `nil` for anything else, or parameters that would take too much memory or time.
    public init?(_ text: String) {
        let parts = text.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "scrypt", let rounds = Int(parts[1]), let blockSize = Int(parts[2]),
            let parallelism = Int(parts[3]), let salt = Data(base64Encoded: String(parts[4])),
            let hash = Data(base64Encoded: String(parts[5])), rounds > 1, rounds <= 1 << 20, rounds & (rounds - 1) == 0,
            (1...32).contains(blockSize), (1...16).contains(parallelism), salt.count >= 8, hash.count >= 16
        else { return nil }
        (self.rounds, self.blockSize, self.parallelism, self.salt, self.hash) = (rounds, blockSize, parallelism, salt, hash)
    }

    /// Whether `password` is the one hashed, compared in time that does not depend on where they differ.
    public func matches(_ password: String) -> Bool {
        guard
            let derived = try? Self.derive(
                password, salt: salt, rounds: rounds, blockSize: blockSize, parallelism: parallelism, count: hash.count)
        else { return false }
        return derived.isEqualInConstantTime(to: hash)
    }

    private static func derive(
        _ password: String, salt: Data, rounds: Int, blockSize: Int, parallelism: Int, count: Int = 32
    ) throws -> Data {
        try KDF.Scrypt.deriveKey(
            from: Data(password.utf8), salt: salt, outputByteCount: count, rounds: rounds, blockSize: blockSize,
            parallelism: parallelism, maxMemory: 256 << 20
        ).withUnsafeBytes { Data($0) }
    }
}
