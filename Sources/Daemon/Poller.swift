import Archive
import Extraction
import Feeds
import Fetching
import Foundation
import Logging
import NewsCore

/// Polls feeds and archives the articles they link to.
///
/// One poll of a feed: a conditional GET; on 304, or bytes identical to last time, nothing but the poll
/// is recorded. Otherwise the feed document is archived as a blob, parsed, and every linked article not yet
/// archived is fetched, cleaned and stored (page, capture, text and change-log rows in one transaction).
actor Poller {
    private let archive: Archive
    private let fetcher: Fetcher
    private let nodeID: String
    private let logger: Logger
    private let events: EventHub
    private var settings: Settings
    private var inFlight: [URL: Task<FeedStatus?, Never>] = [:]

    struct Settings {
        var feeds: [FeedConfig]
        var pollInterval: Double
        var limits: FetchLimits
    }

    init(archive: Archive, fetcher: Fetcher, nodeID: String, settings: Settings, events: EventHub, logger: Logger) {
        self.archive = archive
        self.fetcher = fetcher
        self.nodeID = nodeID
        self.settings = settings
        self.events = events
        self.logger = logger
    }

    /// The feeds due at `date`, and when the next one after them is due.
    func due(at date: Date) throws -> (feeds: [FeedConfig], next: Date) {
        var due: [FeedConfig] = []
        var next = date.addingTimeInterval(settings.pollInterval)
        for feed in settings.feeds {
            let when = try archive.feedState(url: feed.url.absoluteString).nextPollAt ?? date
            if when <= date { due.append(feed) } else { next = min(next, when) }
        }
        return (due, next)
    }

    /// Polls `feeds` now, at most a few at a time; a poll already under way for a feed is joined, not repeated.
    func poll(_ feeds: [FeedConfig]) async -> [FeedStatus] {
        let tasks = feeds.map { feed in
            if let running = inFlight[feed.url] { return running }
            let task = Task { await self.pollOnce(feed) }
            inFlight[feed.url] = task
            return task
        }
        var results: [FeedStatus] = []
        for (feed, task) in zip(feeds, tasks) {
            if let status = await task.value { results.append(status) }
            inFlight[feed.url] = nil
        }
        return results
    }

    /// Every configured feed.
    var feeds: [FeedConfig] { settings.feeds }

    private func pollOnce(_ feed: FeedConfig) async -> FeedStatus? {
        let url = feed.url.absoluteString
        let started = Date()
        let interval = feed.interval ?? settings.pollInterval
        do {
            let state = try archive.feedState(url: url)
            let result: PollResult
            var title: String?
            do {
                (result, title) = try await fetchAndStore(feed, state: state)
            } catch let error as PollFailure {
                result = .error(error.message)
            }
            let next: Date
            if case .error(let message) = result {
                // Back off on failure, but never give up on a feed: it retries at least once per interval.
                let backoff = min(interval, 60 * pow(2, Double(min(state.errorCount, 16))))
                next = Date().addingTimeInterval(backoff)
                logger.warning("poll failed", metadata: ["feed": "\(url)", "error": "\(message)"])
            } else {
                next = Date().addingTimeInterval(interval)
                logger.info(
                    "polled",
                    metadata: [
                        "feed": "\(url)", "result": "\(result.name)", "ms": "\(Int(-started.timeIntervalSinceNow * 1000))",
                    ])
            }
            try archive.recordPoll(url: url, at: started, result: result, title: title, next: next)
            let status = try archive.feedStatuses(urls: [url]).first
            if let status { events.publish(.polled(status)) }
            return status
        } catch {
            logger.error("cannot record poll", metadata: ["feed": "\(url)", "error": "\(error)"])
            return nil
        }
    }

    private struct PollFailure: Error {
        let message: String
    }

    private func fetchAndStore(_ feed: FeedConfig, state: FeedState) async throws -> (PollResult, String?) {
        var request = FetchRequest(url: feed.url, limits: settings.limits, allowFiles: feed.url.isFileURL)
        request.addValidators(etag: state.etag, lastModified: state.lastModified)
        let response: FetchResponse
        do {
            response = try await fetcher.fetch(request)
        } catch {
            throw PollFailure(message: error.description)
        }
        if response.status == 304 { return (.notModified, nil) }
        guard response.status == 200 else { throw PollFailure(message: "HTTP \(response.status)") }
        let hash = ContentHash(of: response.body)
        if hash == state.lastHash { return (.notModified, nil) }
        // What the feed said, and when, is evidence too: the document is captured like a page.
        // Bytes already captured from this URL (a poll that failed further on) are not captured again.
        if try !archive.hasCapture(url: feed.url.absoluteString, blobHash: hash) {
            let document = capture(of: response, requested: feed.url, article: nil)
            try archive.store(Ingest(feed: nil, article: nil, capture: document, raw: response.body, text: nil, extraction: nil))
        }
        let parsed: ParsedFeed
        do {
            parsed = try FeedParser.parse(response.body, url: response.finalURL)
        } catch {
            throw PollFailure(message: error.description)
        }
        var failures: [String] = []
        for entry in parsed.entries {
            guard let link = entry.link else { continue }
            do {
                try await archiveArticle(link, entryID: entry.id, feed: feed)
            } catch {
                failures.append("\(link.absoluteString): \(error)")
            }
        }
        if let last = failures.last {
            // Validators are not remembered, so the next poll retries the articles that failed.
            throw PollFailure(message: "\(failures.count) of \(parsed.entries.count) articles failed; \(last)")
        }
        let ok = PollResult.ok(etag: response.header("etag"), lastModified: response.header("last-modified"), hash: hash)
        return (ok, parsed.title)
    }

    /// The capture record of a response this node just received.
    private func capture(of response: FetchResponse, requested url: URL, article: ArticleRecord?) -> CaptureRecord {
        CaptureRecord(
            articleID: article?.id, url: url.absoluteString, finalURL: response.finalURL.absoluteString,
            fetchedAt: Canonical.timestamp(Date()), status: response.status, contentType: response.header("content-type"),
            etag: response.header("etag"), lastModified: response.header("last-modified"),
            blobHash: ContentHash(of: response.body), size: response.body.count, nodeID: nodeID)
    }

    /// Fetches, cleans and stores one article unless this archive already holds it.
    private func archiveArticle(_ link: URL, entryID: String, feed: FeedConfig) async throws {
        let feedURL = feed.url.absoluteString
        if try archive.linkExisting(articleURL: link.absoluteString, feedURL: feedURL, entryID: entryID) { return }
        // Only a feed the user configured as a local file may link to local files.
        let request = FetchRequest(url: link, limits: settings.limits, allowFiles: feed.url.isFileURL)
        let response = try await fetcher.fetch(request)
        guard response.status == 200 else {
            throw FetchError.transport(code: response.status, message: "HTTP \(response.status)")
        }
        let article = ArticleRecord(url: link.absoluteString)
        let capture = capture(of: response, requested: link, article: article)
        let extracted = Extractor.extract(response.body, url: response.finalURL)
        var text: TextRecord?
        var extraction: ExtractionRecord?
        if !extracted.paragraphs.isEmpty {
            let record = TextRecord(
                title: extracted.title, byline: extracted.byline, published: extracted.published, language: extracted.language,
                body: extracted.body)
            text = record
            extraction = ExtractionRecord(captureID: capture.id, textID: record.id, extractor: Extractor.version)
        }
        try archive.store(
            Ingest(
                feed: (feedURL, entryID), article: article, capture: capture, raw: response.body, text: text,
                extraction: extraction))
    }
}
