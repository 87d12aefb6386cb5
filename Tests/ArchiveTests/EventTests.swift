import Archive
import Foundation
import GRDB
import NewsCore
import NewsdTesting
import Testing

private let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/events")

/// A fixture report: its first line the publication date, its second the headline, then the text.
func eventFixture(_ name: String) throws -> TextRecord {
    let lines = try String(contentsOf: fixtures.appendingPathComponent(name), encoding: .utf8)
        .split(separator: "\n", omittingEmptySubsequences: false)
    return TextRecord(
        title: String(lines[1]), byline: nil, published: String(lines[0]), language: "en",
        body: lines.dropFirst(2).joined(separator: "\n\n"))
}

/// An archive in a temporary file, removed at the end of `body`.
func withArchive<T>(_ body: (Archive, NodeKey) throws -> T) throws -> T {
    let key = NodeKey()
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let archive = try Archive(path: directory.appendingPathComponent("archive.sqlite").path)
    defer { try? archive.close() }
    try archive.register(key.record)
    return try body(archive, key)
}

/// Stores each text as an article's, in the order given.
func store(
    _ texts: [(name: String, text: TextRecord)], in archive: Archive, key: NodeKey, host: (String) -> String = { _ in "fixture" }
) throws {
    for (name, text) in texts {
        let raw = Data(text.body.utf8)
        let (article, capture) = try signedCapture(
            of: raw, by: key, url: "https://\(host(name)).example/\(name)", contentType: "text/plain")
        try archive.store(
            Ingest(
                feed: nil, article: article, capture: capture, raw: HashedBytes(raw), text: text,
                extraction: ExtractionRecord(captureID: capture.id, textID: text.id, extractor: "fixture")))
    }
}

let eventFixtureNames = [
    "quake1-wire.txt", "quake1-local.txt", "quake1-update.txt", "quake1-copy.txt", "quake2-wire.txt", "quake2-local.txt",
    "election-wire.txt",
]

@Suite struct EventTests {
    /// The event of each fixture, by name, stored in `order`.
    private func events(order: [String]) throws -> [String: String] {
        let texts = try order.map { (name: $0, text: try eventFixture($0)) }
        return try withArchive { archive, key in
            try store(texts, in: archive, key: key)
            let of = try archive.events(of: texts.map(\.text.id))
            #expect(try archive.verify().isClean)
            return Dictionary(uniqueKeysWithValues: texts.map { ($0.name, of[$0.text.id] ?? "") })
        }
    }

    @Test func reportsOfOneEventAreTogetherAndAnotherEventOfTheSameKindIsNot() throws {
        let event = try events(order: eventFixtureNames)
        let first = ["quake1-wire.txt", "quake1-local.txt", "quake1-update.txt", "quake1-copy.txt"]
        #expect(Set(first.map { event[$0] }).count == 1)
        #expect(event["quake2-wire.txt"] == event["quake2-local.txt"])
        #expect(event["quake2-wire.txt"] != event["quake1-wire.txt"])
        #expect(event["election-wire.txt"] != event["quake1-wire.txt"])
        #expect(event["election-wire.txt"] != event["quake2-wire.txt"])
    }

    @Test func reportsPublishedMoreThanAWeekApartAreDifferentEvents() {
        let monday = EventProfile(title: "Dam breaks above Qala", body: "The Qala dam broke.", published: "2026-03-02")
        let again = EventProfile(title: "Dam breaks above Qala", body: "The Qala dam broke.", published: "2026-03-09T10:00Z")
        let later = EventProfile(title: "Dam breaks above Qala", body: "The Qala dam broke.", published: "2026-03-10")
        let undated = EventProfile(title: "Dam breaks above Qala", body: "The Qala dam broke.", published: nil)
        #expect(monday.isSameEvent(as: again) && again.isSameEvent(as: monday))
        #expect(!monday.isSameEvent(as: later) && !later.isSameEvent(as: monday))
        #expect(undated.isSameEvent(as: later) && monday.isSameEvent(as: undated))
        #expect(EventProfile(encoded: monday.encoded(), day: monday.day) == monday)
        #expect(monday.day == 20514)
    }

