import Archive
import Extraction
import Feeds
import Fetching
import Foundation
import Logging
import NewsCore
import Synchronization

/// Polls feeds and archives the articles they link to.
///
/// One poll of a feed: a conditional GET; on 304, or bytes identical to last time, nothing but the poll
/// is recorded. Otherwise the feed document is captured, parsed, and every linked article not yet
/// archived is fetched, cleaned and stored (page, capture, text and change-log rows in one transaction).
final class Poller: Sendable {
    private let archive: Archive
    private let fetcher: Fetcher
    private let key: NodeKey
    private let logger: Logger
    private let events: EventHub
    private let metrics: Metrics
    private let cleaner: Cleaner
    /// Articles fetched at once are written in shared transactions.
    private let commits: GroupCommit
    private let settings: Mutex<Settings>
    private let inFlight = Mutex<[Int64: Task<FeedStatus?, Never>]>([:])
    /// Set once the daemon stops: polls under way fetch no further article.
    private let stopping = Mutex(false)
    /// When polls under way last moved: a poll began or ended, or a fetch ended.
    private let lastStep = Mutex(ContinuousClock.now)

    /// What a configuration reload may change.
    struct Settings {
        var schedule: PollSchedule
        var limits: FetchLimits
        var proxy: String?
        /// Seconds after an article's first capture at which it is revisited.
        var revisitAfter: [Double]
    }

    init(
        archive: Archive, fetcher: Fetcher, key: NodeKey, settings: Settings, events: EventHub, metrics: Metrics, logger: Logger
    ) {
        self.archive = archive
        self.fetcher = fetcher
        self.key = key
        self.settings = Mutex(settings)
        self.events = events
        self.metrics = metrics
        self.cleaner = Cleaner(archive: archive, metrics: metrics)
        self.commits = GroupCommit(archive: archive)
        self.logger = logger
    }

    /// Fetches no further article in the polls under way; what was fetched is still stored. The fetcher is stopped
    /// apart, which ends the transfers in flight.
    func stop() { stopping.withLock { $0 = true } }

    /// How many feeds are being polled right now.
    var polling: Int { inFlight.withLock { $0.count } }

    /// Whether polls are under way but none has moved for longer than any step may take at `instant`: every fetch ends
    /// within the connect and total timeouts, so a poll that goes longer without one ending (or storing what it got)
    /// is stuck. The daemon stops feeding systemd's watchdog then.
    func stalled(at instant: ContinuousClock.Instant) -> Bool {
        let limits = settings.withLock { $0.limits }
        let bound = Duration.seconds(limits.connectTimeout + limits.totalTimeout) + Self.storingGrace
        return polling > 0 && instant - lastStep.withLock { $0 } > bound
    }

    /// What storing and cleaning a fetched page may take, beyond the fetch, before a poll counts as stuck.
    static let storingGrace = Duration.seconds(60)

    private func stepped() { lastStep.withLock { $0 = .now } }

    /// Replaces the schedule, limits and proxy (a reloaded configuration).
    func update(_ settings: Settings) { self.settings.withLock { $0 = settings } }

    /// The feeds due at `date`, and when the next one after them is due.
    func due(at date: Date) throws -> (feeds: [Feed], next: Date) {
        var due: [Feed] = []
        var next = date.addingTimeInterval(settings.withLock { $0.schedule.pollInterval })
        for feed in try archive.activeFeeds() {
            let when = feed.nextPollAt ?? date
            if when <= date { due.append(feed) } else { next = min(next, when) }
        }
        return (due, next)
    }

    /// Polls the active feeds (those whose URL or location is `only`, if given) now.
    func pollNow(only url: String? = nil) async throws -> [FeedStatus] {
        let feeds = try archive.activeFeeds().filter { url == nil || $0.url == url || $0.location == url }
        return await poll(feeds)
    }

    /// Polls `feeds` now; a poll already under way for a feed is joined, not repeated.
    func poll(_ feeds: [Feed]) async -> [FeedStatus] {
        let tasks = feeds.map { feed in
            inFlight.withLock { running in
                if let task = running[feed.id] { return task }
                stepped()
                let task = Task { await self.pollOnce(feed) }
                running[feed.id] = task
                return task
            }
        }
        var results: [FeedStatus] = []
        for (feed, task) in zip(feeds, tasks) {
            let status = await task.value
            stepped()
            if let status { results.append(status) }
            let ended = inFlight.withLock { running in
                guard running[feed.id] == task else { return false }
                running[feed.id] = nil
                return true
            }
            // Told once per poll, by whoever saw it end, and only once it no longer counts as under way: whoever
            // listens (the compaction loop) then sees the poller idle.
            if ended, let status { events.publish(.polled(status)) }
        }
        return results
    }

