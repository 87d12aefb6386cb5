import Extraction
import Foundation

extension NewsdBench {
    /// Extraction throughput on one core over the pages in `directory` (`ID.html` files), median of five rounds;
    /// with `predictions`, also writes what was extracted in the scorer's format (`{ID: {"articleBody": TEXT}}`).
    static func extract(pages directory: URL, predictions: String?) throws {
        let files = try pageFiles(in: directory)
        let pages = try files.map { try Data(contentsOf: $0) }
        let bytes = pages.reduce(0) { $0 + $1.count }
        var output: [String: [String: String]] = [:]
        for (file, page) in zip(files, pages) {
            output[file.deletingPathExtension().lastPathComponent] = ["articleBody": Extractor.extract(page).body]
        }
        var rates: [Double] = []
        for _ in 0..<5 {
            let start = ContinuousClock.now
            for page in pages { _ = Extractor.extract(page) }
            rates.append(Double(pages.count) / ((ContinuousClock.now - start) / .seconds(1)))
        }
        let rate = median(rates)
        emit([
            "bench": "extract", "tool": Extractor.version, "pages": pages.count, "pages_per_s": Int(rate.rounded()),
            "mb_per_s": (Double(bytes) / Double(pages.count) * rate / 1e6 * 10).rounded() / 10,
        ])
        if let predictions {
            let data = try JSONSerialization.data(withJSONObject: output, options: [.sortedKeys])
            try data.write(to: URL(fileURLWithPath: predictions))
        }
    }

    /// Peak memory of extracting one page of about `megabytes` MB made of the pages in `directory`, in a fresh process.
    static func extractMemory(pages directory: URL, megabytes: Int) throws {
        let files = try pageFiles(in: directory)
        var page = Data("<html><body>".utf8)
        var index = 0
        while page.count < megabytes << 20 {
            let html = try String(decoding: Data(contentsOf: files[index % files.count]), as: UTF8.self)
            // Each page's body becomes one more article on the big page.
            let body = html.range(of: "<body").map { String(html[$0.lowerBound...]) } ?? html
            page.append(Data("<div class=\"part\">\(body)</div>".utf8))
            index += 1
        }
        let before = peakResidentMegabytes()
        let start = ContinuousClock.now
        let article = Extractor.extract(page)
        let seconds = (ContinuousClock.now - start) / .seconds(1)
        emit([
            "bench": "extract-memory", "page_mb": (Double(page.count) / 1e6 * 10).rounded() / 10,
            "paragraphs": article.paragraphs.count, "seconds": (seconds * 1000).rounded() / 1000,
            "peak_rss_mb_before": before, "peak_rss_mb": peakResidentMegabytes(),
        ])
    }

    private static func peakResidentMegabytes() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_maxrss / 1024
    }
}
