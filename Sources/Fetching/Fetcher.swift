import CCurl
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

    public init(
        url: URL, method: String = "GET", headers: [(name: String, value: String)] = [], body: Data? = nil,
        limits: FetchLimits = FetchLimits(), allowFiles: Bool = false, unixSocket: String? = nil
    ) {
        self.url = url
        self.method = method
        self.headers = headers
        self.body = body
        self.limits = limits
        self.allowFiles = allowFiles
        self.unixSocket = unixSocket
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

    /// A header's value by case-insensitive name.
    public func header(_ name: String) -> String? { headers[name.lowercased()] }
}

/// Why a fetch failed.
public enum FetchError: Error, Equatable, CustomStringConvertible {
    /// The body grew beyond the configured cap.
    case tooLarge(limit: Int)
    /// Connect or total time ran out.
    case timedOut(seconds: Double)
    /// More redirects than allowed.
    case tooManyRedirects(limit: Int)
    /// The URL's scheme is not allowed for this request.
    case schemeNotAllowed(String)
    /// Any other transport failure, with libcurl's explanation.
    case transport(code: Int, message: String)

    public var description: String {
        switch self {
        case .tooLarge(let limit): "body larger than the \(limit)-byte limit"
        case .timedOut(let seconds): "timed out after \(Int(seconds)) s"
        case .tooManyRedirects(let limit): "more than \(limit) redirects"
        case .schemeNotAllowed(let scheme): "scheme \(scheme) is not allowed here"
        case .transport(_, let message): message
        }
    }
}

/// Fetches URLs through libcurl. One instance serves the whole process.
///
/// ```swift
/// let fetcher = Fetcher(userAgent: "newsd/0.1")
/// let response = try await fetcher.fetch(FetchRequest(url: feedURL))
/// ```
public final class Fetcher: Sendable {
    private let userAgent: String

    /// Creates a fetcher sending `userAgent` with every request.
    public init(userAgent: String = "newsd/\(newsdVersion)") {
        Fetcher.initialiseCurl()
        self.userAgent = userAgent
    }

    /// Initialises libcurl once per process; call early, before threads start. Later calls do nothing.
    public static func initialiseCurl() { _ = curlReady }

    private static let curlReady: Bool = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK

    /// Performs `request`, following redirects within its limits.
    public func fetch(_ request: FetchRequest) async throws(FetchError) -> FetchResponse {
        let userAgent = self.userAgent
        let result: Result<FetchResponse, FetchError> = await withCheckedContinuation { continuation in
            TransferLoop.shared.submit(Transfer(request: request, userAgent: userAgent, continuation: continuation))
        }
        return try result.get()
    }
}

/// One transfer: its request, its buffers, and the easy handle the loop thread drives.
///
/// Created on any thread, then touched only by the loop thread until its continuation is resumed.
final class Transfer: @unchecked Sendable {
    let request: FetchRequest
    let userAgent: String
    let continuation: CheckedContinuation<Result<FetchResponse, FetchError>, Never>
    var body = Data()
    var headers: [String: String] = [:]
    var overflowed = false
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private let errorBuffer: UnsafeMutablePointer<CChar>
    private var fileAllowed = false

    init(request: FetchRequest, userAgent: String, continuation: CheckedContinuation<Result<FetchResponse, FetchError>, Never>) {
        self.request = request
        self.userAgent = userAgent
        self.continuation = continuation
        errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    }

    deinit {
        curl_slist_free_all(headerList)
        errorBuffer.deallocate()
    }