    private func pollOnce(_ feed: Feed) async -> FeedStatus? {
        let started = Date()
        let settings = self.settings.withLock { $0 }
        let record: PollRecord
        do {
            record = try await fetchAndStore(feed, settings: settings, started: started)
        } catch {
            record = failure(feed, message: "\(error)", retryAfter: nil, settings: settings, at: started)
        }
        do {
            try archive.recordPoll(feed: feed.id, record)
            metrics.count("newsd_polls_total", ["result": record.result.name])
            let status = try archive.feedStatuses(only: feed.id).first
            if let move = record.movedTo {
                logger.notice(
                    "feed moved permanently",
                    metadata: [
                        "feed": "\(feed.url)", "from": "\(feed.location)", "to": "\(move.location)", "status": "\(move.status)",
                    ])
            }
            if case .error(let message) = record.result {
                logger.warning("poll failed", metadata: ["feed": "\(feed.url)", "error": "\(message)"])
            } else {
                let milliseconds = Int(-started.timeIntervalSinceNow * 1000)
                logger.info(
                    "polled", metadata: ["feed": "\(feed.url)", "result": "\(record.result.name)", "ms": "\(milliseconds)"])
            }
            return status
        } catch {
            logger.error("cannot record poll", metadata: ["feed": "\(feed.url)", "error": "\(error)"])
            // Whoever asked still learns the outcome, over the feed as last recorded: a full disk must not make a poll
            // end in silence.
            guard var status = try? archive.feedStatuses(only: feed.id).first else { return nil }
            status.lastPollAt = started
            status.lastResult = "error"
            let failure: String? = if case .error(let message) = record.result { message } else { nil }
            status.lastError = [failure, "not recorded: \(error)"].compactMap { $0 }.joined(separator: "; ")
            return status
        }
    }

    private func failure(_ feed: Feed, message: String, retryAfter: Double?, settings: Settings, at date: Date) -> PollRecord {
        let next = settings.schedule.next(afterFailure: feed.errorCount + 1, at: date, retryAfter: retryAfter)
        return PollRecord(at: date, result: .error(message), next: next)
    }

    private func fetchAndStore(_ feed: Feed, settings: Settings, started: Date) async throws -> PollRecord {
        guard let location = URL(string: feed.location) else { throw PollFailure("bad feed URL \(feed.location)") }
        var request = FetchRequest(
            url: location, headers: feed.settings.headers.sorted { $0.key < $1.key }.map { ($0.key, $0.value) },
            limits: settings.limits, allowFiles: location.isFileURL, proxy: feed.settings.proxy ?? settings.proxy,
            userAgent: feed.settings.userAgent)
        request.addValidators(etag: feed.etag, lastModified: feed.lastModified)
        let response = try await fetch(request)
        var record = try await process(response, of: feed, from: location, settings: settings, started: started)
        if let moved = response.permanentlyMovedTo, moved.absoluteString != feed.location {
            record.movedTo = (moved.absoluteString, response.redirects.last ?? 301)
        }
        return record
    }

