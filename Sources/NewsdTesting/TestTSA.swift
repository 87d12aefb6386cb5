public import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization

/// A real RFC 3161 time-stamping authority on 127.0.0.1: OpenSSL's `openssl ts -reply` behind a ``TestHTTPServer``,
/// signing with a certificate of its own test CA (made fresh in a directory of its own).
///
/// ```swift
/// let tsa = try await TestTSA.start()
/// defer { Task { await tsa.stop() } }
/// // [[tsa]] url = tsa.url, ca_file = tsa.caFile
/// ```
public final class TestTSA: Sendable {
    /// Where the CA's and the authority's keys and certificates are.
    public let directory: URL
    private let server: TestHTTPServer
    private let state = Mutex((up: true, granted: 0))

    /// The authority's URL.
    public var url: URL { server.url("/tsa") }
    /// The test CA's certificate (PEM), the trust anchor for the authority's tokens.
    public var caFile: URL { directory.appendingPathComponent("ca.pem") }
    /// The authority's own certificate (PEM).
    public var signerFile: URL { directory.appendingPathComponent("tsa.pem") }
    /// How many tokens it has granted.
    public var granted: Int { state.withLock { $0.granted } }

    /// Whether it answers: while down it refuses with 503, as an unreachable or overloaded authority would.
    public func setUp(_ up: Bool) { state.withLock { $0.up = up } }

    private init(directory: URL, server: TestHTTPServer) {
        self.directory = directory
        self.server = server
    }

    /// Makes a CA and an authority certificate (`ec`: P-256 keys; RSA 2048 otherwise) and starts answering.
    public static func start(ec: Bool = false) async throws -> TestTSA {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("newsd-tsa-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        do {
            try await makeAuthority(in: directory, ec: ec)
        } catch {
            try? FileManager.default.removeItem(at: directory)
            throw error
        }
        let tsa = TestTSA(directory: directory, server: try await TestHTTPServer.start())
        tsa.server.route("/tsa") { request in await tsa.answer(request) }
        return tsa
    }

    /// Stops the server and removes the directory.
    public func stop() async {
        await server.stop()
        try? FileManager.default.removeItem(at: directory)
    }

    private func answer(_ request: Request) async -> Response? {
        guard state.withLock({ $0.up }) else { return Response(status: .serviceUnavailable) }
        guard request.headers[.contentType] == "application/timestamp-query",
            let query = try? await request.body.collect(upTo: 1 << 16)
        else { return Response(status: .badRequest) }
        let name = UUID().uuidString
        let queryFile = directory.appendingPathComponent("\(name).tsq")
        let replyFile = directory.appendingPathComponent("\(name).tsr")
        defer {
            try? FileManager.default.removeItem(at: queryFile)
            try? FileManager.default.removeItem(at: replyFile)
        }
        guard (try? Data(buffer: query).write(to: queryFile)) != nil,
            let result = try? await runCommand(
                URL(fileURLWithPath: "/usr/bin/openssl"),
                ["ts", "-reply", "-config", "tsa.cnf", "-queryfile", queryFile.path, "-out", replyFile.path],
                directory: directory),
            result.status == 0, let reply = try? Data(contentsOf: replyFile)
        else { return Response(status: .internalServerError) }
        state.withLock { $0.granted += 1 }
        return Response(
            status: .ok, headers: [.contentType: "application/timestamp-reply"],
            body: .init(byteBuffer: ByteBuffer(bytes: reply)))
    }

    private static func makeAuthority(in directory: URL, ec: Bool) async throws {
        let key = ec ? ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"] : ["-newkey", "rsa:2048"]
        try """
        [tsa]
        default_tsa = tsa_config
        [tsa_config]
        dir = .
        serial = ./serial
        crypto_device = builtin
        signer_cert = ./tsa.pem
        certs = ./ca.pem
        signer_key = ./tsa.key
        signer_digest = sha256
        default_policy = 1.2.3.4.1
        digests = sha256
        accuracy = secs:1
        ordering = yes
        tsa_name = yes
        ess_cert_id_chain = no
        ess_cert_id_alg = sha256
        [signer]
        basicConstraints = critical, CA:FALSE
        keyUsage = critical, digitalSignature
        extendedKeyUsage = critical, timeStamping
        subjectKeyIdentifier = hash
        authorityKeyIdentifier = keyid
        """.write(to: directory.appendingPathComponent("tsa.cnf"), atomically: true, encoding: .utf8)
        try "01\n".write(to: directory.appendingPathComponent("serial"), atomically: true, encoding: .utf8)
        let steps: [[String]] = [
            ["req", "-x509"] + key + [
                "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "3650", "-subj", "/CN=newsd test CA",
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            ],
            ["req"] + key + ["-nodes", "-keyout", "tsa.key", "-out", "tsa.csr", "-subj", "/CN=newsd test TSA"],
            [
                "x509", "-req", "-in", "tsa.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "tsa.pem",
                "-days", "3650", "-extfile", "tsa.cnf", "-extensions", "signer",
            ],
        ]
        for arguments in steps {
            let result = try await runCommand(URL(fileURLWithPath: "/usr/bin/openssl"), arguments, directory: directory)
            guard result.status == 0 else {
                throw CocoaError(
                    .fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "openssl \(arguments[0]): \(result.stderr)"])
            }
        }
    }
}
