import Archive
import Crypto
import Feeds
import Fetching
import Foundation
import Hummingbird
import NewsCore

/// The control API newsctl speaks over the Unix socket: HTTP with JSON bodies. Errors are
/// `{"error":{"message":"…"}}` with a 4xx or 5xx status.
extension Daemon {
    /// The control API's routes, in collections by what they concern.
    func controlRoutes() -> Router<BasicRequestContext> {
        let router = Router()
        addNodeRoutes(to: router)
        addFeedRoutes(to: router)
        addArticleRoutes(to: router)
        addPeerRoutes(to: router)
        addTransferRoutes(to: router)
        return router
    }

    /// The node: status, metrics, polls and syncs asked for now, verification and backups.
    private func addNodeRoutes(to router: Router<BasicRequestContext>) {
        router.get(RouterPath(ControlPath.status)) { _, _ in try await JSONBody(self.status()) }
        router.get(RouterPath(ControlPath.metrics)) { _, _ in try self.metricsResponse() }
        router.post(RouterPath(ControlPath.poll)) { request, _ in
            let feed = request.uri.queryParameters.get("feed")
            let polled = try await self.poller.pollNow(only: feed)
            if let feed, polled.isEmpty { throw HTTPError(.notFound, message: "\(feed) is not a feed") }
            if feed == nil { _ = try await self.poller.revisitDue(budget: self.current.revisitBudget) }
            return JSONBody(polled)
        }
        router.post(RouterPath(ControlPath.sync)) { request, _ in
            let peer = request.uri.queryParameters.get("peer")
            let synced = await self.syncer.syncAll(only: peer)
            if let peer, synced.isEmpty { throw HTTPError(.notFound, message: "\(peer) is not a peer") }
            return JSONBody(synced)
        }
        router.post(RouterPath(ControlPath.verify)) { request, _ in
            self.verify(reextract: request.uri.queryParameters.get("reextract") == "1")
        }
        router.post(RouterPath(ControlPath.timestamp)) { _, _ in
            await JSONBody(self.timestamper.round(self.current, onlyDue: false).result)
        }
        router.post(RouterPath(ControlPath.backup)) { _, _ in self.backup() }
        router.get(RouterPath(ControlPath.backup)) { request, _ in
            guard let name = request.uri.queryParameters.get("name") else {
                throw HTTPError(.badRequest, message: "name the backup copy: ?name=")
            }
            return try self.backupFile(name)
        }
    }

    /// Feeds: their state, adding and removing them, OPML in and out.
    private func addFeedRoutes(to router: Router<BasicRequestContext>) {
        router.get(RouterPath(ControlPath.feeds)) { _, _ in try JSONBody(self.archive.feedStatuses()) }
        router.post(RouterPath(ControlPath.feeds)) { request, context in
            let feed = try await request.decode(as: FeedConfig.self, context: context)
            return try await JSONBody(self.addFeed(feed))
        }
        router.delete(RouterPath(ControlPath.feeds)) { request, _ -> Response in
            guard let url = request.uri.queryParameters.get("url") else {
                throw HTTPError(.badRequest, message: "url is required")
            }
            do {
                try self.archive.removeFeed(url: url)
            } catch let error as FeedListError {
                throw HTTPError(.conflict, message: error.description)
            }
            return Response(status: .noContent)
        }
        router.get(RouterPath(ControlPath.feedsOPML)) { _, _ in try self.opmlExport() }
        router.post(RouterPath(ControlPath.feedsOPML)) { request, _ in
            let body = try await request.body.collect(upTo: 16 << 20)
            return try JSONBody(self.importOPML(Data(buffer: body)))
        }
    }

