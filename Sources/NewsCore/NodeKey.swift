import Crypto
public import Foundation

/// A node's Ed25519 private key: it signs the node's captures.
public struct NodeKey: Sendable {
    private let key: Curve25519.Signing.PrivateKey

    /// A new random key.
    public init() { key = Curve25519.Signing.PrivateKey() }

    /// The key whose raw 32 bytes are `rawRepresentation`.
    public init(rawRepresentation: Data) throws {
        key = try Curve25519.Signing.PrivateKey(rawRepresentation: rawRepresentation)
    }

    /// The raw private key, for the key file.
    public var rawRepresentation: Data { key.rawRepresentation }

    /// This node's public record; its id is the node id.
    public var record: NodeRecord { NodeRecord(publicKey: key.publicKey.rawRepresentation) }

    /// This node's Ed25519 signature over `message`.
    public func signature(for message: Data) throws -> Data { try key.signature(for: message) }

    /// `record` (a capture, an annotation), signed by this node.
    public func sign<Record: SignedRecord>(_ record: Record) throws -> Record {
        var signed = record
        signed.signature = try key.signature(for: record.signedBytes).hexString
        return signed
    }
}

extension SignedRecord {
    /// Whether `signature` is `node`'s signature over this record, and `node` is the node that made it.
    public func isSigned(by node: NodeRecord) -> Bool {
        guard node.id.hex == nodeID, node.isIntact, let signature, let signatureBytes = Data(hex: signature),
            let keyBytes = Data(hex: node.publicKey), let key = try? Curve25519.Signing.PublicKey(rawRepresentation: keyBytes)
        else { return false }
        return key.isValidSignature(signatureBytes, for: signedBytes)
    }
}

extension NodeRecord {
    /// Whether `signature` is this node's Ed25519 signature over `message`.
    public func isValidSignature(_ signature: Data, for message: Data) -> Bool {
        guard isIntact, let keyBytes = Data(hex: publicKey),
            let key = try? Curve25519.Signing.PublicKey(rawRepresentation: keyBytes)
        else { return false }
        return key.isValidSignature(signature, for: message)
    }
}
