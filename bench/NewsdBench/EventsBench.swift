import Archive
import Foundation
import NewsCore
import NewsdTesting

extension NewsdBench {
    /// What filing texts into events costs as the archive grows: `count` generated reports (a Zipf vocabulary of
    /// 20,000 content words, events of 3 to 7 reports sharing names, published on days spread over a year) stored as the poller
    /// stores them, then every text filed again from scratch. Prints the store rate of the last 1,000 beside the first
    /// 1,000, the filing cost per text, and how the events found match the generated ones.
    static func events(count: Int) async throws {
        var generator = SeededGenerator(seed: 2026)
        let vocabulary = (0..<20_000).map { "w\(String($0, radix: 26))" }
        var cumulative: [Double] = []
        var total = 0.0
        for rank in vocabulary.indices {
            // Ranks from 200: the head of a language's Zipf curve is its function words, which the stop-word list takes.
            total += 1 / Double(rank + 200)
            cumulative.append(total)
        }
        func commonWord() -> String {
            let target = Double.random(in: 0..<total, using: &generator)
            var low = 0
            var high = cumulative.count - 1
            while low < high {
                let middle = (low + high) / 2
                if cumulative[middle] < target { low = middle + 1 } else { high = middle }
            }
            return vocabulary[low]
        }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate]
        let start = Date(timeIntervalSince1970: 1_735_689_600)  // 2025-01-01
        var texts: [(text: TextRecord, event: Int)] = []
        var event = 0
        while texts.count < count {
            let names = (0..<5).map { _ in "N" + String(Int.random(in: 0..<1_000_000, using: &generator), radix: 36) }
            let topic = (0..<4).map { _ in commonWord() }
            let day = Int.random(in: 0..<365, using: &generator)
            for _ in 0..<min(Int.random(in: 3...7, using: &generator), count - texts.count) {
                var words: [String] = []
                for index in 0..<250 {
                    let roll = Double.random(in: 0..<1, using: &generator)
                    let word =
                        roll < 0.08
                        ? names.randomElement(using: &generator)!
                        : roll < 0.12 ? topic.randomElement(using: &generator)! : commonWord()
                    words.append(word + (index % 15 == 14 ? "." : ""))
                }
                let published = formatter.string(
                    from: start.addingTimeInterval(Double(day + Int.random(in: 0...2, using: &generator)) * 86_400))
                let title = "\(names[0]) \(topic[0]) \(names[1]) \(commonWord())"
                texts.append(
                    (
                        TextRecord(
                            title: title, byline: nil, published: published, language: "en", body: words.joined(separator: " ")),
                        event
                    ))
            }
            event += 1
        }
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let key = NodeKey()
        let archive = try Archive(path: directory.appendingPathComponent("archive.sqlite").path)
        try archive.register(key.record)
        let shared = texts
        var rates: [Double] = []
        for batch in stride(from: 0, to: count, by: 1_000) {
            let began = ContinuousClock.now
            try await storeConcurrently(batch..<min(batch + 1_000, count), into: archive, signingWith: key, inFlight: 16) {
                index in
                let text = shared[index].text
                var ingest = benchIngest(index, bytes: Data(text.body.utf8), key: key)
                ingest.text = text
                ingest.extraction = ExtractionRecord(captureID: ingest.capture.id, textID: text.id, extractor: "bench")
                return ingest
            }
            rates.append(Double(min(1_000, count - batch)) / ((ContinuousClock.now - began) / .seconds(1)))
        }
        let found = try archive.events(of: texts.map(\.text.id))
        let began = ContinuousClock.now
        let refiled = try archive.refileEvents()
        let filing = (ContinuousClock.now - began) / .milliseconds(1) / Double(refiled)
        let again = try archive.events(of: texts.map(\.text.id))
        try archive.close()
        // Pairwise precision and recall against the generated events, over pairs within each found or generated event.
        var foundPairs = 0
        var truePairs = 0
        var agreeing = 0
        var byFound: [String: [Int]] = [:]
        var byTrue: [Int: [Int]] = [:]
        for (index, item) in texts.enumerated() {
            byFound[found[item.text.id] ?? "", default: []].append(index)
            byTrue[item.event, default: []].append(index)
        }
        for members in byFound.values {
            foundPairs += members.count * (members.count - 1) / 2
            var perEvent: [Int: Int] = [:]
            for member in members { perEvent[texts[member].event, default: 0] += 1 }
            agreeing += perEvent.values.reduce(0) { $0 + $1 * ($1 - 1) / 2 }
        }
        for members in byTrue.values { truePairs += members.count * (members.count - 1) / 2 }
        emit([
            "bench": "events", "articles": count, "generated_events": byTrue.count, "events": byFound.count,
            "store_per_s_first_1000": rates.first.map { $0.rounded() } ?? 0,
            "store_per_s_last_1000": rates.last.map { $0.rounded() } ?? 0,
            "filing_ms_per_article": (filing * 1000).rounded() / 1000, "bar_ms": 2,
            "pairwise_precision": foundPairs == 0 ? 1 : (Double(agreeing) / Double(foundPairs) * 1000).rounded() / 1000,
            "pairwise_recall": truePairs == 0 ? 1 : (Double(agreeing) / Double(truePairs) * 1000).rounded() / 1000,
            "refiled_same_events": again == found,
        ])
    }
}
