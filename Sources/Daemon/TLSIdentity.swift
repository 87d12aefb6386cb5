import Crypto
import Foundation
import NIOSSL
import SwiftASN1
import X509

/// The sync server's TLS identity: a P-256 key (`tls.key`, mode 0600) and a self-signed certificate for it
/// (`tls.crt`), both PEM, made on first start in the data directory. Peers pin the key (``pin``) instead of asking a
/// certificate authority: the sync protocol authenticates nodes by their Ed25519 keys already, and TLS adds secrecy.
struct TLSIdentity: Sendable {
    /// The server's TLS configuration.
    let configuration: TLSConfiguration
    /// The key's pin, as peers give it (`pin` in `[[peer]]`, `newsctl peers add --pin`): `sha256//` and the base64 of
    /// the SHA-256 of its DER SubjectPublicKeyInfo, libcurl's form.
    let pin: String

    init(directory: URL, nodeID: String) throws {
        let keyFile = directory.appendingPathComponent("tls.key")
        let certificateFile = directory.appendingPathComponent("tls.crt")
        let key: P256.Signing.PrivateKey
        if let pem = try? String(contentsOf: keyFile, encoding: .utf8) {
            do {
                key = try P256.Signing.PrivateKey(pemRepresentation: pem)
            } catch {
                throw DaemonError("\(keyFile.path) is not a P-256 private key in PEM; move it away to make a new one")
            }
        } else {
            key = P256.Signing.PrivateKey()
            try writeSecret(Data(key.pemRepresentation.utf8), to: keyFile)
        }
        var certificatePEM = try? String(contentsOf: certificateFile, encoding: .utf8)
        if let existing = certificatePEM,
            (try? Certificate(pemEncoded: existing))?.publicKey != Certificate.PublicKey(key.publicKey)
        {
            certificatePEM = nil
        }
        if certificatePEM == nil {
            let name = try DistinguishedName { CommonName("newsd \(nodeID.prefix(16))") }
            let now = Date()
            let certificate = try Certificate(
                version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: Certificate.PublicKey(key.publicKey),
                notValidBefore: now.addingTimeInterval(-86400), notValidAfter: now.addingTimeInterval(100 * 365 * 86400),
                issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions { SubjectAlternativeNames([.dnsName("newsd")]) },
                issuerPrivateKey: Certificate.PrivateKey(key))
            let pem = try certificate.serializeAsPEM().pemString
            try Data(pem.utf8).write(to: certificateFile, options: .atomic)
            certificatePEM = pem
        }
        configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: [.certificate(try NIOSSLCertificate(bytes: Array((certificatePEM ?? "").utf8), format: .pem))],
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(key.pemRepresentation.utf8), format: .pem)))
        pin = "sha256//" + Data(SHA256.hash(data: key.publicKey.derRepresentation)).base64EncodedString()
    }
}
