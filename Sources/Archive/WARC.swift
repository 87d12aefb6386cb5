import CZlib
import Crypto
public import Foundation
import GRDB
public import NewsCore

/// Writes captures as WARC 1.1 records: for each HTTP capture a `request` and a `response` (the
/// response rebuilt from the stored status, headers and body), for a `file://` capture a `resource`.
/// `WARC-Payload-Digest` is the capture's SHA-256, `WARC-Block-Digest` that of the whole block.
public enum WARCWriter {
    /// The `warcinfo` record that opens a file.
    public static func header(software: String, date: Date) -> Data {
        let fields =
            "software: \(software)\r\nformat: WARC File Format 1.1\r\nconformsTo: https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/\r\n"
        return record(
            type: "warcinfo", uri: nil, date: Canonical.timestamp(date), contentType: "application/warc-fields",
            block: Data(fields.utf8),
            extra: [])
    }

    /// A capture's `WARC-Payload-Digest`: its page's SHA-256, in base 32.
    public static func payloadDigest(_ capture: CaptureRecord) -> String {
        "sha256:" + base32(capture.blobHash.digest)
    }

    /// The records of one capture whose raw body is `body`, in file order.
    public static func records(for capture: CaptureRecord, body: Data) -> [Data] {
        let date = capture.fetchedAt
        let payloadDigest = payloadDigest(capture)
        guard let url = URL(string: capture.url), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https"
        else {
            return [
                record(
                    type: "resource", uri: capture.url, date: date,
                    contentType: capture.contentType ?? "application/octet-stream",
                    block: body,
                    extra: [("WARC-Payload-Digest", payloadDigest)])
            ]
        }
        var head = "HTTP/1.1 \(capture.status) \(reason(capture.status))\r\n"
        if let type = capture.contentType { head += "Content-Type: \(type)\r\n" }
        if let etag = capture.etag { head += "ETag: \(etag)\r\n" }
        if let modified = capture.lastModified { head += "Last-Modified: \(modified)\r\n" }
        head += "Content-Length: \(body.count)\r\n\r\n"
        let responseID = recordID(capture.id.hex + "/response")
        let response = record(
            type: "response", uri: capture.finalURL, date: date, contentType: "application/http;msgtype=response",
            block: Data(head.utf8) + body,
            extra: [
                ("WARC-Record-ID", responseID), ("WARC-Payload-Digest", payloadDigest),
                ("WARC-Concurrent-To", recordID(capture.id.hex + "/request")),
            ])
        let target = URL(string: capture.finalURL) ?? url
        var path = target.path.isEmpty ? "/" : target.path
        if let query = target.query { path += "?" + query }
        let request = "GET \(path) HTTP/1.1\r\nHost: \(target.host ?? "")\r\n\r\n"
        return [
            record(
                type: "request", uri: capture.finalURL, date: date, contentType: "application/http;msgtype=request",
                block: Data(request.utf8),
                extra: [("WARC-Record-ID", recordID(capture.id.hex + "/request")), ("WARC-Concurrent-To", responseID)]),
            response,
        ]
    }

    /// `record` as one gzip member: a `.warc.gz` file is its records each compressed on its own, so that a reader can
    /// seek to any of them.
    public static func gzipMember(_ record: Data) -> Data {
        var stream = z_stream()
        guard newsd_deflate_init_gzip(&stream, 6) == Z_OK else { preconditionFailure("zlib cannot start a gzip stream") }
        defer { deflateEnd(&stream) }
        var out = Data(count: Int(deflateBound(&stream, uLong(record.count))) + 32)
        let written = record.withUnsafeBytes { input in
            out.withUnsafeMutableBytes { output in
                stream.next_in = UnsafeMutablePointer(mutating: input.bindMemory(to: Bytef.self).baseAddress)
                stream.avail_in = uInt(input.count)
                stream.next_out = output.bindMemory(to: Bytef.self).baseAddress
                stream.avail_out = uInt(output.count)
                let result = deflate(&stream, Z_FINISH)
                precondition(result == Z_STREAM_END, "zlib could not finish within its own bound")
                return output.count - Int(stream.avail_out)
            }
        }
        out.count = written
        return out
    }