    /// Articles: lists, one with its provenance, annotations, re-extraction, stories and search.
    private func addArticleRoutes(to router: Router<BasicRequestContext>) {
        router.get(RouterPath(ControlPath.articles)) { request, _ in
            let query = request.uri.queryParameters
            func date(_ key: String) throws -> Date? {
                guard let text = query.get(key) else { return nil }
                guard let date = try? Date.ISO8601FormatStyle().parse(text) else {
                    throw HTTPError(.badRequest, message: "\(key) is not an ISO 8601 time")
                }
                return date
            }
            return try JSONBody(
                self.archive.articles(
                    feed: query.get("feed"), since: try date("since"), until: try date("until"), tag: query.get("tag"),
                    includeHidden: query.get("hidden") == "1", limit: query.get("limit", as: Int.self) ?? 50))
        }
        router.get(RouterPath(ControlPath.edits)) { request, _ in
            let query = request.uri.queryParameters
            let since = try query.get("since").map { value in
                guard let date = Canonical.date(value) else {
                    throw HTTPError(.badRequest, message: "since must be a timestamp like 2026-11-27T00:00:00.000Z")
                }
                return date
            }
            return try JSONBody(self.edits(since: since, limit: query.get("limit").flatMap { Int($0) } ?? 50))
        }
        router.get(RouterPath(ControlPath.prove)) { request, _ in
            guard let reference = request.uri.queryParameters.get("ref") else {
                throw HTTPError(.badRequest, message: "ref is required")
            }
            return try self.proof(reference)
        }
        router.get(RouterPath(ControlPath.article)) { request, _ in
            guard let reference = request.uri.queryParameters.get("ref") else {
                throw HTTPError(.badRequest, message: "ref is required")
            }
            do {
                return try JSONBody(self.archive.article(reference, localNode: self.identity.nodeID))
            } catch let error as ArticleLookupError {
                throw HTTPError(.notFound, message: error.description)
            }
        }
        router.post(RouterPath(ControlPath.annotations)) { request, context in
            let asked = try await request.decode(as: AnnotationRequest.self, context: context)
            do {
                return try JSONBody(self.archive.annotate(asked, key: self.identity.key))
            } catch let error as ArticleLookupError {
                throw HTTPError(.notFound, message: error.description)
            } catch let error as IntegrityError {
                throw HTTPError(.badRequest, message: error.description)
            }
        }
        router.post(RouterPath(ControlPath.reextract)) { request, _ in
            let article = request.uri.queryParameters.get("article")
            guard article != nil || request.uri.queryParameters.get("all") == "1" else {
                throw HTTPError(.badRequest, message: "name an article, or all=1")
            }
            do {
                return try await JSONBody(self.reextract(article: article))
            } catch let error as ArticleLookupError {
                throw HTTPError(.notFound, message: error.description)
            }
        }
        router.get(RouterPath(ControlPath.stories)) { request, _ in
            let minimum = request.uri.queryParameters.get("min", as: Int.self) ?? 2
            let limit = request.uri.queryParameters.get("limit", as: Int.self) ?? 100
            return try JSONBody(self.archive.stories(minimumMembers: max(1, minimum), limit: max(1, min(limit, 10_000))))
        }
        router.get(RouterPath(ControlPath.events)) { request, _ in
            let minimum = request.uri.queryParameters.get("min", as: Int.self) ?? 2
            let limit = request.uri.queryParameters.get("limit", as: Int.self) ?? 100
            return try JSONBody(self.archive.events(minimumTexts: max(1, minimum), limit: max(1, min(limit, 10_000))))
        }
        router.get(RouterPath(ControlPath.event)) { request, _ in
            let id = request.uri.queryParameters.get("id") ?? ""
            guard let event = try self.archive.event(id) else {
                throw HTTPError(
                    .notFound, message: "no event has the id \(id) (8 or more hex digits, as `newsctl stories` shows)")
            }
            return JSONBody(event)
        }
        router.post(RouterPath(ControlPath.search)) { request, context in
            let query = try await request.decode(as: SearchQuery.self, context: context)
            do {
                let (hits, variants) = try self.archive.searchWithVariants(query)
                var response = try JSONBody(hits).response(from: request, context: context)
                if query.variants == true,
                    let used = String(data: try JSONCoding.encoder().encode(variants), encoding: .utf8)?
                        .addingPercentEncoding(withAllowedCharacters: .alphanumerics)
                {
                    response.headers[HTTPFields.Element.Name("X-Newsd-Variants")!] = used
                }
                return response
            } catch let error as SearchError {
                throw HTTPError(.badRequest, message: error.description)
            }
        }
    }

