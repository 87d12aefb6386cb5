import Extraction
import Foundation
import Testing

private let pages = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/pages")

/// The fixture pages: each `NAME.html` is a page in the shape of one that once came out empty or wrong, and
/// `NAME.txt` the exact text it must give (paragraphs apart by blank lines).
private let fixtureNames: [String] = {
    let files = (try? FileManager.default.contentsOfDirectory(atPath: pages.path)) ?? []
    return files.filter { $0.hasSuffix(".html") }.map { String($0.dropLast(5)) }.sorted()
}()

@Suite struct PageFixtureTests {
    @Test func thereAreFixtures() {
        #expect(fixtureNames.count >= 1)
    }

    @Test(arguments: fixtureNames) func givesItsText(_ name: String) throws {
        let html = try Data(contentsOf: pages.appendingPathComponent("\(name).html"))
        let expected = try String(contentsOf: pages.appendingPathComponent("\(name).txt"), encoding: .utf8)
        let article = Extractor.extract(html, url: URL(string: "https://site.example/\(name)"))
        #expect(article.body == expected.trimmingCharacters(in: .whitespacesAndNewlines), "\(name)")
    }
}
