import Archive
import Extraction
import Foundation
import FuzzDriver
import NewsCore
import Sync

// Built with `-D FUZZING -sanitize=fuzzer` (see fuzz/run), this is a libFuzzer target for what the sync server does
// with a request from outside: the gate's check of its headers, and a push body stored into a real archive, which must
// still verify after any push it took. Built
// normally, it replays inputs given as files, or writes seed inputs with `--seeds DIRECTORY`.
//
// An input is a header block ("name: value" lines), a NUL byte, and a body.

/// The node that pushes: allowed by the gate, its key known, so that well-formed inputs get past the checks.
private let pusherKey = (try? NodeKey(rawRepresentation: Data(repeating: 7, count: 32)))!
private let pusher = PeerConfig(
    name: "fuzz", url: URL(string: "http://127.0.0.1:9")!, node: pusherKey.record.id.hex)
private let serverKey = (try? NodeKey(rawRepresentation: Data(repeating: 9, count: 32)))!
private let gate = SyncGate(key: serverKey, peers: [pusher])
/// Makes the texts a push leaves out, as a node does: the extractor run on the capture's page.
private let texts = TextMaker(extractor: Extractor.version) { capture, page, template in
    Extractor.extract(page, url: URL(string: capture.finalURL), template: template).records(capture: capture.id, node: "")?
        .text
}
/// The archive's file, removed with its WAL files when the fuzzer exits (libFuzzer ends a timed run with `exit`).
private let archivePath = NSTemporaryDirectory() + "newsd-sync-fuzz-\(getpid()).sqlite"

/// A real archive on a temporary file, made once: pushes that hold up are stored in it.
private let archive: Archive = {
    removeArchiveFiles()
    atexit { removeArchiveFiles() }
    return (try? Archive(path: archivePath))!
}()

private func removeArchiveFiles() {
    for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: archivePath + suffix) }
}

private func handle(_ input: Data) {
    let split = input.firstIndex(of: 0) ?? input.endIndex
    var headers: [String: String] = [:]
    for line in input[..<split].split(separator: 0x0A) {
        let text = String(decoding: line, as: UTF8.self)
        guard let colon = text.firstIndex(of: ":") else { continue }
        headers[text[..<colon].lowercased()] = text[text.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }
    _ = try? gate.check(method: "POST", target: "/v1/push", header: { headers[$0] })
    let body = split < input.endIndex ? Data(input[(split + 1)...]) : Data()
    // Whatever a push stores must hold up: every blob hashes to its name, every record to its id, every signature
    // checks. A lying peer may be refused, never believed.
    if let pushed = try? SyncRoutes.receivePush(body, from: pusher, archive: archive, texts: texts), pushed.added > 0 {
        let report = try? archive.verify()
        precondition(report?.problems == [], "a push stored something that does not verify: \(String(describing: report))")
    }
    if let page = try? JSONDecoder().decode(ChangesPage.self, from: body) {
        _ = try? archive.check(page.changes.map(\.item))
    }
}

/// Valid inputs to start from: signed headers for a push that stores a node, an article and its capture; the same
/// with an extraction whose text is left for the receiver to make; and a page of changes.
private func writeSeeds(to directory: URL) throws {
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let page = Data("<html><body><article><p>What the page said.</p></article></body></html>".utf8)
    let (article, capture) = try signedCapture(page, by: pusherKey)
    let items: [ArchiveItem] = [.node(pusherKey.record), .article(article), .capture(capture)]
    let changes = items.enumerated().map { Change(seq: Int64($0.offset + 1), item: $0.element) }
    try push(changes, page: page, of: capture).write(to: directory.appendingPathComponent("push"))
    guard let text = texts.make(capture, page, []) else { throw CocoaError(.featureUnsupported) }
    let extraction = ExtractionRecord(captureID: capture.id, textID: text.id, extractor: Extractor.version)
    try push(
        changes + [Change(seq: 4, item: .extraction(extraction))], derived: [DerivedText(seq: 5, id: text.id.hex)],
        page: page, of: capture
    ).write(to: directory.appendingPathComponent("push-derived"))
    let changesPage = try JSONEncoder().encode(ChangesPage(nodeID: "seed", epoch: "seed", last: 3, more: false, changes: changes))
    try signed(changesPage).write(to: directory.appendingPathComponent("changes"))
}

/// An input for a push of `changes` (and `derived`) with `page`, the blob of `capture`.
private func push(_ changes: [Change], derived: [DerivedText]? = nil, page: Data, of capture: CaptureRecord) throws -> Data {
    let last = (changes.map(\.seq) + (derived ?? []).map(\.seq)).max() ?? 0
    var body = try JSONEncoder().encode(
        PushHeader(
            epoch: "seed", since: 0, last: last, lastKey: changes.last?.item.changeKey, head: last, changes: changes,
            derived: derived))
    body.append(0x0A)
    body.append(
        try JSONEncoder().encode(
            ObjectFrame(hash: capture.blobHash.hex, encoding: "identity", size: page.count, length: page.count)))
    body.append(0x0A)
    body.append(page)
    return try signed(body)
}

/// An input of `body` under the pusher's signed request headers for a push.
private func signed(_ body: Data) throws -> Data {
    let headers = try SyncAuth.requestHeaders(
        method: "POST", target: "/v1/push", body: body, key: pusherKey, to: serverKey.record.id.hex)
    return Data(headers.map { "\($0.0): \($0.1)\n" }.joined().utf8) + Data([0]) + body
}

/// A capture of `page` by `key`'s node, signed.
private func signedCapture(_ page: Data, by key: NodeKey) throws -> (ArticleRecord, CaptureRecord) {
    let article = ArticleRecord(url: "https://fuzz.example/a")
    let capture = try key.sign(
        CaptureRecord(
            articleID: article.id, url: article.url, finalURL: article.url, fetchedAt: "2026-11-27T00:00:00.000Z",
            status: 200, contentType: "text/html", etag: nil, lastModified: nil, blobHash: ContentHash(of: page),
            size: page.count, nodeID: key.record.id.hex))
    return (article, capture)
}

#if FUZZING
    /// SwiftPM links an executable's entry point under this name; it hands control to libFuzzer.
    @_cdecl("sync_fuzzer_main")
    public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
        if let seeds = ProcessInfo.processInfo.environment["SYNC_FUZZER_SEEDS"] {
            try? writeSeeds(to: URL(fileURLWithPath: seeds))
        }
        return fuzz(argc, argv, handle)
    }
#else
    @main
    struct SyncFuzzerReplay {
        static func main() throws {
            let arguments = Array(CommandLine.arguments.dropFirst())
            if arguments.first == "--seeds", arguments.count == 2 {
                return try writeSeeds(to: URL(fileURLWithPath: arguments[1]))
            }
            try replay(handle)
        }
    }
#endif
