import Foundation
import GRDB
import NewsCore
import NewsdTesting
import Testing

@testable import Archive

private let key = NodeKey()

/// A page of `host`: its own template (styles, a script, navigation, footer; about 20 KB) around an article of generated
/// paragraphs, as a site's article pages are.
private func page(of host: String, number: Int, paragraphs: Int = 10) -> String {
    let seed = host.utf8.reduce(UInt64(7)) { $0 &* 31 &+ UInt64($1) }
    var random = SeededGenerator(seed: seed &+ UInt64(number) &+ 1)
    var site = SeededGenerator(seed: seed)
    let words = """
        council water road bridge shelter convoy talks market school clinic river valley border crossing aid winter \
        families district ministry statement evening residents reported officials agreed schedule repairs power
        """.split(whereSeparator: \.isWhitespace)
    func sentence(_ generator: inout SeededGenerator, _ count: Int) -> String {
        (0..<count).map { _ in String(words[Int(generator.next() % UInt64(words.count))]) }.joined(separator: " ")
    }
    // Class names, colours and script tokens as a site's build makes them: much alike to the eye, little to zstd.
    func token(_ length: Int) -> String {
        String((0..<length).map { _ in "abcdefghijklmnopqrstuvwxyz0123456789".randomElement(using: &site)! })
    }
    let style = (0..<160).map { _ in "  .\(token(8)) { margin: \(site.next() % 40)px; color: #\(token(6)); }" }
    let script = (0..<80).map { _ in "w['\(token(10))']='\(token(24))';" }
    let navigation = (0..<60).map { "<li><a href=\"/\(token(12))/\($0)\">\(sentence(&site, 2))</a></li>" }
    let article = (0..<paragraphs).map { _ in "<p>\(sentence(&random, 60)).</p>" }
    return """
        <!doctype html><html><head><title>\(sentence(&random, 6)) | \(host)</title><style>
        \(style.joined(separator: "\n"))
        </style><script>\(script.joined(separator: "\n"))</script></head><body><header><ul class="nav">\(navigation.joined())</ul></header>
        <article><h1>\(sentence(&random, 8))</h1>\(article.joined(separator: "\n"))</article>
        <footer>\(sentence(&site, 200))</footer></body></html>
        """
}

/// Stores `html` as a capture of `url` in `archive`, and returns its blob's hash.
@discardableResult
private func store(_ html: String, url: String, in archive: Archive, at minute: Int = 0) throws -> ContentHash {
    let raw = Data(html.utf8)
    let fetchedAt = String(format: "2026-11-22T%02d:%02d:00.000Z", 1 + minute / 60, minute % 60)
    let (article, capture) = try signedCapture(of: raw, by: key, url: url, fetchedAt: fetchedAt)
    try archive.store(Ingest(feed: nil, article: article, capture: capture, raw: HashedBytes(raw), text: nil, extraction: nil))
    return capture.blobHash
}

/// An archive in a directory of its own, removed after `body`.
private func withArchive(_ body: (Archive, String) throws -> Void) throws {
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = directory.appendingPathComponent("archive.sqlite").path
    let archive = try Archive(path: path)
    try archive.register(key.record)
    try body(archive, path)
}

/// Each blob's encoding, read from the file.
private func encodings(_ path: String) throws -> [String: String] {
    try DatabaseQueue(path: path).read { db in
        try Row.fetchAll(db, sql: "SELECT hash, encoding FROM blob").reduce(into: [:]) { $0[$1["hash"]] = $1["encoding"] }
    }
}

/// The hashes of `host`'s dictionaries, oldest first, read from the file.
private func dictionaryHashes(of host: String, _ path: String) throws -> [String] {
    try DatabaseQueue(path: path).read { db in
        try String.fetchAll(db, sql: "SELECT hash FROM dictionary WHERE host = ? ORDER BY createdAt", arguments: [host])
    }
}

/// The hash of `host`'s latest dictionary ('' for the general one), read from the file.
private func dictionaryHash(of host: String, _ path: String) throws -> String? {
    try dictionaryHashes(of: host, path).last
}