    private static func record(
        type: String, uri: String?, date: String, contentType: String, block: Data, extra: [(String, String)]
    ) -> Data {
        var fields: [(String, String)] = [("WARC-Type", type)]
        if !extra.contains(where: { $0.0 == "WARC-Record-ID" }) {
            fields.append(("WARC-Record-ID", recordID(ContentHash(of: block).hex + type + (uri ?? ""))))
        }
        fields.append(("WARC-Date", date))
        if let uri { fields.append(("WARC-Target-URI", uri)) }
        fields += extra
        fields.append(("WARC-Block-Digest", "sha256:" + base32(Data(SHA256.hash(data: block)))))
        fields.append(("Content-Type", contentType))
        fields.append(("Content-Length", String(block.count)))
        let head = "WARC/1.1\r\n" + fields.map { "\($0.0): \($0.1)\r\n" }.joined() + "\r\n"
        return Data(head.utf8) + block + Data("\r\n\r\n".utf8)
    }

    /// A stable `urn:uuid:` made from `seed`, so the same capture always gets the same record id.
    private static func recordID(_ seed: String) -> String {
        let bytes = Array(ContentHash(ofText: seed).hex.utf8.prefix(32))
        let hex = String(decoding: bytes, as: UTF8.self)
        let parts = [
            hex.prefix(8), hex.dropFirst(8).prefix(4), "5" + hex.dropFirst(13).prefix(3), "8" + hex.dropFirst(17).prefix(3),
            hex.dropFirst(20).prefix(12),
        ]
        return "<urn:uuid:\(parts.joined(separator: "-"))>"
    }

    private static func base32(_ data: Data) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        var out = ""
        var buffer = 0
        var bits = 0
        for byte in data {
            buffer = buffer << 8 | Int(byte)
            bits += 8
            while bits >= 5 {
                out.append(alphabet[(buffer >> (bits - 5)) & 31])
                bits -= 5
            }
        }
        if bits > 0 { out.append(alphabet[(buffer << (5 - bits)) & 31]) }
        while out.count % 8 != 0 { out.append("=") }
        return out
    }

    private static func reason(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 203: "Non-Authoritative Information"
        default: "Status"
        }
    }
}

extension Archive {
    /// The captures of article pages that `selection` picks, after the capture id `after`, in id order.
    public func captures(_ selection: CaptureSelection, after: String = "", limit: Int = 200) throws -> [CaptureRecord] {
        let (filters, filterArguments) = Self.captureFilters(feed: selection.feed, since: selection.since, until: selection.until)
        var conditions = ["capture.id > ?", "capture.articleID IS NOT NULL"] + filters
        var arguments: [any DatabaseValueConvertible] = [after] + filterArguments
        for (table, id) in [("story", selection.story), ("event", selection.event)] {
            guard let id else { continue }
            conditions.append(
                """
                capture.articleID IN (SELECT c.articleID FROM \(table)_member m JOIN extraction e ON e.textID = m.textID
                                      JOIN capture c ON c.id = e.captureID WHERE m.\(table)ID LIKE ? || '%')
                """)
            arguments.append(id)
        }
        if let articles = selection.articles {
            conditions.append("capture.articleID IN (\(Array(repeating: "?", count: articles.count).joined(separator: ", ")))")
            arguments += articles.map { $0.lowercased() as any DatabaseValueConvertible }
            if articles.isEmpty { conditions.append("0") }
        }
        arguments.append(limit)
        return try pool.read { db in
            try CaptureRecord.fetchAll(
                db,
                sql: "SELECT capture.* FROM capture WHERE \(conditions.joined(separator: " AND ")) ORDER BY capture.id LIMIT ?",
                arguments: StatementArguments(arguments))
        }
    }
}