    /// Sets up `handle` for this transfer, or says why it cannot be made.
    func configure(_ handle: UnsafeMutableRawPointer) -> FetchError? {
        let scheme = request.url.scheme?.lowercased() ?? ""
        fileAllowed = request.allowFiles && scheme == "file"
        guard scheme == "http" || scheme == "https" || fileAllowed else { return .schemeNotAllowed(scheme) }

        let limits = request.limits
        newsd_curl_setopt_string(handle, CURLOPT_URL, request.url.absoluteString)
        newsd_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        newsd_curl_setopt_string(handle, CURLOPT_PROTOCOLS_STR, fileAllowed ? "file" : "http,https")
        newsd_curl_setopt_string(handle, CURLOPT_REDIR_PROTOCOLS_STR, "http,https")
        newsd_curl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 1)
        newsd_curl_setopt_long(handle, CURLOPT_MAXREDIRS, limits.maxRedirects)
        newsd_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, Int(limits.connectTimeout * 1000))
        newsd_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, Int(limits.totalTimeout * 1000))
        newsd_curl_setopt_off(handle, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(limits.maxBodyBytes))
        newsd_curl_setopt_string(handle, CURLOPT_ACCEPT_ENCODING, "")
        newsd_curl_setopt_string(handle, CURLOPT_USERAGENT, userAgent)
        newsd_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer)
        if let socket = request.unixSocket {
            newsd_curl_setopt_string(handle, CURLOPT_UNIX_SOCKET_PATH, socket)
        }
        for header in request.headers {
            headerList = curl_slist_append(headerList, "\(header.name): \(header.value)")
        }
        if request.method == "POST" {
            let payload = request.body ?? Data()
            newsd_curl_setopt_long(handle, CURLOPT_POST, 1)
            newsd_curl_setopt_off(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(payload.count))
            payload.withUnsafeBytes { bytes in
                _ = newsd_curl_setopt_pointer(
                    handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: bytes.baseAddress))
            }
            headerList = curl_slist_append(headerList, "Expect:")
        } else if request.method != "GET" {
            newsd_curl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, request.method)
        }
        newsd_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, headerList)

        let context = Unmanaged.passUnretained(self).toOpaque()
        newsd_curl_setopt_pointer(handle, CURLOPT_PRIVATE, context)
        newsd_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, context)
        newsd_curl_setopt_data_callback(handle, CURLOPT_WRITEFUNCTION) { data, size, count, context in
            guard let context, let data else { return 0 }
            let transfer = Unmanaged<Transfer>.fromOpaque(context).takeUnretainedValue()
            let length = size * count
            if transfer.body.count + length > transfer.request.limits.maxBodyBytes {
                transfer.overflowed = true
                return 0
            }
            data.withMemoryRebound(to: UInt8.self, capacity: length) { transfer.body.append($0, count: length) }
            return length
        }
        newsd_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, context)
        newsd_curl_setopt_data_callback(handle, CURLOPT_HEADERFUNCTION) { data, size, count, context in
            guard let context, let data else { return 0 }
            let transfer = Unmanaged<Transfer>.fromOpaque(context).takeUnretainedValue()
            let length = size * count
            let line = data.withMemoryRebound(to: UInt8.self, capacity: length) {
                String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
            }
            transfer.addHeaderLine(line)
            return length
        }
        return nil
    }

    /// The outcome of a finished transfer on `handle`.
    func result(_ handle: UnsafeMutableRawPointer, code: CURLcode) -> Result<FetchResponse, FetchError> {
        if code != CURLE_OK {
            return .failure(error(for: code, message: String(cString: errorBuffer)))
        }
        var status = 0
        newsd_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        var effective: UnsafeMutablePointer<CChar>? = nil
        newsd_curl_getinfo_string(handle, CURLINFO_EFFECTIVE_URL, &effective)
        let finalURL = effective.flatMap { URL(string: String(cString: $0)) } ?? request.url
        return .success(FetchResponse(status: fileAllowed ? 200 : status, finalURL: finalURL, headers: headers, body: body))
    }

    /// Keeps the headers of the last response only: a status line starts a new response.
    func addHeaderLine(_ line: String) {
        if line.hasPrefix("HTTP/") {
            headers.removeAll()
            return
        }
        guard let colon = line.firstIndex(of: ":") else { return }
        let name = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
        let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
        headers[name] = value
    }

    private func error(for code: CURLcode, message: String) -> FetchError {
        let limits = request.limits
        switch code {
        case CURLE_FILESIZE_EXCEEDED: return .tooLarge(limit: limits.maxBodyBytes)
        case CURLE_WRITE_ERROR where overflowed: return .tooLarge(limit: limits.maxBodyBytes)
        case CURLE_OPERATION_TIMEDOUT: return .timedOut(seconds: limits.totalTimeout)
        case CURLE_TOO_MANY_REDIRECTS: return .tooManyRedirects(limit: limits.maxRedirects)
        case CURLE_UNSUPPORTED_PROTOCOL: return .schemeNotAllowed(message)
        default:
            let text = message.isEmpty ? String(cString: curl_easy_strerror(code)) : message
            return .transport(code: Int(code.rawValue), message: text)
        }
    }
}
