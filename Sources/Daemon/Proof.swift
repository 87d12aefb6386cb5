import Archive
import Foundation
import NewsCore

/// An evidence bundle for one article: a ZIP file that anyone can check with `sha256sum` and `openssl` alone, without
/// newsd. It holds every capture's raw page, its record as JSON and as the canonical bytes its id hashes and its node
/// signed, the signature, each signing node's public key (PEM), every trusted timestamp that covers the capture (the
/// token and the capture's path to the stamped root), the authorities' CA certificates where configured, the texts
/// and the extractions that made them, and a README whose shell block runs every check.
struct ProofBundle {
    private var files = ZipWriter()
    private var checks: [String] = []
    private var claims: [String] = []

    /// The bundle for the article `reference` (its URL or id), and a file name for it.
    static func make(_ reference: String, archive: Archive, authorities: [TSAConfig]) throws -> (name: String, data: Data) {
        var sent = Set<String>()
        let lines = try archive.exportLines(article: reference, nodesSent: &sent)
        var bundle = ProofBundle()
        var pages: [ContentHash: Data] = [:]
        var article: ArticleRecord?
        var captures = 0
        var texts = 0
        var capturesByID: [ContentHash: Int] = [:]
        var textsByID: [ContentHash: TextRecord] = [:]
        var authorityFiles: [String: String] = [:]
        for line in lines {
            switch line {
            case .blob(let hash, let data): pages[hash] = data
            case .record(.node(let node)): try bundle.add(node: node)
            case .record(.article(let record)):
                article = record
                try bundle.files.add("article.json", Self.json(record))
            case .record(.capture(let capture)):
                captures += 1
                capturesByID[capture.id] = captures
                try bundle.add(capture: capture, number: captures, page: pages[capture.blobHash])
                for (index, timestamp) in try archive.timestamps(of: capture.id).enumerated() {
                    let caFile = try authorityFiles[timestamp.tsa] ?? bundle.add(authority: timestamp.tsa, among: authorities)
                    authorityFiles[timestamp.tsa] = caFile
                    try bundle.add(timestamp, of: capture, number: captures, index: index + 1, caFile: caFile)
                }
            case .record(.text(let text)): textsByID[text.id] = text
            case .record(.extraction(let extraction)):
                guard let text = textsByID[extraction.textID] else { continue }
                texts += 1
                try bundle.add(text: text, extraction: extraction, number: texts, capture: capturesByID[extraction.captureID])
            default: continue
            }
        }
        guard let article else { throw DaemonError("no article \(reference)") }
        try bundle.files.add("README.md", Data(bundle.readme(article, captures: captures, texts: texts).utf8))
        return ("proof-\(article.id.hex.prefix(12)).zip", try bundle.files.finish())
    }

    private mutating func add(node: NodeRecord) throws {
        guard let spki = node.subjectPublicKeyInfo else { return }
        let pem = "-----BEGIN PUBLIC KEY-----\n\(spki.base64EncodedString())\n-----END PUBLIC KEY-----\n"
        let file = "nodes/\(node.id.hex).pem"
        try files.add(file, Data(pem.utf8))
        checks.append(
            """
            # Node \(node.id.hex.prefix(16)): its id is the SHA-256 of its raw public key.
            test "$(openssl pkey -pubin -in \(file) -outform DER | tail -c 32 | sha256sum | cut -c1-64)" = \(node.id.hex)
            """)
    }

    private mutating func add(capture: CaptureRecord, number: Int, page: Data?) throws {
        let folder = "captures/\(number)"
        try files.add("\(folder)/capture.json", Self.json(capture))
        try files.add("\(folder)/capture.canonical", capture.canonicalEncoding.data)
        var check = """
            # Capture \(number): \(capture.url) at \(capture.fetchedAt), HTTP \(capture.status), by node \(capture.nodeID.prefix(16)).
            # Its id is the SHA-256 of its canonical encoding, which names the page's SHA-256.
            echo "\(capture.id.hex)  \(folder)/capture.canonical" | sha256sum -c
            grep -q '"blobHash":"\(capture.blobHash.hex)"' \(folder)/capture.canonical
            """
        if let page {
            try files.add("\(folder)/page", page)
            check += "\necho \"\(capture.blobHash.hex)  \(folder)/page\" | sha256sum -c"
        }
        check += try addSignature(of: capture, as: "\(folder)/capture")
        checks.append(check)
        claims.append(
            "- `\(folder)/`: \(capture.url), captured \(capture.fetchedAt) (HTTP \(capture.status), \(capture.size) bytes)")
    }

    /// Adds the CA certificates configured for the authority at `url`, if any; returns their file in the bundle.
    private mutating func add(authority url: String, among authorities: [TSAConfig]) throws -> String {
        guard let caFile = authorities.first(where: { $0.url.absoluteString == url })?.caFile,
            let certificates = try? Data(contentsOf: caFile)
        else { return "" }
        let file = "authorities/\(zipSafe(url)).pem"
        try files.add(file, certificates)
        return file
    }

