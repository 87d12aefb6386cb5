public import Foundation
public import Hummingbird
import Logging
import NIOCore
import Synchronization

/// A real HTTP server on 127.0.0.1 whose answers each test scripts, to serve feeds and pages that misbehave on purpose.
///
/// ```swift
/// let server = try await TestHTTPServer.start()
/// server.serve("/feed.xml", body: feedXML, headers: [.eTag: "\"v1\""])
/// ```
public final class TestHTTPServer: Sendable {
    /// Answers a request; `nil` means 404.
    public typealias Handler = @Sendable (Request) async -> Response?

    private let routes = Mutex<[String: Handler]>([:])
    private let hits = Mutex<[String: Int]>([:])
    private let traffic = Mutex(Traffic())

    private struct Traffic {
        var open = 0
        var mostOpen = 0
        var arrivals: [String: [ContinuousClock.Instant]] = [:]
    }
    private let task = Mutex<Task<Void, any Error>?>(nil)
    private let boundPort = Mutex(0)

    /// The port the server listens on.
    public var port: Int { boundPort.withLock { $0 } }

    private init() {}

    /// Starts a server on an ephemeral port of 127.0.0.1.
    public static func start() async throws -> TestHTTPServer {
        let server = TestHTTPServer()
        let router = Router()
        router.on("**", method: .get) { request, _ in try await server.answer(request) }
        router.on("**", method: .head) { request, _ in try await server.answer(request) }
        router.on("**", method: .post) { request, _ in try await server.answer(request) }
        var logger = Logger(label: "test-http")
        logger.logLevel = .critical
        let port = AsyncStream<Int>.makeStream()
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                port.continuation.yield(channel.localAddress?.port ?? 0)
                port.continuation.finish()
            }, logger: logger)
        server.task.withLock {
            $0 = Task(executorPreference: testServerExecutor) { try await app.runService(gracefulShutdownSignals: []) }
        }
        for await bound in port.stream { server.boundPort.withLock { $0 = bound } }
        return server
    }

    /// Stops the server.
    public func stop() async {
        let running = task.withLock { $0 }
        running?.cancel()
        _ = await running?.result
    }

    /// The URL of `path` on this server.
    public func url(_ path: String) -> URL { URL(string: "http://127.0.0.1:\(port)\(path)")! }

    /// How many requests `path` has had.
    public func hitCount(_ path: String) -> Int { hits.withLock { $0[path] ?? 0 } }

    /// The most requests that were being answered at the same moment.
    public var mostConcurrentRequests: Int { traffic.withLock { $0.mostOpen } }

    /// When the requests for `path` arrived, in order.
    public func arrivals(_ path: String) -> [ContinuousClock.Instant] { traffic.withLock { $0.arrivals[path] ?? [] } }

    /// Answers `path` with a body written in `chunks` chunks of `chunkSize` bytes, `pause` apart: a slow
    /// or (with many chunks) practically endless body. Writing stops when the client goes away.
    public func stream(_ path: String, chunks: Int, chunkSize: Int, pause: Duration = .zero) {
        route(path) { _ in
            Response(
                status: .ok, headers: [.contentType: "application/rss+xml"],
                body: ResponseBody { writer in
                    let chunk = ByteBuffer(repeating: UInt8(ascii: "x"), count: chunkSize)
                    for _ in 0..<chunks {
                        try await writer.write(chunk)
                        if pause > .zero { try await Task.sleep(for: pause) }
                    }
                    try await writer.finish(nil)
                })
        }
    }

    /// Answers `path` with a redirect to `target`.
    public func redirect(_ path: String, to target: String, status: HTTPResponse.Status) {
        route(path) { _ in Response(status: status, headers: [.location: target]) }
    }

    /// Answers `path` with `handler`.
    public func route(_ path: String, _ handler: @escaping Handler) {
        routes.withLock { $0[path] = handler }
    }

    /// Answers `path` with `body`, honouring `If-None-Match` against an `ETag` among `headers` with a 304.
    public func serve(_ path: String, body: String, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) {
        serve(path, bytes: Data(body.utf8), status: status, headers: headers)
    }

    /// Answers `path` with raw `bytes`, honouring `If-None-Match` against an `ETag` among `headers` with a 304.
    public func serve(_ path: String, bytes: Data, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) {
        route(path) { request in
            if let etag = headers[.eTag], request.headers[.ifNoneMatch] == etag {
                return Response(status: .notModified, headers: headers)
            }
            return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }
    }

    private func answer(_ request: Request) async throws -> Response {
        let path = request.uri.path
        hits.withLock { $0[path, default: 0] += 1 }
        traffic.withLock { traffic in
            traffic.open += 1
            traffic.mostOpen = max(traffic.mostOpen, traffic.open)
            traffic.arrivals[path, default: []].append(ContinuousClock.now)
        }
        defer { traffic.withLock { $0.open -= 1 } }
        guard let handler = routes.withLock({ $0[path] }), let response = await handler(request) else {
            return Response(status: .notFound, body: .init(byteBuffer: ByteBuffer(string: "no such test route \(path)")))
        }
        return response
    }
}

/// Where test servers answer: threads of their own rather than the few Swift concurrency runs everything else on,
/// so a test beside them holding those (an in-process daemon's synchronous archive work) cannot stall a body
/// they are streaming past a client's low-speed limit.
let testServerExecutor = DedicatedExecutor()

/// A task executor on a concurrent dispatch queue of its own, which gets threads apart from the global pool.
final class DedicatedExecutor: TaskExecutor {
    private let queue = DispatchQueue(label: "newsd-test-servers", attributes: .concurrent)

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