    /// Peers added and removed at run time.
    private func addPeerRoutes(to router: Router<BasicRequestContext>) {
        router.post(RouterPath(ControlPath.peers)) { request, context in
            let peer = try await request.decode(as: PeerConfig.self, context: context)
            return try JSONBody(self.addPeer(peer))
        }
        router.delete(RouterPath(ControlPath.peers)) { request, _ -> Response in
            guard let name = request.uri.queryParameters.get("name") else {
                throw HTTPError(.badRequest, message: "name is required")
            }
            if self.current.peers.contains(where: { $0.name == name }) {
                throw HTTPError(.conflict, message: "\(name) is declared in the configuration file: remove it there")
            }
            guard try self.archive.removeAddedPeer(named: name) else {
                throw HTTPError(.notFound, message: "no peer \(name)")
            }
            try self.applyPeers()
            return Response(status: .noContent)
        }
    }

    /// The archive in and out: JSON Lines export and import, WARC.
    private func addTransferRoutes(to router: Router<BasicRequestContext>) {
        router.get(RouterPath(ControlPath.export)) { _, _ in self.export() }
        router.post(RouterPath(ControlPath.exportWARC)) { request, context in
            self.exportWARC(
                try await request.decode(as: CaptureSelection.self, context: context),
                gzip: request.uri.queryParameters.get("gzip") == "1")
        }
        router.post(RouterPath(ControlPath.exportWACZ)) { request, context in
            try await self.exportWACZ(
                try await request.decode(as: CaptureSelection.self, context: context),
                title: request.uri.queryParameters.get("title") ?? "newsd archive")
        }
        router.post(RouterPath(ControlPath.importLines)) { request, _ in try await JSONBody(self.importLines(request.body)) }
    }

    /// Articles whose text changed after they were first captured (latest change first), with each change.
    func edits(since: Date?, limit: Int) throws -> [ArticleEdits] {
        try archive.changedArticles(since: since, limit: max(1, min(limit, 1000))).compactMap { id in
            let edits = ArticleEdits(try archive.article(id, localNode: identity.nodeID))
            return edits.changes.isEmpty ? nil : edits
        }
    }

    /// The evidence bundle of the article `reference`, as a ZIP file to save.
    func proof(_ reference: String) throws -> Response {
        let bundle: (name: String, data: Data)
        do {
            bundle = try ProofBundle.make(reference, archive: archive, authorities: current.tsas)
        } catch let error as ArticleLookupError {
            throw HTTPError(.notFound, message: error.description)
        }
        return Response(
            status: .ok,
            headers: [.contentType: "application/zip", .contentDisposition: "attachment; filename=\"\(bundle.name)\""],
            body: .init(byteBuffer: ByteBuffer(bytes: bundle.data)))
    }

    /// The feeds as OPML, with their titles and sites.
    func opmlExport() throws -> Response {
        let statuses = Dictionary(try self.archive.feedStatuses().map { ($0.url, $0) }) { first, _ in first }
        let subscriptions = try self.archive.activeFeeds().map { feed in
            var settings = feed.settings
            let status = statuses[feed.url]
            settings.title = settings.title ?? status?.title
            return OPML.Subscription(feed: settings, site: status?.site.flatMap { URL(string: $0) })
        }
        let body = ByteBuffer(string: OPML.export(subscriptions))
        return Response(status: .ok, headers: [.contentType: "text/x-opml; charset=utf-8"], body: .init(byteBuffer: body))
    }

    /// Adds the feeds an OPML document lists (those already there are skipped), and has them polled.
    func importOPML(_ document: Data) throws -> OPMLImport {
        let listed: [OPML.Subscription]
        do {
            listed = try OPML.parse(document)
        } catch {
            throw HTTPError(.badRequest, message: "\(error)")
        }
        var imported = OPMLImport(added: 0, skipped: 0)
        for entry in listed {
            if (try? archive.addFeed(entry.feed, site: entry.site?.absoluteString)) != nil {
                imported.added += 1
            } else {
                imported.skipped += 1
            }
        }
        wakePoller()
        return imported
    }

