import CCurl
import Foundation

/// One transfer: its request, its buffers, and the easy handle the loop thread drives.
///
/// Created on any thread, then touched only by the loop thread until its continuation is resumed.
final class Transfer: @unchecked Sendable {
    let request: FetchRequest
    let userAgent: String
    private let continuation: CheckedContinuation<Result<FetchResponse, FetchError>, Never>
    private var body = Data()
    private var received = 0
    private var headers: [String: String] = [:]
    private var statuses: [Int] = []
    private var overflowed = false
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private let errorBuffer: UnsafeMutablePointer<CChar>
    private var fileAllowed = false
    /// The handle this transfer runs on, while it runs (the connection check reads the URL being fetched through it).
    private var handle: UnsafeMutableRawPointer?
    /// The local address a connection reached when that was refused.
    private var refusedAddress: String?

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

    /// The host whose politeness delay applies, if any.
    var politenessKey: String? {
        guard request.unixSocket == nil, let scheme = request.url.scheme?.lowercased(), scheme == "http" || scheme == "https"
        else {
            return nil
        }
        return request.url.host?.lowercased()
    }

    /// Hands the outcome to the waiting caller. Called exactly once.
    func finish(_ result: Result<FetchResponse, FetchError>) {
        continuation.resume(returning: result)
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
        newsd_curl_setopt_long(handle, CURLOPT_LOW_SPEED_LIMIT, limits.lowSpeedBytes)
        newsd_curl_setopt_long(handle, CURLOPT_LOW_SPEED_TIME, max(1, Int(limits.lowSpeedTime.rounded(.up))))
        newsd_curl_setopt_off(handle, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(limits.maxBodyBytes))
        newsd_curl_setopt_string(handle, CURLOPT_ACCEPT_ENCODING, "")
        newsd_curl_setopt_string(handle, CURLOPT_USERAGENT, userAgent)
        newsd_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer)
        if let socket = request.unixSocket {
            newsd_curl_setopt_string(handle, CURLOPT_UNIX_SOCKET_PATH, socket)
        }
        if let proxy = request.proxy, !proxy.isEmpty {
            newsd_curl_setopt_string(handle, CURLOPT_PROXY, proxy)
        }
        if let pin = request.pinnedKey {
            // The pin is the whole check: curl refuses any other key whatever verification says.
            newsd_curl_setopt_string(handle, CURLOPT_PINNEDPUBLICKEY, pin)
            newsd_curl_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, 0)
            newsd_curl_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, 0)
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
        if !request.allowLocalAddresses, !fileAllowed {
            self.handle = handle
            newsd_curl_setopt_pointer(handle, CURLOPT_PREREQDATA, context)
            newsd_curl_setopt_prereq_callback(handle) { context, address, _, _, _ in
                guard let context else { return 1 }
                let connected = address.map { String(cString: $0) } ?? ""
                return Unmanaged<Transfer>.fromOpaque(context).takeUnretainedValue().mayRequest(connectedTo: connected)
                    ? Int32(CURL_PREREQFUNC_OK) : Int32(CURL_PREREQFUNC_ABORT)
            }
        }
        newsd_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, context)
        newsd_curl_setopt_data_callback(handle, CURLOPT_WRITEFUNCTION) { data, size, count, context in
            guard let context, let data else { return 0 }
            return Unmanaged<Transfer>.fromOpaque(context).takeUnretainedValue().receive(data, size * count)
        }
        newsd_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, context)
        newsd_curl_setopt_data_callback(handle, CURLOPT_HEADERFUNCTION) { data, size, count, context in
            guard let context, let data else { return 0 }
            let length = size * count
            let line = data.withMemoryRebound(to: UInt8.self, capacity: length) {
                String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
            }
            Unmanaged<Transfer>.fromOpaque(context).takeUnretainedValue().addHeaderLine(line)
            return length
        }
        return nil
    }

    /// Whether the request about to be sent over a connection to `address` may go: not to a local address, or, through
    /// a proxy, not to a URL whose host is one.
    private func mayRequest(connectedTo address: String) -> Bool {
        if let proxy = request.proxy, !proxy.isEmpty {
            var effective: UnsafeMutablePointer<CChar>? = nil
            if let handle { newsd_curl_getinfo_string(handle, CURLINFO_EFFECTIVE_URL, &effective) }
            let host = effective.flatMap { URL(string: String(cString: $0))?.host } ?? request.url.host ?? ""
            guard LocalAddress.isLocal(host: host) else { return true }
            refusedAddress = host
            return false
        }
        guard LocalAddress.isLocal(address) else { return true }
        refusedAddress = address
        return false
    }

    /// Appends body bytes, refusing (and so aborting the transfer) past the size cap.
    private func receive(_ data: UnsafeMutablePointer<CChar>, _ length: Int) -> Int {
        if received + length > request.limits.maxBodyBytes {
            overflowed = true
            return 0
        }
        received += length
        data.withMemoryRebound(to: UInt8.self, capacity: length) { bytes in
            if let onData = request.onData {
                onData(Data(bytes: bytes, count: length))
            } else {
                body.append(bytes, count: length)
            }
        }
        return length
    }

    /// Keeps the headers of the last response only: a status line starts a new response.
    private func addHeaderLine(_ line: String) {
        if line.hasPrefix("HTTP/") {
            headers.removeAll()
            let parts = line.split(separator: " ")
            if parts.count >= 2, let status = Int(parts[1]) { statuses.append(status) }
            return
        }
        guard let colon = line.firstIndex(of: ":") else { return }
        let name = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
        let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
        headers[name] = value
    }

    /// The outcome of the finished transfer on `handle`.
    func result(_ handle: UnsafeMutableRawPointer, code: CURLcode) -> Result<FetchResponse, FetchError> {
        if code != CURLE_OK {
            if let refusedAddress { return .failure(.localAddress(refusedAddress)) }
            return .failure(error(for: code, message: String(cString: errorBuffer)))
        }
        var status = 0
        newsd_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        var effective: UnsafeMutablePointer<CChar>? = nil
        newsd_curl_getinfo_string(handle, CURLINFO_EFFECTIVE_URL, &effective)
        let finalURL = effective.flatMap { URL(string: String(cString: $0)) } ?? request.url
        var primary: UnsafeMutablePointer<CChar>? = nil
        newsd_curl_getinfo_string(handle, CURLINFO_PRIMARY_IP, &primary)
        let address = primary.map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 }
        // Interim 1xx responses are not redirects; every 3xx before the final response is.
        let redirects = statuses.dropLast().filter { (300..<400).contains($0) }
        return .success(
            FetchResponse(
                status: fileAllowed ? 200 : status, finalURL: finalURL, headers: headers, body: body, redirects: redirects,
                address: fileAllowed ? nil : address))
    }

    private func error(for code: CURLcode, message: String) -> FetchError {
        let limits = request.limits
        let text = message.isEmpty ? String(cString: curl_easy_strerror(code)) : message
        switch code {
        case CURLE_FILESIZE_EXCEEDED: return .tooLarge(limit: limits.maxBodyBytes)
        case CURLE_WRITE_ERROR where overflowed: return .tooLarge(limit: limits.maxBodyBytes)
        case CURLE_OPERATION_TIMEDOUT: return .timedOut(text)
        case CURLE_TOO_MANY_REDIRECTS: return .tooManyRedirects(limit: limits.maxRedirects)
        case CURLE_UNSUPPORTED_PROTOCOL:
            // The request's own scheme was checked before it started: this is a redirect's. libcurl names it in quotes.
            let quoted = text.split(separator: "\"", omittingEmptySubsequences: false)
            return .redirectNotFollowed(scheme: quoted.count >= 3 ? String(quoted[1]).lowercased() : "another")
        default: return .transport(code: Int(code.rawValue), message: text)
        }
    }
}