    private mutating func add(
        _ timestamp: TimestampRecord, of capture: CaptureRecord, number: Int, index: Int, caFile: String
    ) throws {
        guard let proof = timestamp.proof(of: capture.id), let token = timestamp.tokenBytes else { return }
        let base = "captures/\(number)/timestamp-\(index)"
        let sides = MerkleTree.sidesOfPath(to: proof.index, count: timestamp.captures.count)
        let path = zip(proof.path, sides).map { "\($1 ? "left" : "right") \($0.hex)\n" }.joined()
        try files.add("\(base).tsr", token)
        try files.add("\(base).path", Data(path.utf8))
        try files.add("\(base).json", Self.json(timestamp))
        var check = """
            # Capture \(number) was a leaf of the tree whose root \(timestamp.tsa) stamped at \(timestamp.time):
            # climb from its leaf (0x00 and its id) through the siblings in \(base).path (0x01, left, right).
            h=$( { printf '\\x00'; bytes \(capture.id.hex); } | sha256sum | cut -c1-64 )
            while read -r side sibling; do
              if [ "$side" = left ]; then h=$( { printf '\\x01'; bytes "$sibling"; bytes "$h"; } | sha256sum | cut -c1-64 )
              else h=$( { printf '\\x01'; bytes "$h"; bytes "$sibling"; } | sha256sum | cut -c1-64 ); fi
            done < \(base).path
            test "$h" = \(timestamp.root.hex)
            """
        if caFile.isEmpty {
            check += "\n# No CA file was configured for this authority: give its CA certificate as -CAfile."
            check += "\nopenssl ts -reply -in \(base).tsr -token_in -text | grep -q \"Message data\""
        } else {
            check += "\nopenssl ts -verify -digest \(timestamp.root.hex) -in \(base).tsr -token_in -CAfile \(caFile)"
        }
        checks.append(check)
        claims.append("- `\(base).tsr`: a time-stamp token of \(timestamp.tsa) for capture \(number), \(timestamp.time)")
    }

    private mutating func add(text: TextRecord, extraction: ExtractionRecord, number: Int, capture: Int?) throws {
        let folder = "texts/\(number)"
        try files.add("\(folder)/text.json", Self.json(text))
        try files.add("\(folder)/text.canonical", text.canonicalEncoding.data)
        try files.add("\(folder)/text.txt", Data(text.body.utf8))
        try files.add("\(folder)/extraction.json", Self.json(extraction))
        try files.add("\(folder)/extraction.canonical", extraction.canonicalEncoding.data)
        var check = """
            # Text \(number)\(capture.map { ", made of capture \($0)" } ?? "") by \(extraction.extractor).
            echo "\(text.id.hex)  \(folder)/text.canonical" | sha256sum -c
            echo "\(extraction.id.hex)  \(folder)/extraction.canonical" | sha256sum -c
            grep -q '"captureID":"\(extraction.captureID.hex)"' \(folder)/extraction.canonical
            grep -q '"textID":"\(text.id.hex)"' \(folder)/extraction.canonical
            """
        if !extraction.nodeID.isEmpty { check += try addSignature(of: extraction, as: "\(folder)/extraction") }
        checks.append(check)
        claims.append("- `\(folder)/text.txt`: the cleaned text \(text.title.map { "\"\($0)\"" } ?? "")")
    }

    /// Adds `record`'s signature as `base.sig` (its canonical encoding is `base.canonical`); returns the line that
    /// checks it, or nothing for a record without one.
    private mutating func addSignature(of record: some SignedRecord, as base: String) throws -> String {
        guard let signature = record.signature.flatMap({ Data(hex: $0) }) else { return "" }
        try files.add("\(base).sig", signature)
        return
            "\nopenssl pkeyutl -verify -pubin -inkey nodes/\(record.nodeID).pem -rawin -in \(base).canonical -sigfile \(base).sig"
    }

    private func readme(_ article: ArticleRecord, captures: Int, texts: Int) -> String {
        """
        # Evidence for \(article.url)

        Made by newsd \(newsdVersion) on \(Canonical.timestamp(Date())): \(captures) captures of this page and \(texts) \
        texts made of them, each with what proves it.

        \(claims.joined(separator: "\n"))

        Every record's id is the SHA-256 of its canonical encoding (`*.canonical`: JSON, keys sorted, no
        whitespace; the `*.json` beside it is the same record, readable). A node signs that encoding with its
        Ed25519 key (`nodes/ID.pem`, whose SHA-256 of the raw key is the node id). A trusted timestamp
        (RFC 3161) covers a batch of captures: the authority signed the root of a Merkle tree (RFC 6962: a leaf
        is SHA-256 of 0x00 and a capture id's 32 bytes, a node SHA-256 of 0x01 and its two children); the
        `.path` file lists the siblings from the capture's leaf up.

        ## Check it

        In this folder, with bash, `sha256sum` and `openssl` (1.1.1 or later); any failed check stops the
        script with an error:

        ```sh
        set -euo pipefail
        bytes() { printf "$(printf '%s' "$1" | sed 's/../\\\\x&/g')"; }

        \(checks.joined(separator: "\n\n"))

        echo "every check passed"
        ```
        """
    }

    private static func json(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value) + Data("\n".utf8)
    }
}

/// `url` as a file name: letters, digits, `.` and `-`, the rest as `_`.
private func zipSafe(_ url: String) -> String {
    String(url.unicodeScalars.map { CharacterSet.alphanumerics.contains($0) || $0 == "." || $0 == "-" ? Character($0) : "_" })
}
