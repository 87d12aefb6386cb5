import Archive
import Foundation
import GRDB
import NewsCore
import NewsdTesting

extension NewsdBench {
    /// Pages on disk: each set of `manifest` (lines `SET<TAB>FILE<TAB>URL`, in the order the pages came) is stored in
    /// an archive of its own, whose dictionaries are then made and pages recompressed as newsd does when idle. Prints
    /// per set the bytes the archive keeps (pages and dictionaries), the same pages compressed one by one at zstd 9, and
    /// the practical limit: `tar | zstd -19 --long` of the same files.
    static func disk(manifest: URL) throws {
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
            let directory = try temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let path = directory.appendingPathComponent("archive.sqlite").path
            let archive = try Archive(path: path)
            let key = NodeKey()
            try archive.register(key.record)
            var raw = 0
            var alone = 0
            for (index, page) in pages.enumerated() {
                let bytes = try Data(contentsOf: URL(fileURLWithPath: page.file))
                raw += bytes.count
                alone += Zstd.compress(bytes, level: 9)?.count ?? bytes.count
                let fetchedAt = Canonical.timestamp(Date(timeIntervalSince1970: 1_790_000_000 + Double(index)))
                let (article, capture) = try signedCapture(of: bytes, by: key, url: page.url, fetchedAt: fetchedAt)
                try archive.store(
                    Ingest(feed: nil, article: article, capture: capture, raw: HashedBytes(bytes), text: nil, extraction: nil))
            }
            let start = Date()
            var built = 0
            repeat {
                let made = try archive.buildDictionaries(limit: 64)
                built += made
                while try archive.compactBlobs(limit: 64) > 0 {}
                if made == 0 { break }
            } while true
            let seconds = Date().timeIntervalSince(start)
            let stored = try archive.counts().storedBlobBytes
            guard try archive.verify().isClean else { fail("verify found problems in set \(name)") }
            try archive.close()
            let limit = try solidSize(of: pages.map(\.file), in: directory)
            emit([
                "bench": "disk", "set": name, "pages": pages.count, "raw_bytes": raw, "newsd_bytes": stored,
                "dictionaries": built, "per_page_zstd9_bytes": alone, "limit_bytes": limit,
                "ratio_to_limit": round(Double(stored) / Double(limit) * 1000) / 1000,
                "per_page_ratio_to_limit": round(Double(alone) / Double(limit) * 1000) / 1000,
                "idle_seconds": round(seconds * 100) / 100,
            ])
        }
    }

    /// The size of `files` as one tar compressed by `zstd -19 --long`.
    private static func solidSize(of files: [String], in directory: URL) throws -> Int {
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