    /// What a feed's response means: not modified, a failure to retry later, or a new document whose
    /// articles are archived.
    private func process(
        _ response: FetchResponse, of feed: Feed, from location: URL, settings: Settings, started: Date
    ) async throws -> PollRecord {
        func unchanged() -> PollRecord {
            PollRecord(
                at: started, result: .notModified,
                next: settings.schedule.next(after: Date(), feed: feed, responseHeaders: response.headers))
        }
        switch response.status {
        case 304:
            guard feed.etag != nil || feed.lastModified != nil else {
                throw PollFailure("HTTP 304 to a request without validators")
            }
            return unchanged()
        case 200: break
        case 429, 503:
            let wait = PollSchedule.retryAfter(response.header("retry-after"), now: Date())
            return failure(
                feed, message: "HTTP \(response.status)" + (wait.map { ", retry after \(Int($0)) s" } ?? ""), retryAfter: wait,
                settings: settings, at: started)
        default: throw PollFailure("HTTP \(response.status)")
        }
        let document = HashedBytes(response.body)
        let hash = document.hash
        if hash == feed.lastHash { return unchanged() }
        // What the feed said, and when, is evidence too: the document is captured like a page,
        // once per distinct bytes (a poll that failed further on does not capture it again).
        if try !archive.hasCapture(url: feed.location, blobHash: hash) {
            let capture = capture(of: response, page: document, requested: location, article: nil)
            _ = try await commits.store(
                archive.prepare(
                    Ingest(feed: nil, article: nil, capture: capture, raw: document, text: nil, extraction: nil),
                    signingWith: key))
        }
        let parsed: ParsedFeed
        do {
            parsed = try FeedParser.parse(response.body, url: response.finalURL, contentType: response.header("content-type"))
        } catch {
            throw PollFailure(error.description)
        }
        // Articles are fetched side by side, as many at a time as the fetcher has connections; its per-host cap and
        // politeness delay decide how fast one site is asked. A fetched page no longer holds its place among them while
        // it is cleaned and waits for the disk: as many again may be at that stage (with one place each, the cores sat
        // idle through every sync to disk whenever the fetches came faster than the storing).
        let linked = parsed.entries.compactMap { entry in entry.link.map { (entry, $0) } }
        let mayReachLocal = feed.settings.allowPrivate || response.address.map { LocalAddress.isLocal($0) } ?? true
        let fetches = Slots(fetcher.options.maxConnections)
        let window = 2 * max(1, fetcher.options.maxConnections)
        var failures: [String] = []
        var launched = 0
        await withTaskGroup(of: String?.self) { group in
            for (entry, link) in linked {
                if stopping.withLock({ $0 }) { break }
                if launched >= window, let failure = await group.next() ?? nil { failures.append(failure) }
                launched += 1
                group.addTask {
                    do {
                        try await self.archiveArticle(
                            entry, link: link, feed: feed, feedIsLocal: location.isFileURL, mayReachLocal: mayReachLocal,
                            settings: settings, fetches: fetches)
                        return nil
                    } catch {
                        return "\(link.absoluteString): \(error)"
                    }
                }
            }
            for await failure in group { if let failure { failures.append(failure) } }
        }
        if launched < linked.count {
            // Validators are not remembered, so the next poll after the restart fetches the rest.
            throw PollFailure(
                "newsd stopped during the poll; \(linked.count - launched) of \(parsed.entries.count) articles were left for "
                    + "the next poll")
        }
        if let last = failures.last {
            // Validators are not remembered, so the next poll retries the articles that failed.
            throw PollFailure("\(failures.count) of \(parsed.entries.count) articles failed; \(last)")
        }
        let hints = FeedHints(
            ttl: parsed.ttl, skipHours: parsed.skipHours, skipDays: parsed.skipDays,
            adaptiveInterval: settings.schedule.adaptiveInterval(
                entryDates: parsed.entries.compactMap { $0.published ?? $0.updated }))
        var updated = feed
        updated.hints = hints
        return PollRecord(
            at: started,
            result: .ok(etag: response.header("etag"), lastModified: response.header("last-modified"), hash: hash, hints: hints),
            next: settings.schedule.next(after: Date(), feed: updated, responseHeaders: response.headers), title: parsed.title,
            site: parsed.link?.absoluteString, warnings: parsed.warnings)
    }

    /// The capture record of a response this node just received, to be signed as it is prepared for storing.
    private func capture(
        of response: FetchResponse, page: HashedBytes, requested url: URL, article: ArticleRecord?
    ) -> CaptureRecord {
        CaptureRecord(
            articleID: article?.id, url: url.absoluteString, finalURL: response.finalURL.absoluteString,
            fetchedAt: Canonical.timestamp(Date()), status: response.status, contentType: response.header("content-type"),
            etag: response.header("etag"), lastModified: response.header("last-modified"),
            blobHash: page.hash, size: page.bytes.count, nodeID: key.record.id.hex)
    }