    @Test func theSameTextsGiveTheSameEventsInAnyOrder() throws {
        let reference = try events(order: eventFixtureNames)
        var generator = SeededGenerator(seed: 17)
        for _ in 0..<3 {
            #expect(try events(order: eventFixtureNames.shuffled(using: &generator)) == reference)
        }
    }

    @Test func anEventHoldsItsCopyGroupsAndListsItsSources() throws {
        let texts = try eventFixtureNames.map { (name: $0, text: try eventFixture($0)) }
        try withArchive { archive, key in
            // Each kind of report from a site of its own: quake1-wire.txt from wire.example, and so on.
            try store(texts, in: archive, key: key) { String($0.split(separator: "-")[1].prefix { $0 != "." }) }
            let listed = try archive.events(minimumTexts: 2)
            #expect(listed.map(\.size) == [4, 2])
            let quake = try #require(listed.first)
            // The wire report and its copy are one copy group; the local report and the update are each their own.
            #expect(quake.stories.map(\.members.count).sorted() == [1, 1, 2])
            #expect(quake.sources == ["copy.example", "local.example", "update.example", "wire.example"])
            #expect(quake.timeline.count == 4)
            #expect(quake.firstCaptured == quake.timeline.compactMap(\.member.capturedAt).min())
            #expect(quake.lastCaptured == quake.timeline.compactMap(\.member.capturedAt).max())
            // Listed with one text of each copy group, the event still names all its sources.
            #expect(try archive.event(quake.id, membersEach: 1)?.sources == quake.sources)
            #expect(try archive.event(String(quake.id.prefix(8)))?.id == quake.id)
            #expect(try archive.event("00000000") == nil)
            for story in quake.stories { #expect(try archive.event(story.id)?.id == quake.id) }
        }
    }

    @Test func verifyNamesACopyGroupSplitAcrossEventsAndATextInNoEventIsFiledAgain() throws {
        let key = NodeKey()
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("archive.sqlite").path
        let archive = try Archive(path: path)
        try archive.register(key.record)
        try store(try eventFixtureNames.map { (name: $0, text: try eventFixture($0)) }, in: archive, key: key)
        #expect(try archive.verify().isClean)
        try archive.close()
        let tampered = try DatabaseQueue(path: path)
        let copy = try eventFixture("quake1-copy.txt").id
        let election = try eventFixture("election-wire.txt").id
        try tampered.write { db in
            try db.execute(sql: "UPDATE event_member SET eventID = 'elsewhere' WHERE textID = ?", arguments: [copy])
            try db.execute(sql: "DELETE FROM event_member WHERE textID = ?", arguments: [election])
        }
        try tampered.close()
        let checked = try Archive(path: path)
        defer { try? checked.close() }
        let problems = try checked.verify().problems.filter { $0.kind == "event" }
        #expect(problems.count == 1)
        #expect(try checked.events(of: [election])[election] == nil)
        #expect(try checked.fileUnfiledEvents(limit: 10) == 1)
        #expect(try checked.fileUnfiledEvents(limit: 10) == 0)
        #expect(try checked.events(of: [election])[election] == election.hex)
    }

    @Test func aReportLikeTwoEventsMergesThemAndTheOldIdStillFindsTheEvent() throws {
        let first = "alder birch cedar dogwood elm"
        let second = "fennel garlic hyssop lovage mint"
        let texts = [first, second, first + " " + second].enumerated().map { index, words in
            (
                name: "report-\(index)",
                text: TextRecord(title: nil, byline: nil, published: "2026-03-02", language: "en", body: words)
            )
        }
        try withArchive { archive, key in
            try store(Array(texts.prefix(2)), in: archive, key: key)
            let before = try archive.events(of: texts.prefix(2).map(\.text.id))
            #expect(Set(before.values).count == 2)
            try store([texts[2]], in: archive, key: key)
            let after = try archive.events(of: texts.map(\.text.id))
            let merged = try #require(after[texts[0].text.id])
            #expect(Set(after.values) == [merged])
            #expect(merged == texts.map(\.text.id.hex).min())
            let event = try #require(try archive.event(merged))
            #expect(Set(event.merged) == Set(before.values).subtracting([merged]))
            for old in before.values {
                #expect(try archive.event(String(old.prefix(12)))?.id == merged)
            }
        }
    }
}
