import CCurl
import Foundation
public import NewsCore

/// How many transfers run at once, and how gently one host is treated.
public struct FetcherOptions: Sendable, Equatable {
    /// Connections open at once, over all hosts.
    public var maxConnections: Int
    /// Connections open at once to one host.
    public var maxPerHost: Int
    /// Seconds between the starts of two requests to the same host.
    public var politeness: Double

    public init(maxConnections: Int = 32, maxPerHost: Int = 4, politeness: Double = 0) {
        self.maxConnections = maxConnections
        self.maxPerHost = maxPerHost
        self.politeness = politeness
    }
}

/// Fetches URLs through libcurl: every transfer of one fetcher runs on its own thread through one
/// multi handle, so connections are reused and blocking I/O never holds a Swift concurrency thread.
///
/// ```swift
/// let fetcher = Fetcher(userAgent: "newsd/0.1")
/// let response = try await fetcher.fetch(FetchRequest(url: feedURL))
/// ```
public final class Fetcher: Sendable {
    private let userAgent: String
    private let loop: TransferLoop
    /// The limits it was made with.
    public let options: FetcherOptions

    /// Creates a fetcher sending `userAgent` with every request that sets none of its own.
    public init(userAgent: String = "newsd/\(newsdVersion)", options: FetcherOptions = FetcherOptions()) {
        Fetcher.initialiseCurl()
        self.userAgent = userAgent
        loop = TransferLoop(options: options)
        self.options = options
    }

    deinit {
        loop.stop()
    }

    /// Initialises libcurl once per process; call early, before threads start. Later calls do nothing.
    public static func initialiseCurl() { _ = curlReady }

    private static let curlReady: Bool = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK

    /// Stops fetching: transfers under way and queued fail with ``FetchError/cancelled``, and so does every later one.
    /// For a daemon that is stopping: no new fetch starts, none in flight holds it up.
    public func stop() {
        loop.stop()
    }

    /// Performs `request`, following redirects within its limits.
    public func fetch(_ request: FetchRequest) async throws(FetchError) -> FetchResponse {
        let userAgent = request.userAgent ?? self.userAgent
        let result: Result<FetchResponse, FetchError> = await withCheckedContinuation { continuation in
            loop.submit(Transfer(request: request, userAgent: userAgent, continuation: continuation))
        }
        return try result.get()
    }
}
