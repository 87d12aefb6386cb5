import Archive
import Crypto
import Foundation
import NewsCore

/// A WACZ 1.1.1 file (Web Archive Collection Zipped) of the captures a selection picks, as Webrecorder's tools read it:
/// `archive/data.warc.gz` (each record a gzip member of its own), `indexes/index.cdx` (CDXJ, sorted by SURT key and
/// time, with each response's offset and length in the WARC), `pages/pages.jsonl`, `datapackage.json` (every file's
/// SHA-256 and size) and `datapackage-digest.json` (the SHA-256 of `datapackage.json`, signed with the node's Ed25519
/// key). Written in `directory` and left there as `name`; the WARC is made beside it first.
enum WACZExport {
    /// Captures written, and the file.
    struct Written {
        var captures: Int
        var file: URL
    }

    static func write(
        _ selection: CaptureSelection, archive: Archive, key: NodeKey, title: String, in directory: URL, name: String
    ) throws -> Written {
        let warcFile = directory.appendingPathComponent(name + ".warc.gz")
        defer { try? FileManager.default.removeItem(at: warcFile) }
        guard FileManager.default.createFile(atPath: warcFile.path, contents: nil) else {
            throw DaemonError("cannot write in \(directory.path)")
        }
        let warc = try FileHandle(forWritingTo: warcFile)
        var offset = 0
        // Hashed as it is written, for datapackage.json: the file is not read back for it.
        var warcDigest = SHA256()
        func append(_ record: Data) throws -> (offset: Int, length: Int) {
            let member = WARCWriter.gzipMember(record)
            try warc.write(contentsOf: member)
            warcDigest.update(data: member)
            defer { offset += member.count }
            return (offset, member.count)
        }
        let created = Date()
        _ = try append(WARCWriter.header(software: "newsd/\(newsdVersion)", date: created))
        var index: [(key: String, line: String)] = []
        var pages: [String] = [Self.json(["format": "json-pages-1.0", "id": "pages", "title": title])]
        var after = ""
        var captures = 0
        while true {
            let batch = try archive.captures(selection, after: after)
            guard let last = batch.last else { break }
            for capture in batch {
                guard let body = try archive.blob(capture.blobHash) else { continue }
                var place = (offset: 0, length: 0)
                // The response (or resource) record is the one a replayer looks up: the last of a capture's records.
                for record in WARCWriter.records(for: capture, body: body) { place = try append(record) }
                let url = capture.finalURL
                let key = SURT.key(url)
                let time = capture.fetchedAt.filter(\.isNumber).prefix(14)
                var fields: [String: Any] = [
                    "url": url, "status": String(capture.status), "digest": WARCWriter.payloadDigest(capture),
                    "length": String(place.length), "offset": String(place.offset), "filename": "data.warc.gz",
                ]
                if let mime = capture.contentType?.split(separator: ";").first {
                    fields["mime"] = mime.trimmingCharacters(in: .whitespaces).lowercased()
                }
                index.append((key + " " + time, "\(key) \(time) \(Self.json(fields))"))
                pages.append(
                    Self.json([
                        "id": String(capture.id.hex.prefix(32)), "url": url,
                        "ts": Canonical.timestamp(Canonical.date(capture.fetchedAt) ?? created),
                    ]))
                captures += 1
            }
            after = last.id.hex
        }
        try warc.close()
        let cdx = Data(index.sorted { $0.key < $1.key }.map { $0.line + "\n" }.joined().utf8)
        let pageList = Data(pages.map { $0 + "\n" }.joined().utf8)

        let file = directory.appendingPathComponent(name)
        guard FileManager.default.createFile(atPath: file.path, contents: nil) else {
            throw DaemonError("cannot write in \(directory.path)")
        }
        let output = try FileHandle(forWritingTo: file)
        defer { try? output.close() }
        var zip = ZipWriter(writingTo: output)
        var resources: [[String: Any]] = []
        func resource(_ path: String, sha256: String, bytes: Int) {
            resources.append([
                "name": (path as NSString).lastPathComponent, "path": path, "hash": "sha256:" + sha256, "bytes": bytes,
            ])
        }
        try zip.add("archive/data.warc.gz", copying: warcFile)
        resource("archive/data.warc.gz", sha256: warcDigest.finalize().hexString, bytes: offset)
        for (path, contents) in [("indexes/index.cdx", cdx), ("pages/pages.jsonl", pageList)] {
            try zip.add(path, contents)
            resource(path, sha256: SHA256.hash(data: contents).hexString, bytes: contents.count)
        }
        // The creation time to the second, as WACZ tools write it; the signature below repeats it.
        let stamp = String(Canonical.timestamp(created).prefix(19)) + "Z"
        let package = try JSONSerialization.data(
            withJSONObject: [
                "profile": "data-package", "wacz_version": "1.1.1", "title": title, "created": stamp,
                "software": "newsd \(newsdVersion)", "resources": resources,
            ] as [String: Any], options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        try zip.add("datapackage.json", package)
        let digest = "sha256:" + SHA256.hash(data: package).hexString
        let signature = try key.signature(for: Data(digest.utf8))
        let signed = try JSONSerialization.data(
            withJSONObject: [
                "path": "datapackage.json", "hash": digest,
                "signedData": [
                    "hash": digest, "created": stamp, "software": "newsd \(newsdVersion)",
                    "publicKey": key.record.subjectPublicKeyInfo?.base64EncodedString() ?? "",
                    "signature": signature.base64EncodedString(),
                    "algorithm": "Ed25519", "nodeID": key.record.id.hex,
                ],
            ] as [String: Any], options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        try zip.add("datapackage-digest.json", signed)
        _ = try zip.finish()
        return Written(captures: captures, file: file)
    }

    private static func json(_ object: [String: Any]) -> String {
        String(
            decoding: (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
                ?? Data(), as: UTF8.self)
    }
}

/// The Sort-friendly URI Reordering Transform that CDXJ indexes key their lines by, as Python's `surt` (which pywb and
/// cdxj-indexer use) writes it: lower case, the host's labels reversed and joined by commas (a leading `www` dropped),
/// a port only when it is not the scheme's own, `)`, then the path and the query with its parameters sorted; no scheme,
/// no fragment.
enum SURT {
    static func key(_ address: String) -> String {
        guard let components = URLComponents(string: address), var host = components.host?.lowercased() else {
            return address.lowercased()
        }
        host = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        var labels = host.split(separator: ".").map(String.init)
        if !host.contains(":"), let first = labels.first, first.hasPrefix("www"), first.dropFirst(3).allSatisfy(\.isNumber),
            labels.count > 2
        {
            labels.removeFirst()
        }
        var key = host.contains(":") ? host : labels.reversed().joined(separator: ",")
        let scheme = components.scheme?.lowercased()
        if let port = components.port, !(scheme == "http" && port == 80), !(scheme == "https" && port == 443) {
            key += ":\(port)"
        }
        key += ")" + (components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath.lowercased())
        if let query = components.percentEncodedQuery, !query.isEmpty {
            key +=
                "?" + query.lowercased().split(separator: "&", omittingEmptySubsequences: false).sorted().joined(separator: "&")
        }
        return key
    }
}