    /// The Prometheus text of every counter, histogram and archive gauge.
    func metricsResponse() throws -> Response {
        let counts = try archive.counts()
        let text = metrics.render(gauges: [
            "newsd_archive_blob_bytes": Double(counts.blobBytes), "newsd_archive_articles": Double(counts.articles),
            "newsd_archive_captures": Double(counts.captures), "newsd_archive_stored_blob_bytes": Double(counts.storedBlobBytes),
        ])
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// Adds a peer at run time: it may sync with this node from now on, and this node pulls from it.
    private func addPeer(_ peer: PeerConfig) throws -> PeerStatus {
        guard let node = peer.node?.lowercased() else {
            throw HTTPError(.badRequest, message: "a peer needs its node id: 64 hex digits, as `newsctl status` there shows it")
        }
        let added = PeerConfig(name: peer.name, url: peer.url, node: node, pin: peer.pin)
        if let problem = added.problem { throw HTTPError(.badRequest, message: problem.message) }
        guard node != identity.nodeID else { throw HTTPError(.badRequest, message: "that is this node's own id") }
        guard !peer.name.isEmpty, !current.peers.contains(where: { $0.name == peer.name }) else {
            throw HTTPError(.conflict, message: "a peer named \(peer.name) is declared in the configuration file")
        }
        try archive.addPeer(added)
        try applyPeers()
        return try archive.peerStatuses([added])[0]
    }

    /// Checks that `feed` answers with a feed, adds it, and polls it once.
    func addFeed(_ requested: FeedConfig) async throws -> FeedStatus {
        var feed = requested
        feed.url = feed.url.standardized
        guard ["http", "https"].contains(feed.url.scheme?.lowercased() ?? ""), feed.url.host != nil else {
            throw HTTPError(.badRequest, message: "\(feed.url.absoluteString) is not an http or https URL")
        }
        if try archive.activeFeeds().contains(where: {
            $0.url == feed.url.absoluteString || $0.location == feed.url.absoluteString
        }) {
            throw HTTPError(.conflict, message: "\(feed.url.absoluteString) is already a feed")
        }
        let response: FetchResponse
        do {
            response = try await fetcher.fetch(
                FetchRequest(url: feed.url, limits: current.limits, proxy: feed.proxy ?? current.proxy))
        } catch {
            throw HTTPError(.badGateway, message: "\(feed.url.absoluteString) is unreachable: \(error)")
        }
        guard response.status == 200 else {
            throw HTTPError(.badGateway, message: "\(feed.url.absoluteString) answered HTTP \(response.status)")
        }
        do {
            _ = try FeedParser.parse(response.body, url: response.finalURL, contentType: response.header("content-type"))
        } catch {
            throw HTTPError(.unprocessableContent, message: "\(feed.url.absoluteString): \(error)")
        }
        let added: Feed
        do {
            added = try archive.addFeed(feed)
        } catch let error as FeedListError {
            throw HTTPError(.conflict, message: error.description)
        }
        let polled = await poller.poll([added])
        guard let status = polled.first else {
            throw HTTPError(.internalServerError, message: "the new feed could not be polled")
        }
        return status
    }
}

extension Daemon {
    /// Verifies the archive on a thread of its own (it reads everything), streaming progress and then the
    /// report as JSON lines.
    fileprivate func verify(reextract: Bool) -> Response {
        Self.linesOfWork(failure: { VerifyEvent(error: $0) }) { report in
            VerifyEvent(report: try self.verification(reextract: reextract) { report(VerifyEvent(done: $0, total: $1)) })
        }
    }

    /// Verifies the archive, on the calling thread, keeping how far it is and what it found for `status`; with
    /// `reextract`, also makes every text again from its page (``reextractionCheck(_:archive:progress:)``).
    func verification(reextract: Bool, progress: @escaping (_ done: Int, _ total: Int) -> Void = { _, _ in }) throws
        -> VerifyReport
    {
        let archive = self.archive
        verifying.withLock { $0 = Verification(startedAt: Date()) }
        func step(_ done: Int, _ total: Int) {
            verifying.withLock {
                $0?.done = done
                $0?.total = total
            }
            progress(done, total)
        }
        do {
            var verified = try archive.verify(progress: step)
            try timestamper.check(&verified, config: current)
            if reextract { try Self.reextractionCheck(&verified, archive: archive, progress: step) }
            verifying.withLock {
                $0?.report = verified
                $0?.finishedAt = Date()
            }
            return verified
        } catch {
            verifying.withLock {
                $0?.error = "\(error)"
                $0?.finishedAt = Date()
            }
            throw error
        }
    }

