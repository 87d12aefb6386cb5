import Crypto
public import Foundation
public import NewsCore
import SwiftASN1
@_spi(FixedExpiryValidationTime) public import X509

/// RFC 3161 time-stamping on the wire: the request newsd sends an authority, and the token it gets back, read and
/// checked with swift-asn1 and swift-certificates (CMS SignedData around a TSTInfo, RFC 5652 and RFC 3161).
public enum TimeStamp {
    /// Why a reply or a token is not taken.
    public struct Failure: Error, CustomStringConvertible, Equatable {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    /// What a token says, once its signature checked.
    public struct Token: Sendable, Equatable {
        /// The SHA-256 digest the authority vouched for.
        public var digest: ContentHash
        /// The time it gives.
        public var time: Date
        /// Its serial number, in hex.
        public var serial: String
        /// The nonce of the request it answers, if it carries one.
        public var nonce: [UInt8]?
        /// The certificate that signed it.
        public var signer: Certificate
        /// The other certificates it carries.
        public var certificates: [Certificate]
    }

    /// The DER encoding of a TimeStampReq for `digest` (SHA-256), with `nonce`, asking for the signer's certificate.
    public static func request(digest: ContentHash, nonce: [UInt8]) -> [UInt8] {
        let sha256 = tlv(0x30, tlv(0x06, [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01]) + tlv(0x05, []))
        let imprint = tlv(0x30, sha256 + tlv(0x04, Array(digest.digest)))
        return tlv(0x30, tlv(0x02, [1]) + imprint + tlv(0x02, positiveInteger(nonce)) + tlv(0x01, [0xFF]))
    }

    /// A new random nonce for a request.
    public static func nonce() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<8).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    /// The token of a TimeStampResp, after checking that the authority granted it; throws with the authority's own
    /// words otherwise.
    public static func token(fromReply reply: [UInt8]) throws -> [UInt8] {
        do {
            let response = try children(DER.parse(reply), "TimeStampResp")
            let status = try children(element(response, 0, "PKIStatusInfo"), "PKIStatusInfo")
            let code = try Int(derEncoded: element(status, 0, "PKIStatus"))
            guard code == 0 || code == 1 else {
                let words = status.dropFirst().first.flatMap { try? children($0, "") }?.compactMap {
                    try? String(ASN1UTF8String(derEncoded: $0))
                }
                throw Failure(
                    "the authority refused (status \(code)\(words.map { ": " + $0.joined(separator: "; ") } ?? ""))")
            }
            guard response.count > 1 else { throw Failure("the authority granted no token") }
            return Array(response[1].encodedBytes)
        } catch let failure as Failure {
            throw failure
        } catch {
            throw Failure("not a time-stamp reply: \(error)")
        }
    }

    /// Reads `token` and checks its signature: the signed attributes name a TSTInfo and hold its digest, and the
    /// certificate it names signed them with a key allowed to time-stamp. Whether that certificate chains to a trusted
    /// authority is ``verify(_:roots:)``'s question.
    public static func read(_ token: [UInt8]) throws -> Token {
        do {
            return try readChecked(token)
        } catch let failure as Failure {
            throw failure
        } catch {
            throw Failure("not a time-stamp token: \(error)")
        }
    }

    /// Reads `token` as ``read(_:)`` does, and checks that it vouches for `digest`.
    public static func read(_ token: [UInt8], vouchingFor digest: ContentHash) throws -> Token {
        let read = try read(token)
        guard read.digest == digest else { throw Failure("the token vouches for \(read.digest), not \(digest)") }
        return read
    }

    /// Whether the token's signer chains to one of `roots` at the time the token states, with no certificate beyond
    /// what the token carries.
    public static func verify(_ token: Token, roots: [Certificate]) async throws {
        // At the time the token states (RFC 3161 §4.3): a token stays good after its authority's certificate expires.
        var verifier = Verifier(rootCertificates: CertificateStore(roots)) {
            RFC5280Policy(fixedExpiryValidationTime: token.time)
            TimeStampingPolicy()
        }
        let result = await verifier.validate(leaf: token.signer, intermediates: CertificateStore(token.certificates))
        if case .couldNotValidate(let failures) = result {
            let reasons = failures.map { "\($0.policyFailureReason)" }
            throw Failure(
                "the signer (\(token.signer.subject)) does not chain to a trusted authority"
                    + (reasons.isEmpty ? "" : ": " + reasons.joined(separator: "; ")))
        }
    }