    /// Fetches, cleans and stores one article unless this archive holds it as the entry now describes it.
    ///
    /// An entry that changed (see ``Archive/entryState(articleURL:entry:)``) has its
    /// article fetched again, conditionally: a page that changed becomes a new capture, and a new version
    /// if its cleaned text changed too; nothing is overwritten.
    ///
    /// Only a feed that is a local file may link to local files, and only a feed on a local address (or one whose entry
    /// says `allow_private`) to local addresses: `mayReachLocal`. The fetch waits for one of `fetches`.
    private func archiveArticle(
        _ entry: FeedEntry, link: URL, feed: Feed, feedIsLocal: Bool, mayReachLocal: Bool, settings: Settings, fetches: Slots
    ) async throws {
        let version = Self.version(of: entry)
        let membership = FeedLink(url: feed.url, entryID: entry.id, version: version, title: entry.title)
        let state = try archive.entryState(articleURL: link.absoluteString, entry: membership)
        var request = articleRequest(link, feed: feed, feedIsLocal: feedIsLocal, mayReachLocal: mayReachLocal, settings: settings)
        switch state {
        case .current: return
        case .new: break
        case .changed(let last): request.addValidators(etag: last.etag, lastModified: last.lastModified)
        }
        let response = try await fetches.run { try await fetch(request) }
        let page = HashedBytes(response.body)
        if case .changed(let last) = state, response.status == 304 || page.hash == last.blobHash {
            return try archive.entryIsCurrent(articleURL: link.absoluteString, entry: membership)
        }
        guard response.status == 200 else { throw PollFailure("HTTP \(response.status)") }
        // An article captured for the first time teaches its host's template and gets its first revisit, in the
        // article's own transaction.
        let now = Date()
        let firstRevisit: PlannedRevisit? =
            if case .new = state, let first = settings.revisitAfter.first {
                PlannedRevisit(feedID: feed.id, firstAt: now, due: now.addingTimeInterval(first))
            } else { nil }
        try await store(response, page: page, link: link, membership: membership, new: state == .new, revisit: firstRevisit)
    }

    /// The request for an article `feed` links to: the feed's own headers (a token, a cookie) go with its articles of
    /// the same origin (scheme, host and port), and nowhere else.
    private func articleRequest(
        _ link: URL, feed: Feed?, feedIsLocal: Bool, mayReachLocal: Bool, settings: Settings
    ) -> FetchRequest {
        func origin(_ url: URL?) -> String? {
            guard let url, let host = url.host?.lowercased() else { return nil }
            return "\(url.scheme?.lowercased() ?? "")://\(host):\(url.port.map(String.init) ?? "")"
        }
        let sameHost = origin(link) != nil && origin(link) == origin(feed.flatMap { URL(string: $0.location) })
        var request = FetchRequest(
            url: link,
            headers: sameHost ? (feed?.settings.headers ?? [:]).sorted { $0.key < $1.key }.map { ($0.key, $0.value) } : [],
            limits: settings.limits, allowFiles: feedIsLocal, proxy: feed?.settings.proxy ?? settings.proxy,
            userAgent: feed?.settings.userAgent)
        request.allowLocalAddresses = mayReachLocal
        return request
    }

    /// Cleans and stores a fetched article page: its capture, and the text made of it; for an article captured for the
    /// first time (`new`), its blocks toward its host's template and its first revisit (`revisit`), in the same
    /// transaction.
    private func store(
        _ response: FetchResponse, page: HashedBytes, link: URL, membership: FeedLink?, new: Bool = false,
        revisit: PlannedRevisit? = nil
    ) async throws {
        let article = ArticleRecord(url: link.absoluteString)
        let capture = capture(of: response, page: page, requested: link, article: article)
        let cleaned = cleaner.clean(response.body, capture: capture)
        let records = cleaned.records(capture: capture.id, node: key.record.id.hex)
        _ = try await commits.store(
            archive.prepare(
                Ingest(
                    feed: membership, article: article, capture: capture, raw: page, text: records?.text,
                    extraction: records?.extraction, firstRevisit: revisit,
                    templateSample: new ? cleaner.sample(of: cleaned, capture: capture) : nil),
                signingWith: key))
        metrics.count("newsd_articles_stored_total")
    }

