import Archive
import Daemon
import Foundation
import NewsCore
import NewsdTesting

extension NewsdBench {
    /// Pages on disk: each set of `manifest` (lines `SET<TAB>FILE<TAB>URL`, in the order the pages came) is stored in
    /// an archive of its own, whose dictionaries are then made and pages recompressed as newsd does when idle. Prints
    /// per set the bytes the archive keeps (pages and dictionaries), the same pages compressed one by one at zstd 9, and
    /// the practical limit: `tar | zstd -19 --long` of the same files; and for the set `host-runs`, the same for each
    /// host's later pages once its first ones made its dictionary. Each set's archive is then pulled by a new node over
    /// loopback, and the bytes that crossed (the loopback interface's: headers and TCP too) are set against the same limit.
    static func disk(manifest: URL) async throws {
        let lines = try String(contentsOf: manifest, encoding: .utf8).split(separator: "\n").map {
            $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        }
        var order: [String] = []
        var sets: [String: [(file: String, url: String)]] = [:]
        for fields in lines where fields.count == 3 {
            if sets[fields[0]] == nil { order.append(fields[0]) }
            sets[fields[0], default: []].append((fields[1], fields[2]))
        }
        for name in order {
            let pages = sets[name]!
            let (stored, built, seconds, _, wire) = try await stored(pages, pulled: true)
            let limit = try solidSize(of: pages.map(\.file))
            var alone = 0
            for page in pages {
                alone += Zstd.compress(try Data(contentsOf: URL(fileURLWithPath: page.file)), level: 9)?.count ?? 0
            }
            emit([
                "bench": "disk", "set": name, "pages": pages.count, "newsd_bytes": stored, "dictionaries": built,
                "per_page_zstd9_bytes": alone, "limit_bytes": limit,
                "ratio_to_limit": round(Double(stored) / Double(limit) * 1000) / 1000,
                "per_page_ratio_to_limit": round(Double(alone) / Double(limit) * 1000) / 1000,
                "idle_seconds": round(seconds * 100) / 100, "pulled_wire_bytes": wire,
                "wire_ratio_to_limit": round(Double(wire) / Double(limit) * 1000) / 1000,
            ])
        }
        // A host's later pages: the first half of each host's pages stored and its dictionaries made, then the second
        // half; what those take against what they add to the stream of all (what the stream makes of them, knowing the
        // first half).
        if let runs = sets["host-runs"] {
            let byHost = Dictionary(grouping: runs) { URL(string: $0.url)?.host ?? "" }
            let hosts = byHost.keys.sorted()
            let early = hosts.flatMap { byHost[$0]!.prefix(byHost[$0]!.count / 2) }
            let late = hosts.flatMap { byHost[$0]!.dropFirst(byHost[$0]!.count / 2) }
            let (kept, built, _, arrival, _) = try await stored(early, then: late)
            let limit = try solidSize(of: (early + late).map(\.file)) - solidSize(of: early.map(\.file))
            // As they arrive, before idle recompression: with their hosts' dictionaries, and in an archive without any.
            let plain = try await stored(late).arrival
            let perPage = { (seconds: Double) in round(seconds / Double(late.count) * 1e5) / 100 }
            let figures: [String: Any] = [
                "bench": "disk", "set": "host-runs, later half", "pages": late.count, "newsd_bytes": kept,
                "dictionaries": built, "limit_bytes": limit, "ratio_to_limit": round(Double(kept) / Double(limit) * 1000) / 1000,
                "arrival_bytes": arrival.bytes, "arrival_bytes_without_dictionaries": plain.bytes,
                "arrival_prepare_ms_per_page": perPage(arrival.seconds),
                "arrival_prepare_ms_per_page_without_dictionaries": perPage(plain.seconds),
            ]
            emit(figures)
        }
    }

    /// Stores `pages` in a new archive, makes its dictionaries and recompresses as newsd does when idle, then does the
    /// same with `later`: returns the bytes the archive keeps (pages and dictionaries; with `later`, those it added),
    /// the dictionaries made, the seconds the idle work took, and for the last batch, the bytes its pages took as they
    /// arrived and the seconds preparing them took (hash and signature checks, compression); with `pulled`, also the
    /// bytes a new node's pull of the archive then moved over loopback (0 without).
    private static func stored(
        _ pages: [(file: String, url: String)], then later: [(file: String, url: String)] = [], pulled: Bool = false
    ) async throws -> (bytes: Int, dictionaries: Int, seconds: Double, arrival: (bytes: Int, seconds: Double), wire: Int) {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let archive = try Archive(path: directory.appendingPathComponent("archive.sqlite").path)
        let key = try NodeIdentity(directory: directory).key
        try archive.register(key.record)
        var index = 0
        var built = 0
        var seconds = 0.0
        var before: Int64 = 0
        var arrival = (bytes: 0, seconds: 0.0)
        for batch in [pages, later] where !batch.isEmpty {
            before = try archive.counts().storedBlobBytes
            arrival.seconds = 0
            for page in batch {
                let bytes = try Data(contentsOf: URL(fileURLWithPath: page.file))
                let fetchedAt = Canonical.timestamp(Date(timeIntervalSince1970: 1_790_000_000 + Double(index)))
                index += 1
                let (article, capture) = try signedCapture(of: bytes, by: key, url: page.url, fetchedAt: fetchedAt)
                let ingest = Ingest(
                    feed: nil, article: article, capture: capture, raw: HashedBytes(bytes), text: nil, extraction: nil)
                let start = Date()
                let prepared = try archive.prepare(ingest)
                arrival.seconds += Date().timeIntervalSince(start)
                try archive.store([prepared])
            }
            arrival.bytes = Int(try archive.counts().storedBlobBytes - before)
            let start = Date()
            built += try idleWork(on: archive)
            seconds += Date().timeIntervalSince(start)
        }
        let stored = try archive.counts().storedBlobBytes - (later.isEmpty ? 0 : before)
        guard try archive.verify().isClean else { fail("verify found problems") }
        let captures = try archive.counts().captures
        try archive.close()
        return (Int(stored), built, seconds, arrival, pulled ? try await pullBytes(of: directory, captures: captures) : 0)
    }

    /// The bytes that cross loopback while a new node pulls the `captures` captures of the node kept in `directory`.
    private static func pullBytes(of directory: URL, captures: Int) async throws -> Int {
        let source = try await TestNode.start(directory: directory)
        let puller = try await TestNode.start(peers: [source.asPeer("source")])
        try await source.allow(puller, as: "puller")
        let before = loopbackBytes()
        let peers = try await puller.sync()
        let wire = loopbackBytes() - before
        let pulled = try await puller.status().counts.captures
        try await puller.stop()
        try await source.stop()
        guard peers.first?.lastResult == "ok", pulled == captures else {
            fail("the pull gave \(pulled) of \(captures) captures: \(peers)")
        }
        return wire
    }

    /// The size of `files` as one tar compressed by `zstd -19 --long`.
    private static func solidSize(of files: [String]) throws -> Int {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let list = directory.appendingPathComponent("files")
        try Data(files.joined(separator: "\n").utf8).write(to: list)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "tar -cf - -T \"$1\" 2>/dev/null | zstd -19 --long -T0 -q -c | wc -c", "sh", list.path]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard let size = Int(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) else {
            fail("tar | zstd gave no size")
        }
        return size
    }
}