private func drain(_ archive: Archive) throws {
    for _ in 0..<100 where try archive.compactBlobs(limit: 32) > 0 {}
    #expect(try archive.blobsAwaitingCompaction() == 0)
}

@Suite struct DictionaryTests {
    @Test func aHostsPagesAreCompressedWithItsOwnDictionaryAndReadBackTheSame() throws {
        try withArchive { archive, path in
            let pages = (0..<6).map { page(of: "news.example", number: $0) }
            let hashes = try pages.enumerated().map { try store($1, url: "https://news.example/\($0)", in: archive, at: $0) }
            try store(page(of: "other.example", number: 0), url: "https://other.example/a", in: archive)
            // One page of a host is not enough for a dictionary of it; too few hosts for a general one.
            #expect(try archive.buildDictionaries() == 1)
            #expect(try archive.buildDictionaries() == 0)
            try drain(archive)

            let dictionary = try #require(try dictionaryHash(of: "news.example", path))
            let stored = try encodings(path)
            for hash in hashes { #expect(stored[hash.hex] == "zstd:\(dictionary)") }
            for (hash, page) in zip(hashes, pages) { #expect(try archive.blob(hash) == Data(page.utf8)) }
            #expect(try archive.verify().isClean)

            // The host's pages with their dictionary take well under what they take compressed one by one.
            let alone = pages.reduce(0) { $0 + Zstd.compress(Data($1.utf8), level: BlobCodec.compactLevel)!.count }
            let together = try DatabaseQueue(path: path).read { db in
                try Int.fetchOne(
                    db,
                    sql: """
                        SELECT SUM(length(data)) FROM blob
                        WHERE encoding = 'zstd:' || ? OR hash = ?
                        """, arguments: [dictionary, dictionary])!
            }
            #expect(together * 2 < alone, "\(together) bytes with the dictionary, \(alone) one by one")

            // Peers get the page compressed without the dictionary, readable without it.
            let sent = try #require(try archive.storedBlob(hashes[0]))
            #expect(sent.encoding == "zstd")
            #expect(try sent.bytes() == Data(pages[0].utf8))
        }
    }

    @Test func aPassReadsTheCapturesSinceTheLastOneAndStillCountsTheEarlierOnes() throws {
        try withArchive { archive, path in
            try store(page(of: "news.example", number: 0), url: "https://news.example/0", in: archive)
            #expect(try archive.buildDictionaries() == 0, "one page of a host is not enough")
            // The second page comes after the first pass: with the first one, read by that pass, it makes two.
            try store(page(of: "news.example", number: 1), url: "https://news.example/1", in: archive, at: 1)
            #expect(try archive.buildDictionaries() == 1)
            #expect(try dictionaryHash(of: "news.example", path) != nil)
            #expect(try archive.buildDictionaries() == 0)
            // A newsd started again reads every capture once more, and finds nothing left to make.
            let reopened = try Archive(path: path)
            #expect(try reopened.buildDictionaries() == 0)
            try store(page(of: "other.example", number: 0), url: "https://other.example/0", in: reopened, at: 2)
            try store(page(of: "other.example", number: 1), url: "https://other.example/1", in: reopened, at: 3)
            #expect(try reopened.buildDictionaries() == 1)
            try reopened.close()
        }
    }

    @Test func aPageArrivingOnceItsHostHasADictionaryIsCompressedWithItAtOnce() throws {
        try withArchive { archive, path in
            try (0..<3).forEach {
                try store(page(of: "news.example", number: $0), url: "https://news.example/\($0)", in: archive)
            }
            // Before any dictionary: plain zstd at arrival.
            let before = try store(page(of: "news.example", number: 3), url: "https://news.example/3", in: archive)
            #expect(try encodings(path)[before.hex] == "zstd")
            #expect(try archive.buildDictionaries() == 1)
            let dictionary = try #require(try dictionaryHash(of: "news.example", path))
            // After it: the host's next page arrives compressed with it, smaller than without it, and still waits to be
            // recompressed at the level meant to be kept; a page of another host does not use it.
            let html = page(of: "news.example", number: 4)
            let after = try store(html, url: "https://news.example/4", in: archive)
            let elsewhere = try store(page(of: "other.example", number: 0), url: "https://other.example/a", in: archive)
            let stored = try encodings(path)
            #expect(stored[after.hex] == "zstd:\(dictionary)")
            #expect(stored[elsewhere.hex] == "zstd")
            let size = try DatabaseQueue(path: path).read { db in
                try Int.fetchOne(db, sql: "SELECT length(data) FROM blob WHERE hash = ?", arguments: [after])!
            }
            #expect(size * 2 < Zstd.compress(Data(html.utf8), level: BlobCodec.ingestLevel)!.count)
            #expect(try archive.blob(after) == Data(html.utf8))
            try drain(archive)
            #expect(try encodings(path)[after.hex] == "zstd:\(dictionary)")
            #expect(try archive.blob(after) == Data(html.utf8))
            #expect(try archive.verify().isClean)
        }
    }

    @Test func verifyNamesAPageWhoseDictionaryIsGone() throws {
        try withArchive { archive, path in
            let hashes = try (0..<3).map {
                try store(page(of: "news.example", number: $0), url: "https://news.example/\($0)", in: archive)
            }
            #expect(try archive.buildDictionaries() == 1)
            try drain(archive)
            try archive.close()
            try DatabaseQueue(path: path).write { db in
                try db.execute(sql: "DELETE FROM blob WHERE hash IN (SELECT hash FROM dictionary)")
            }
            let reopened = try Archive(path: path)
            let problems = try reopened.verify().problems.filter { $0.kind == "blob" }
            #expect(Set(problems.map(\.id)) == Set(hashes.map(\.hex)))
            #expect(problems.allSatisfy { $0.message.contains("dictionary") })
            #expect(throws: (any Error).self) { try reopened.blob(hashes[0]) }
            try reopened.close()
        }
    }

    @Test func pagesOfHostsWithoutADictionaryOfTheirOwnUseTheGeneralOne() throws {
        try withArchive { archive, path in
            let hosts = (0..<Archive.generalDictionaryHosts).map { "site\($0).example" }
            let hashes = try hosts.map {
                try store(page(of: $0, number: 0, paragraphs: 120), url: "https://\($0)/story", in: archive)
            }
            #expect(try archive.buildDictionaries() == 1)
            try drain(archive)
            let general = try #require(try dictionaryHash(of: "", path))
            let stored = try encodings(path)
            #expect(hashes.filter { stored[$0.hex] == "zstd:\(general)" }.count > hashes.count / 2)
            for hash in hashes { #expect(try archive.blob(hash) != nil) }
            #expect(try archive.verify().isClean)
        }
    }

    @Test func theGeneralDictionaryIsOnlyForHostsWithoutOneOfTheirOwn() throws {
        try withArchive { archive, path in
            for number in 0..<Archive.generalDictionaryHosts {
                for index in 0..<2 {
                    let html = page(of: "site\(number).example", number: index, paragraphs: 120)
                    try store(html, url: "https://site\(number).example/\(index)", in: archive)
                }
            }
            #expect(try archive.buildDictionaries(limit: 100) == Archive.generalDictionaryHosts)
            #expect(try dictionaryHash(of: "", path) == nil)
        }
    }

    @Test func aHostWhoseFirstPageIsLargerThanADictionaryStillGetsOne() throws {
        try withArchive { archive, path in
            let large = page(of: "news.example", number: 0, paragraphs: 2500)
            #expect(large.utf8.count > Archive.hostDictionaryBytes)
            try store(large, url: "https://news.example/0", in: archive, at: 0)
            let next = try store(page(of: "news.example", number: 1), url: "https://news.example/1", in: archive, at: 1)
            #expect(try archive.buildDictionaries() == 1)
            try drain(archive)
            let dictionary = try #require(try dictionaryHash(of: "news.example", path))
            #expect(try encodings(path)[next.hex] == "zstd:\(dictionary)")
        }
    }

    @Test func aHostsNewerPagesMakeItsDictionaryAgainCompressedWithThePreviousOne() throws {
        try withArchive { archive, path in
            var minute = 0
            func arrive(template: String, pages: Int) throws -> [(html: String, hash: ContentHash)] {
                try (0..<pages).map { _ in
                    minute += 1
                    let html = page(of: template, number: minute)
                    return (html, try store(html, url: "https://news.example/\(minute)", in: archive, at: minute))
                }
            }
            let first = try arrive(template: "news.example", pages: 3)
            #expect(try archive.buildDictionaries() == 1)
            let old = try arrive(template: "news.example", pages: 3)
            #expect(try archive.buildDictionaries() == 0, "three pages add up to less than a renewal")
            #expect(try dictionaryHashes(of: "news.example", path).count == 1)

            // The site's new template: once its pages add up to a renewal's bytes, they make a new dictionary with
            // the pages that came after the first one's, compressed with the first.
            let size = Data(page(of: "news.example, redesigned", number: 0).utf8).count
            let redesigned = try arrive(template: "news.example, redesigned", pages: Archive.renewalBytes / size + 1)
            #expect(try archive.buildDictionaries() == 1)
            #expect(try archive.buildDictionaries() == 0)
            let hashes = try dictionaryHashes(of: "news.example", path)
            try #require(hashes.count == 2)
            let stored = try encodings(path)
            #expect(stored[hashes[0]] == "zstd")
            #expect(stored[hashes[1]] == "zstd:\(hashes[0])")
            try drain(archive)
            let recompressed = try encodings(path)
            for page in first { #expect(recompressed[page.hash.hex] == "zstd:\(hashes[0])") }
            for page in old + redesigned { #expect(recompressed[page.hash.hex] == "zstd:\(hashes[1])") }

            // The next page of the new template arrives compressed with the new dictionary, to a fraction of its size.
            let next = try arrive(template: "news.example, redesigned", pages: 1)[0]
            #expect(try encodings(path)[next.hash.hex] == "zstd:\(hashes[1])")
            let kept = try DatabaseQueue(path: path).read { db in
                try Int.fetchOne(db, sql: "SELECT length(data) FROM blob WHERE hash = ?", arguments: [next.hash])!
            }
            #expect(kept * 2 < Zstd.compress(Data(next.html.utf8), level: BlobCodec.ingestLevel)!.count)
            let all = first + old + redesigned + [next]
            for page in all { #expect(try archive.blob(page.hash) == Data(page.html.utf8)) }
            #expect(try archive.verify().isClean)
            // A newsd started again reads the second dictionary through the first.
            let reopened = try Archive(path: path)
            for page in all { #expect(try reopened.blob(page.hash) == Data(page.html.utf8)) }
            try reopened.close()
        }
    }

    @Test func aBacklogOfAHostsPagesMakesItsDictionariesInOnePassAndIsRecompressedOnce() throws {
        try withArchive { archive, path in
            // Two and a half dictionaries' worth of one site's pages, stored before any pass.
            let size = Data(page(of: "news.example", number: 0).utf8).count
            let count = Archive.hostDictionaryBytes * 5 / 2 / size
            let hashes = try (1...count).map {
                try store(page(of: "news.example", number: $0), url: "https://news.example/\($0)", in: archive, at: $0)
            }
            #expect(try archive.buildDictionaries() >= 3)
            var recompressed = 0
            while case let taken = try archive.compactBlobs(limit: 32), taken > 0 { recompressed += taken }
            #expect(recompressed == count)
            #expect(try archive.buildDictionaries() == 0)
            #expect(try archive.blobsAwaitingCompaction() == 0)
            let dictionaries = Set(try dictionaryHashes(of: "news.example", path).map { "zstd:\($0)" })
            let stored = try encodings(path)
            #expect(Set(hashes.map { stored[$0.hex] ?? "" }) == dictionaries, "every dictionary is some pages' own")
        }
    }

    @Test func aHostsDictionariesAndTheirChainsAreBoundedAndSentToPeersReadableAlone() throws {
        try withArchive { archive, path in
            // Every page its own template: each renewal holds pages the previous dictionary knows nothing of.
            var minute = 0
            var pages: [(html: String, hash: ContentHash)] = []
            let size = Data(page(of: "template 0", number: 0).utf8).count
            for round in 0...Archive.hostDictionaryLimit {
                for _ in 0..<(round == 0 ? 2 : Archive.renewalBytes / size + 1) {
                    minute += 1
                    let html = page(of: "template \(minute)", number: minute)
                    pages.append((html, try store(html, url: "https://news.example/\(minute)", in: archive, at: minute)))
                }
                #expect(try archive.buildDictionaries() == (round < Archive.hostDictionaryLimit ? 1 : 0))
                try drain(archive)
            }
            let hashes = try dictionaryHashes(of: "news.example", path)
            try #require(hashes.count == Archive.hostDictionaryLimit)
            // Each compressed with the one before, until a chain is as long as it may be; the next starts one anew.
            let stored = try encodings(path)
            let expected = hashes.indices.map { index in
                index % Archive.dictionaryChain == 0 ? "zstd" : "zstd:\(hashes[index - 1])"
            }
            #expect(hashes.map { stored[$0] } == expected)
            for page in pages { #expect(try archive.blob(page.hash) == Data(page.html.utf8)) }
            #expect(try archive.verify().isClean)
            let reopened = try Archive(path: path)
            for page in pages { #expect(try reopened.blob(page.hash) == Data(page.html.utf8)) }
            try reopened.close()

            // A peer is sent a dictionary in a form it reads without any other, and keeps it.
            let last = try #require(ContentHash(hex: hashes[hashes.count - 1]))
            let sent = try #require(try archive.storedBlob(last))
            #expect(BlobCodec.dictionary(of: sent.encoding) == nil)
            try withArchive { peer, peerPath in
                try peer.storeDictionary(sent, host: "news.example")
                #expect(try dictionaryHash(of: "news.example", peerPath) == hashes[hashes.count - 1])
            }
        }
    }

    @Test func aPeersDictionaryIsNoLargerThanTheOnesNewsdMakesAndAPageIsNeverReadAsOne() throws {
        try withArchive { archive, path in
            let large = Data(repeating: 0x61, count: Archive.hostDictionaryBytes + 1)
            #expect(throws: IntegrityError.self) {
                try archive.storeDictionary(StoredBlob(bytes: large), host: "news.example")
            }
            #expect(try dictionaryHash(of: "news.example", path) == nil)

            // A form that names a page of the archive as its dictionary, as a lying peer's might, is not read.
            let first = Data(page(of: "news.example", number: 0).utf8)
            let named = try store(String(decoding: first, as: UTF8.self), url: "https://news.example/0", in: archive)
            let other = Data(page(of: "news.example", number: 1).utf8)
            let stored = BlobCodec.encode(other, level: 3, dictionary: (named, first))
            let lying = StoredBlob(hash: ContentHash(of: other), data: stored.data, encoding: stored.encoding, size: other.count)
            #expect(stored.encoding == "zstd:\(named.hex)")
            #expect(throws: IntegrityError.self) { try archive.original(of: lying) }
            // Nor is a dictionary that names a page as the earlier dictionary it was compressed with.
            #expect(throws: IntegrityError.self) { try archive.storeDictionary(lying, host: "news.example") }
            #expect(try dictionaryHash(of: "news.example", path) == nil)
        }
    }

    @Test func aPageIsFiledUnderItsHost() {
        #expect(Archive.host(of: "https://User@News.Example:8443/a?b") == "news.example")
        #expect(Archive.host(of: "http://[::1]:8080/feed") == "[::1]")
        #expect(Archive.host(of: "http://127.0.0.1/x") == "127.0.0.1")
        #expect(Archive.host(of: "mailto:someone") == nil)
        #expect(Archive.host(of: "https:///path") == nil)
    }
}
