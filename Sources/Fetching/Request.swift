public import Foundation
public import NewsCore

/// One HTTP (or `file://`) request.
public struct FetchRequest: Sendable {
    /// What to fetch.
    public var url: URL
    /// `GET` or `POST`.
    public var method: String
    /// Extra request headers.
    public var headers: [(name: String, value: String)]
    /// The request body, for `POST`.
    public var body: Data?
    /// Size, time and redirect bounds.
    public var limits: FetchLimits
    /// Whether `file://` URLs may be read. Only locations the user configured may point at files.
    public var allowFiles: Bool
    /// Connects to this Unix socket instead of the URL's host (the control API).
    public var unixSocket: String?
    /// A proxy URL (`http://`, `socks5h://` …) for this request.
    public var proxy: String?
    /// Overrides the fetcher's User-Agent for this request.
    public var userAgent: String?
    /// Called with each piece of the body as it arrives (on the fetch thread: keep it short). When it is
    /// set, the body is handed over piece by piece and not kept: the response's `body` stays empty.
    public var onData: (@Sendable (Data) -> Void)?
    /// For `https`: the public key the server's certificate must carry (`sha256//BASE64`); when set, it replaces
    /// verification by certificate authorities (a peer's self-made certificate).
    public var pinnedKey: String?
    /// Whether the request may reach a local address (``LocalAddress``): checked on the address each connection of
    /// the request (redirects included, a reused connection too) actually reached, after DNS, before anything is sent.
    /// Through a proxy, which reaches the target itself, the URL's host is checked instead. A link in a feed on the
    /// internet may not point into the network newsd is on.
    public var allowLocalAddresses = true

    public init(
        url: URL, method: String = "GET", headers: [(name: String, value: String)] = [], body: Data? = nil,
        limits: FetchLimits = FetchLimits(), allowFiles: Bool = false, unixSocket: String? = nil, proxy: String? = nil,
        userAgent: String? = nil
    ) {
        self.url = url
        self.method = method
        self.headers = headers
        self.body = body
        self.limits = limits
        self.allowFiles = allowFiles
        self.unixSocket = unixSocket
        self.proxy = proxy
        self.userAgent = userAgent
    }

    /// Adds `If-None-Match` / `If-Modified-Since` for the validators a previous response gave.
    public mutating func addValidators(etag: String?, lastModified: String?) {
        if let etag, !etag.isEmpty { headers.append(("If-None-Match", etag)) }
        if let lastModified, !lastModified.isEmpty { headers.append(("If-Modified-Since", lastModified)) }
    }
}

/// A complete response.
public struct FetchResponse: Sendable {
    /// The HTTP status; 200 for a file that was read.
    public var status: Int
    /// The URL that answered, after redirects.
    public var finalURL: URL
    /// Response headers of the final response, names lowercased (the last value wins).
    public var headers: [String: String]
    /// The body, decoded from any transfer or content encoding.
    public var body: Data
    /// The statuses of the redirects followed on the way, in order.
    public var redirects: [Int]
    /// The address the final response came from (a proxy's, through one); `nil` for a file.
    public var address: String?

    /// A header's value by case-insensitive name.
    public func header(_ name: String) -> String? { headers[name.lowercased()] }

    /// Where the resource now lives, when every redirect followed was permanent (301 or 308).
    public var permanentlyMovedTo: URL? {
        guard !redirects.isEmpty, redirects.allSatisfy({ $0 == 301 || $0 == 308 }) else { return nil }
        return finalURL
    }
}

/// Why a fetch failed.
public enum FetchError: Error, Equatable, CustomStringConvertible {
    /// The body grew beyond the configured cap.
    case tooLarge(limit: Int)
    /// Connecting, the whole transfer, or a stretch of it too slow, ran out of time.
    case timedOut(String)
    /// More redirects than allowed.
    case tooManyRedirects(limit: Int)
    /// The URL's scheme is not allowed for this request.
    case schemeNotAllowed(String)
    /// The request reached, or would have reached, a local address it may not (``FetchRequest/allowLocalAddresses``).
    case localAddress(String)
    /// The server redirected to a URL whose scheme is not followed (only http and https are).
    case redirectNotFollowed(scheme: String)
    /// The fetcher was shut down before the transfer finished.
    case cancelled
    /// Any other transport failure, with libcurl's explanation.
    case transport(code: Int, message: String)

    public var description: String {
        switch self {
        case .tooLarge(let limit): "body larger than the \(limit)-byte limit"
        case .timedOut(let message): message
        case .tooManyRedirects(let limit): "more than \(limit) redirects"
        case .schemeNotAllowed(let scheme): "scheme \(scheme) is not allowed here"
        case .localAddress(let address):
            "not fetched: \(address) is an address of this machine or its network, and the feed linking to it is not "
                + "(allow_private = true in the feed's entry allows it)"
        case .redirectNotFollowed(let scheme):
            "the server redirected to a \(scheme): URL, which is not followed (only http and https redirects are)"
        case .cancelled: "cancelled: the fetcher was stopped"
        case .transport(_, let message): message
        }
    }
}