    /// The certificates of a PEM file (a CA bundle).
    public static func certificates(pem: String) throws -> [Certificate] {
        try PEMDocument.parseMultiple(pemString: pem).map { try Certificate(pemDocument: $0) }
    }

    // MARK: - Reading

    private static let signedDataOID: ASN1ObjectIdentifier = [1, 2, 840, 113549, 1, 7, 2]
    private static let tstInfoOID: ASN1ObjectIdentifier = [1, 2, 840, 113549, 1, 9, 16, 1, 4]
    private static let contentTypeOID: ASN1ObjectIdentifier = [1, 2, 840, 113549, 1, 9, 3]
    private static let messageDigestOID: ASN1ObjectIdentifier = [1, 2, 840, 113549, 1, 9, 4]
    private static let sha256OID: ASN1ObjectIdentifier = [2, 16, 840, 1, 101, 3, 4, 2, 1]

    private static func readChecked(_ bytes: [UInt8]) throws -> Token {
        let contentInfo = try children(DER.parse(bytes), "ContentInfo")
        guard try ASN1ObjectIdentifier(derEncoded: element(contentInfo, 0, "contentType")) == signedDataOID else {
            throw Failure("the token is not CMS signed data")
        }
        let signedData = try children(element(children(element(contentInfo, 1, "content"), "content"), 0, "SignedData"), "")
        // version, digestAlgorithms, encapContentInfo, [0] certificates, [1] crls, signerInfos
        let encapsulated = try children(element(signedData, 2, "encapContentInfo"), "encapContentInfo")
        guard try ASN1ObjectIdentifier(derEncoded: element(encapsulated, 0, "eContentType")) == tstInfoOID else {
            throw Failure("the token's content is not a TSTInfo")
        }
        let explicitContent = try children(element(encapsulated, 1, "eContent"), "eContent")
        let tstInfoBytes = try ASN1OctetString(derEncoded: element(explicitContent, 0, "eContent")).bytes
        var certificates: [Certificate] = []
        for node in signedData.dropFirst(3) where node.identifier == ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific)
        {
            certificates = try children(node, "certificates").map { try Certificate(derEncoded: Array($0.encodedBytes)) }
        }
        guard let signerInfos = signedData.last, signerInfos.identifier == .set,
            let signerInfo = try children(signerInfos, "signerInfos").first, try children(signerInfos, "").count == 1
        else { throw Failure("the token has no single signer") }
        let signer = try children(signerInfo, "SignerInfo")
        // version, sid, digestAlgorithm, [0] signedAttrs, signatureAlgorithm, signature
        guard signer.count >= 6, signer[3].identifier == ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific) else {
            throw Failure("the token's signer has no signed attributes")
        }
        let certificate = try signingCertificate(signer[1], among: certificates)
        let digestAlgorithm = try ASN1ObjectIdentifier(derEncoded: element(children(signer[2], "digestAlgorithm"), 0, ""))
        let signatureAlgorithm = try ASN1ObjectIdentifier(
            derEncoded: element(children(signer[4], "signatureAlgorithm"), 0, ""))
        let signature = try ASN1OctetString(derEncoded: signer[5]).bytes

        var contentType: ASN1ObjectIdentifier?
        var messageDigest: ArraySlice<UInt8>?
        for attribute in try children(signer[3], "signedAttrs") {
            let parts = try children(attribute, "Attribute")
            let type = try ASN1ObjectIdentifier(derEncoded: element(parts, 0, "attrType"))
            let value = try element(children(element(parts, 1, "attrValues"), "attrValues"), 0, "attrValue")
            if type == contentTypeOID { contentType = try ASN1ObjectIdentifier(derEncoded: value) }
            if type == messageDigestOID { messageDigest = try ASN1OctetString(derEncoded: value).bytes }
        }
        guard contentType == tstInfoOID else { throw Failure("the signed attributes do not name a TSTInfo") }
        guard let messageDigest, messageDigest.elementsEqual(try digest(tstInfoBytes, algorithm: digestAlgorithm)) else {
            throw Failure("the signed attributes do not hold the TSTInfo's digest")
        }
        // The signature is over the attributes' DER encoding as a SET (RFC 5652 §5.4), not as the [0] they travel in.
        var signedBytes = Array(signer[3].encodedBytes)
        signedBytes[0] = 0x31
        let algorithm = try Self.signatureAlgorithm(signatureAlgorithm, digest: digestAlgorithm)
        guard certificate.publicKey.isValidSignature(signature, for: signedBytes, signatureAlgorithm: algorithm) else {
            throw Failure("the token's signature does not verify with its signer's key")
        }
        guard let usage = try certificate.extensions.extendedKeyUsage, usage.contains(.timeStamping) else {
            throw Failure("the signer's certificate is not for time-stamping")
        }

        let info = try children(DER.parse(tstInfoBytes), "TSTInfo")
        // version, policy, messageImprint, serialNumber, genTime, accuracy?, ordering?, nonce?, [0] tsa?, [1] extensions?
        let imprint = try children(element(info, 2, "messageImprint"), "messageImprint")
        let hashAlgorithm = try ASN1ObjectIdentifier(derEncoded: element(children(element(imprint, 0, ""), ""), 0, ""))
        guard hashAlgorithm == sha256OID else { throw Failure("the token's imprint is not SHA-256") }
        let hashed = try ASN1OctetString(derEncoded: element(imprint, 1, "hashedMessage")).bytes
        guard let imprinted = ContentHash(hex: Data(hashed).hexString) else {
            throw Failure("the token's imprint is not a SHA-256 digest")
        }
        let serial = try ArraySlice<UInt8>(derEncoded: element(info, 3, "serialNumber"))
        let time = try date(GeneralizedTime(derEncoded: element(info, 4, "genTime")))
        let nonce = try info.dropFirst(5).first { $0.identifier == .integer }.map { try ArraySlice<UInt8>(derEncoded: $0) }
        return Token(
            digest: imprinted, time: time, serial: Data(serial).hexString, nonce: nonce.map { Array(trimmed($0)) },
            signer: certificate, certificates: certificates)
    }

    /// The certificate a SignerInfo's `sid` names: by issuer and serial number, or by subject key identifier.
    private static func signingCertificate(_ sid: ASN1Node, among certificates: [Certificate]) throws -> Certificate {
        let match: Certificate?
        if sid.identifier == .sequence {
            let parts = try children(sid, "IssuerAndSerialNumber")
            let issuer = try DistinguishedName(derEncoded: element(parts, 0, "issuer"))
            let serial = try ArraySlice<UInt8>(derEncoded: element(parts, 1, "serialNumber"))
            match = certificates.first { $0.issuer == issuer && trimmed($0.serialNumber.bytes).elementsEqual(trimmed(serial)) }
        } else {
            guard case .primitive(let identifier) = sid.content else { throw Failure("the signer's id is malformed") }
            match = certificates.first { (try? $0.extensions.subjectKeyIdentifier?.keyIdentifier) == identifier }
        }
        guard let match else { throw Failure("the token does not carry its signer's certificate") }
        return match
    }

    private static func digest(_ bytes: ArraySlice<UInt8>, algorithm: ASN1ObjectIdentifier) throws -> [UInt8] {
        switch algorithm {
        case sha256OID: Array(SHA256.hash(data: bytes))
        case [2, 16, 840, 1, 101, 3, 4, 2, 2]: Array(SHA384.hash(data: bytes))
        case [2, 16, 840, 1, 101, 3, 4, 2, 3]: Array(SHA512.hash(data: bytes))
        default: throw Failure("the token's digest algorithm \(algorithm) is not supported")
        }
    }

    /// The signature algorithm a SignerInfo names, which may be the key's algorithm alone (RSA) with the digest apart.
    private static func signatureAlgorithm(
        _ algorithm: ASN1ObjectIdentifier, digest: ASN1ObjectIdentifier
    ) throws -> Certificate.SignatureAlgorithm {
        let rsa: ASN1ObjectIdentifier = [1, 2, 840, 113549, 1, 1, 1]
        switch (algorithm, digest) {
        case (rsa, sha256OID), ([1, 2, 840, 113549, 1, 1, 11], _): return .sha256WithRSAEncryption
        case (rsa, [2, 16, 840, 1, 101, 3, 4, 2, 2]), ([1, 2, 840, 113549, 1, 1, 12], _): return .sha384WithRSAEncryption
        case (rsa, [2, 16, 840, 1, 101, 3, 4, 2, 3]), ([1, 2, 840, 113549, 1, 1, 13], _): return .sha512WithRSAEncryption
        case ([1, 2, 840, 10045, 4, 3, 2], _): return .ecdsaWithSHA256
        case ([1, 2, 840, 10045, 4, 3, 3], _): return .ecdsaWithSHA384
        case ([1, 2, 840, 10045, 4, 3, 4], _): return .ecdsaWithSHA512
        case ([1, 3, 101, 112], _): return .ed25519
        default: throw Failure("the token's signature algorithm \(algorithm) is not supported")
        }
    }

    private static func children(_ node: ASN1Node, _ what: String) throws -> [ASN1Node] {
        guard case .constructed(let nodes) = node.content else { throw Failure("\(what) is not constructed") }
        return Array(nodes)
    }

    private static func element(_ nodes: [ASN1Node], _ index: Int, _ what: String) throws -> ASN1Node {
        guard nodes.indices.contains(index) else { throw Failure("\(what) is missing") }
        return nodes[index]
    }

    private static func date(_ time: GeneralizedTime) throws -> Date {
        var components = DateComponents(
            timeZone: .gmt, year: time.year, month: time.month, day: time.day, hour: time.hours, minute: time.minutes,
            second: time.seconds)
        components.calendar = Calendar(identifier: .gregorian)
        guard let date = components.date else { throw Failure("the token's time is not a date") }
        return date.addingTimeInterval(time.fractionalSeconds)
    }

    /// An integer's bytes without leading zero bytes.
    private static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        bytes.drop { $0 == 0 }
    }

    // MARK: - Writing

    private static func tlv(_ tag: UInt8, _ content: [UInt8]) -> [UInt8] {
        var length: [UInt8] = []
        if content.count < 128 {
            length = [UInt8(content.count)]
        } else {
            var count = content.count
            while count > 0 {
                length.insert(UInt8(count & 0xFF), at: 0)
                count >>= 8
            }
            length.insert(0x80 | UInt8(length.count), at: 0)
        }
        return [tag] + length + content
    }

    /// `bytes` as the content of a DER INTEGER that is positive.
    private static func positiveInteger(_ bytes: [UInt8]) -> [UInt8] {
        let trimmed = Array(bytes.drop { $0 == 0 })
        guard let first = trimmed.first else { return [0] }
        return first >= 0x80 ? [0] + trimmed : trimmed
    }
}

/// The policy a time-stamping authority's certificate meets (RFC 3161 §2.3): an extended key usage of time-stamping
/// and nothing else; it understands that extension, which such certificates mark critical.
struct TimeStampingPolicy: VerifierPolicy {
    let verifyingCriticalExtensions: [ASN1ObjectIdentifier] = [.X509ExtensionID.extendedKeyUsage]

    func chainMeetsPolicyRequirements(chain: UnverifiedCertificateChain) async -> PolicyEvaluationResult {
        guard let usage = try? chain.leaf.extensions.extendedKeyUsage, usage.contains(.timeStamping) else {
            return .failsToMeetPolicy(reason: "the signer's certificate is not for time-stamping")
        }
        return .meetsPolicy
    }
}