    /// Copies the archive to a new file in the data directory on a thread of its own, streaming progress and then the
    /// copy's name, size, SHA-256 and contents as JSON lines; `GET /v1/backup?name=` then hands the file over.
    fileprivate func backup() -> Response {
        let archive = self.archive
        let directory = config.dataDirectory
        Self.removeBackups(in: directory)
        return Self.linesOfWork(failure: { BackupEvent(error: $0) }) { report in
            let name = "backup-\(UUID().uuidString.lowercased()).sqlite"
            let path = directory.appendingPathComponent(name).path
            var result = try archive.backup(to: path) { done, total in report(BackupEvent(done: done, total: total)) }
            let file = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
            defer { try? file.close() }
            var hasher = SHA256()
            var bytes: Int64 = 0
            while let chunk = try file.read(upToCount: 1 << 20), !chunk.isEmpty {
                hasher.update(data: chunk)
                bytes += Int64(chunk.count)
            }
            result.name = name
            result.bytes = bytes
            result.sha256 = hasher.finalize().hexString
            return BackupEvent(backup: result)
        }
    }

    /// Streams the backup copy `name` and removes it once sent (or the transfer broke off).
    fileprivate func backupFile(_ name: String) throws -> Response {
        guard Self.isBackupName(name), !name.contains("/") else {
            throw HTTPError(.badRequest, message: "\(name) is not the name of a backup copy")
        }
        let path = config.dataDirectory.appendingPathComponent(name).path
        guard let file = FileHandle(forReadingAtPath: path) else {
            throw HTTPError(.notFound, message: "no backup copy \(name) (each is handed over once)")
        }
        return Self.handOver(file, at: URL(fileURLWithPath: path), contentType: "application/vnd.sqlite3")
    }

    /// Streams `file` (open on `url`, a file made for this request) and removes it once sent, or once the transfer
    /// broke off.
    private static func handOver(_ file: FileHandle, at url: URL, contentType: String) -> Response {
        Response(
            status: .ok, headers: [.contentType: contentType],
            body: ResponseBody { writer in
                defer {
                    try? file.close()
                    try? FileManager.default.removeItem(at: url)
                }
                while let chunk = try file.read(upToCount: 1 << 20), !chunk.isEmpty {
                    try await writer.write(ByteBuffer(bytes: chunk))
                }
                try await writer.finish(nil)
            })
    }

    /// Whether `name` is that of a backup copy in the data directory (`backup-UUID.sqlite`).
    private static func isBackupName(_ name: String) -> Bool { name.hasPrefix("backup-") && name.hasSuffix(".sqlite") }

    /// Removes backup copies a newsctl never fetched (it was interrupted): one at most is in the making at a time.
    static func removeBackups(in directory: URL) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        for name in names where isBackupName(name) {
            try? FileManager.default.removeItem(at: directory.appendingPathComponent(name))
        }
    }

    /// Runs `work` on a thread of its own (it reads the whole archive), answering with JSON lines: what `work` reports
    /// as it goes, then what it returns, or `failure` with the error.
    private static func linesOfWork<Event: Encodable & Sendable>(
        failure: @escaping @Sendable (String) -> Event,
        _ work: @escaping @Sendable (_ report: @escaping (Event) -> Void) throws -> Event
    ) -> Response {
        let (events, continuation) = AsyncStream<Event>.makeStream(bufferingPolicy: .bufferingNewest(64))
        Thread {
            do {
                continuation.yield(try work { continuation.yield($0) })
            } catch {
                continuation.yield(failure("\(error)"))
            }
            continuation.finish()
        }.start()
        return Response(
            status: .ok, headers: [.contentType: "application/x-ndjson"],
            body: ResponseBody { writer in
                for await event in events {
                    var line = try JSONCoding.encoder().encode(event)
                    line.append(0x0A)
                    try await writer.write(ByteBuffer(bytes: line))
                }
                try await writer.finish(nil)
            })
    }
}

extension Daemon {
    /// The whole archive as JSON Lines, streamed page by page.
    fileprivate func export() -> Response {
        let archive = self.archive
        return Response(
            status: .ok, headers: [.contentType: "application/x-ndjson"],
            body: ResponseBody { writer in
                var after: Int64 = 0
                while true {
                    let page = try archive.exportPage(after: after)
                    guard !page.lines.isEmpty else { break }
                    try await writer.write(ByteBuffer(bytes: Self.jsonLines(page.lines)))
                    after = page.last
                }
                try await writer.finish(nil)
            })
    }

