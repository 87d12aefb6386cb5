import Archive
import Feeds
import Fetching
import Foundation
import Hummingbird
import NewsCore

/// The control API newsctl speaks over the Unix socket: HTTP with JSON bodies. Errors are
/// `{"error":{"message":"…"}}` with a 4xx or 5xx status.
extension Daemon {
    func controlRoutes() -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/v1/status") { _, _ in try JSONBody(self.status()) }
        router.post("/v1/poll") { request, _ in
            let feed = request.uri.queryParameters.get("feed")
            let polled = try await self.poller.pollNow(only: feed)
            if let feed, polled.isEmpty { throw HTTPError(.notFound, message: "\(feed) is not a feed") }
            return JSONBody(polled)
        }
        router.post("/v1/sync") { _, _ in JSONBody(await self.syncer.syncAll()) }
        router.get("/v1/feeds") { _, _ in try JSONBody(self.archive.feedStatuses()) }
        router.post("/v1/verify") { _, _ in self.verify() }
        router.get("/v1/article") { request, _ in
            guard let reference = request.uri.queryParameters.get("ref") else {
                throw HTTPError(.badRequest, message: "ref is required")
            }
            do {
                return try JSONBody(self.archive.article(reference))
            } catch let error as ArticleLookupError {
                throw HTTPError(.notFound, message: error.description)
            }
        }
        router.get("/v1/stories") { request, _ in
            let minimum = request.uri.queryParameters.get("min", as: Int.self) ?? 2
            let limit = request.uri.queryParameters.get("limit", as: Int.self) ?? 100
            return try JSONBody(self.archive.stories(minimumMembers: max(1, minimum), limit: max(1, min(limit, 10_000))))
        }
        router.post("/v1/search") { request, context in
            let query = try await request.decode(as: SearchQuery.self, context: context)
            do {
                return try JSONBody(self.archive.search(query))
            } catch let error as SearchError {
                throw HTTPError(.badRequest, message: error.description)
            }
        }
        router.post("/v1/feeds") { request, context in
            let feed = try await request.decode(as: FeedConfig.self, context: context)
            return try await JSONBody(self.addFeed(feed))
        }
        router.delete("/v1/feeds") { request, _ -> Response in
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
        router.get("/v1/feeds/opml") { _, _ -> Response in
            let feeds = try self.archive.activeFeeds().map { feed in
                var settings = feed.settings
                settings.title = settings.title ?? (try? self.archive.feedStatuses(only: feed.id).first?.title) ?? nil
                return settings
            }
            let body = ByteBuffer(string: OPML.export(feeds))
            return Response(status: .ok, headers: [.contentType: "text/x-opml; charset=utf-8"], body: .init(byteBuffer: body))
        }
        router.post("/v1/feeds/opml") { request, _ in
            let body = try await request.body.collect(upTo: 16 << 20)
            let listed: [FeedConfig]
            do {
                listed = try OPML.parse(Data(buffer: body))
            } catch {
                throw HTTPError(.badRequest, message: "\(error)")
            }
            var imported = OPMLImport(added: 0, skipped: 0)
            for feed in listed {
                if (try? self.archive.addFeed(feed)) != nil { imported.added += 1 } else { imported.skipped += 1 }
            }
            self.wakePoller()
            return JSONBody(imported)
        }
        return router
    }

    /// Checks that `feed` answers with a feed, adds it, and polls it once.
    private func addFeed(_ requested: FeedConfig) async throws -> FeedStatus {
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
                FetchRequest(url: feed.url, limits: config.limits, proxy: feed.proxy ?? config.proxy))
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
    fileprivate func verify() -> Response {
        let (events, continuation) = AsyncStream<VerifyEvent>.makeStream(bufferingPolicy: .bufferingNewest(64))
        let archive = self.archive
        Thread {
            do {
                let report = try archive.verify { done, total in continuation.yield(VerifyEvent(done: done, total: total)) }
                continuation.yield(VerifyEvent(report: report))
            } catch {
                continuation.yield(VerifyEvent(error: "\(error)"))
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

/// What an OPML import did.
struct OPMLImport: Codable, Sendable {
    var added: Int
    var skipped: Int
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
