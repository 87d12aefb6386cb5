import Extraction
import Foundation
import Testing

private let pages = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/pages")

private let seeds = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../../../shared/seeds").standardizedFileURL

/// The fixture pages: each `NAME.html` (or `NAME.plain`, a page of plain text) is a page in the shape of one that once
/// came out empty or wrong, and `NAME.txt` the exact text it must give (paragraphs apart by blank lines).
private let fixtureNames: [String] = {
    let files = (try? FileManager.default.contentsOfDirectory(atPath: pages.path)) ?? []
    return files.filter { $0.hasSuffix(".html") || $0.hasSuffix(".plain") }.sorted()
}()

@Suite struct PageFixtureTests {
    @Test func thereAreFixtures() {
        #expect(fixtureNames.count >= 1)
    }

    @Test(arguments: fixtureNames) func givesItsText(_ file: String) throws {
        let name = (file as NSString).deletingPathExtension
        let page = try Data(contentsOf: pages.appendingPathComponent(file))
        let expected = try String(contentsOf: pages.appendingPathComponent("\(name).txt"), encoding: .utf8)
        let article = Extractor.extract(page, url: URL(string: "https://site.example/\(name)"))
        #expect(article.body == expected.trimmingCharacters(in: .whitespacesAndNewlines), "\(name)")
    }

    @Test func aPageOfPlainTextTakesItsHeadlineAsTitle() throws {
        let page = try Data(contentsOf: pages.appendingPathComponent("two-reports.plain"))
        #expect(Extractor.extract(page).title == "Army Steps up Offensive on Opposition Redoubt in Valley City")
        let dump = try Data(contentsOf: pages.appendingPathComponent("site-dump.plain"))
        #expect(Extractor.extract(dump).title == "Floods cut the only road into the northern valley")
    }

    /// The seed articles as captured (plain text with the sites' chrome): each keeps its own report and loses the rest.
    @Test(.enabled(if: FileManager.default.fileExists(atPath: seeds.path), "../shared/seeds is not here"))
    func theSeedsLoseTheirChrome() throws {
        func text(_ prefix: String) throws -> String {
            let names = try FileManager.default.contentsOfDirectory(atPath: seeds.path)
            let name = try #require(names.first { $0.hasPrefix(prefix) && $0.hasSuffix(".txt") })
            return Extractor.extract(try Data(contentsOf: seeds.appendingPathComponent(name))).body
        }
        let lines: (String) -> [String] = { $0.components(separatedBy: "\n\n") }
        let first = try text("000_")
        #expect(first.contains("Syrian elite forces aided by pro-Iranian militias stepped up an offensive"))
        #expect(first.hasSuffix("patches of the northeast are in Kurdish hands."))
        for chrome in ["Jerusalem Post", "Most Read", "newsletter", "photo credit", "Kafr Hamra", "COVID", "Copyright"] {
            #expect(!first.contains(chrome), "000 keeps \(chrome)")
        }
        let second = try text("001_")
        #expect(second.hasPrefix("Syrian forces aided by pro-Iranian militias"))
        #expect(!second.contains("Iraq’s security and defense committee"))
        #expect(!second.contains("(AFP)"))
        #expect(Set(lines(second)).count == lines(second).count)
        let fourth = try text("003_")
        #expect(fourth.hasPrefix("Thousands of civilians have fled regime bombardment"))
        #expect(!fourth.contains("Related Articles") && !fourth.contains("Hajj"))
    }
}