    /// Export lines as JSON Lines, as `newsctl export` writes them.
    static func jsonLines(_ lines: [ExportLine]) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        var buffer = Data()
        for line in lines {
            buffer.append(try encoder.encode(line))
            buffer.append(0x0A)
        }
        return buffer
    }

    /// The export lines of `articles` (ids or URLs), each node once, streamed article by article.
    func exportArticles(_ articles: [String]) -> Response {
        let archive = self.archive
        return Response(
            status: .ok, headers: [.contentType: "application/x-ndjson"],
            body: ResponseBody { writer in
                var nodes = Set<String>()
                for article in articles {
                    try await writer.write(
                        ByteBuffer(bytes: Self.jsonLines(try archive.exportLines(article: article, nodesSent: &nodes))))
                }
                try await writer.finish(nil)
            })
    }

    /// The selected captures as WARC 1.1, streamed page by page; with `gzip`, each record a gzip member of its own.
    func exportWARC(_ selection: CaptureSelection, gzip: Bool) -> Response {
        let archive = self.archive
        return Response(
            status: .ok, headers: [.contentType: "application/warc"],
            body: ResponseBody { writer in
                func write(_ record: Data) async throws {
                    try await writer.write(ByteBuffer(bytes: gzip ? WARCWriter.gzipMember(record) : record))
                }
                try await write(WARCWriter.header(software: "newsd/\(newsdVersion)", date: Date()))
                var after = ""
                while true {
                    let captures = try archive.captures(selection, after: after)
                    guard let last = captures.last else { break }
                    for capture in captures {
                        guard let body = try archive.blob(capture.blobHash) else { continue }
                        for record in WARCWriter.records(for: capture, body: body) { try await write(record) }
                    }
                    after = last.id.hex
                }
                try await writer.finish(nil)
            })
    }

    /// The captures `selection` picks as a WACZ file, made in the data directory on a thread of its own, then streamed
    /// and removed.
    func exportWACZ(_ selection: CaptureSelection, title: String) async throws -> Response {
        let (archive, key, directory) = (self.archive, identity.key, config.dataDirectory)
        let name = "export-\(UUID().uuidString.lowercased()).wacz"
        let written = try await onOwnThread {
            try WACZExport.write(selection, archive: archive, key: key, title: title, in: directory, name: name)
        }
        return Self.handOver(try FileHandle(forReadingFrom: written.file), at: written.file, contentType: "application/wacz+zip")
    }

    /// Reads JSON Lines from `body` and imports them in batches, each verified and committed whole.
    fileprivate func importLines(_ body: RequestBody) async throws -> ImportResult {
        var result = ImportResult(lines: 0, added: 0)
        var pending = Data()
        var batch: [ExportLine] = []
        var batchBytes = 0
        func flush() throws {
            guard !batch.isEmpty else { return }
            do {
                result.added += try archive.importLines(batch)
            } catch {
                throw HTTPError(.unprocessableContent, message: "batch ending at line \(result.lines): \(error)")
            }
            batch.removeAll()
            batchBytes = 0
        }
        func take(_ line: Data) throws {
            guard !line.isEmpty else { return }
            result.lines += 1
            do {
                batch.append(try JSONDecoder().decode(ExportLine.self, from: line))
            } catch {
                throw HTTPError(.unprocessableContent, message: "line \(result.lines) is not an export line: \(error)")
            }
            batchBytes += line.count
            if batch.count >= 500 || batchBytes >= 64 << 20 { try flush() }
        }
        for try await buffer in body {
            pending.append(contentsOf: buffer.readableBytesView)
            while let newline = pending.firstIndex(of: 0x0A) {
                try take(pending[pending.startIndex..<newline])
                pending.removeSubrange(pending.startIndex...newline)
            }
            guard pending.count <= 256 << 20 else { throw HTTPError(.contentTooLarge, message: "a line longer than 256 MiB") }
        }
        try take(pending)
        try flush()
        return result
    }
}

/// A JSON response body in the control API's conventions.
struct JSONBody<Value: Encodable & Sendable>: ResponseGenerator {
    let value: Value

    init(_ value: Value) { self.value = value }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        let data = try JSONCoding.encoder().encode(value)
        return Response(
            status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