    /// Fetches again, conditionally, the articles due for a revisit (at most `budget`, the longest overdue first), and
    /// stores each page that changed as a new capture (and version, if its text changed): an edit its feed did not
    /// announce. Returns how many were revisited and found changed, and when the next revisit is due.
    func revisitDue(budget: Int) async throws -> (revisited: Int, changed: Int, next: Date?) {
        let settings = self.settings.withLock { $0 }
        let now = Date()
        let spent = try archive.revisitDay(of: now)?.requests ?? 0
        let (due, next) = try archive.dueRevisits(at: now, limit: max(0, min(budget - spent, 1024)))
        guard !due.isEmpty else { return (0, 0, next) }
        let feeds = Dictionary(try archive.activeFeeds().map { ($0.id, $0) }) { first, _ in first }
        let window = max(1, fetcher.options.maxConnections)
        let changed = await withTaskGroup(of: Bool.self) { group in
            var changed = 0
            for (index, revisit) in due.enumerated() {
                if stopping.withLock({ $0 }) { break }
                if index >= window, await group.next() == true { changed += 1 }
                group.addTask {
                    do {
                        return try await self.revisit(revisit, feed: revisit.feedID.flatMap { feeds[$0] }, settings: settings)
                    } catch {
                        self.logger.info("revisit failed", metadata: ["url": "\(revisit.url)", "error": "\(error)"])
                        return false
                    }
                }
            }
            for await found in group where found { changed += 1 }
            return changed
        }
        let later = try archive.dueRevisits(at: Date(), limit: 1)
        return (due.count, changed, later.due.isEmpty ? later.next : Date())
    }

    /// One revisit: whether the page changed. A page that is gone (or an error) counts as a revisit too, and the
    /// schedule goes on.
    private func revisit(_ revisit: Revisit, feed: Feed?, settings: Settings) async throws -> Bool {
        guard let link = URL(string: revisit.url) else { return false }
        let feedLocation = feed.flatMap { URL(string: $0.location) }
        let feedIsLocal = feedLocation?.isFileURL ?? false
        let mayReachLocal =
            feed?.settings.allowPrivate == true || feedIsLocal
            || feedLocation?.host.map { LocalAddress.isLocal(host: $0) } == true
        var request = articleRequest(link, feed: feed, feedIsLocal: feedIsLocal, mayReachLocal: mayReachLocal, settings: settings)
        let last = try archive.lastCapture(of: revisit.articleID)
        request.addValidators(etag: last?.etag, lastModified: last?.lastModified)
        let schedule = settings.revisitAfter
        let next = revisit.step + 1 < schedule.count ? revisit.firstAt.addingTimeInterval(schedule[revisit.step + 1]) : nil
        let response: FetchResponse
        do {
            response = try await fetch(request)
        } catch {
            try archive.revisited(revisit, at: Date(), next: next, bytes: 0, changed: false)
            throw error
        }
        let page = HashedBytes(response.body)
        let changed = response.status == 200 && page.hash != last?.blobHash
        if changed {
            try await store(response, page: page, link: link, membership: nil)
            logger.notice("page changed since its last capture", metadata: ["url": "\(revisit.url)"])
        }
        try archive.revisited(revisit, at: Date(), next: next, bytes: response.body.count, changed: changed)
        metrics.count(
            "newsd_revisits_total",
            ["result": changed ? "changed" : response.status == 200 || response.status == 304 ? "unchanged" : "error"])
        return changed
    }

    /// Fetches through the shared fetcher, counting time and bytes.
    private func fetch(_ request: FetchRequest) async throws(FetchError) -> FetchResponse {
        let start = ContinuousClock.now
        defer {
            stepped()
            metrics.observe("newsd_fetch_seconds", seconds: (ContinuousClock.now - start) / .seconds(1))
        }
        let response = try await fetcher.fetch(request)
        metrics.count("newsd_fetched_bytes_total", by: Double(response.body.count))
        return response
    }

    /// A digest of what an entry says about its article: when it changes, the article may have.
    static func version(of entry: FeedEntry) -> String {
        let parts = [
            entry.updated.map(Canonical.timestamp), entry.published.map(Canonical.timestamp), entry.title, entry.summary,
            entry.content,
        ]
        return String(ContentHash(ofText: parts.map { $0 ?? "" }.joined(separator: "\u{1F}")).hex.prefix(32))
    }
}

/// A poll that failed, with the reason shown in status.
struct PollFailure: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) { self.description = description }
}
