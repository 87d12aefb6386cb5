import Foundation

/// Whether something accepts connections on the Unix socket at `path`: another daemon serving there.
func socketAnswers(_ path: String) -> Bool {
    let probe = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    guard probe >= 0 else { return false }
    defer { close(probe) }
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    let bytes = Array(path.utf8)
    guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return false }
    withUnsafeMutableBytes(of: &address.sun_path) { buffer in
        buffer.copyBytes(from: bytes)
        buffer[bytes.count] = 0
    }
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(probe, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) == 0
        }
    }
}

/// Throws, naming the configuration key, when `host`:`port` cannot be listened on: taken by another program, or not
/// an address of this machine. The server binds it again right after; this only turns the system's error into a
/// sentence before anything has started.
func requireBindable(host: String, port: Int, key: String) throws {
    guard port != 0 else { return }
    var hints = addrinfo()
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
    hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
    var found: UnsafeMutablePointer<addrinfo>?
    guard getaddrinfo(host, String(port), &hints, &found) == 0, let first = found else {
        throw DaemonError("\(key) = \"\(host):\(port)\": \(host) is not an address of this machine")
    }
    defer { freeaddrinfo(found) }
    let probe = socket(first.pointee.ai_family, first.pointee.ai_socktype, first.pointee.ai_protocol)
    guard probe >= 0 else { return }
    defer { close(probe) }
    var one: Int32 = 1
    setsockopt(probe, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
    guard bind(probe, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 else {
        let reason =
            errno == EADDRINUSE
            ? "the address is in use (another newsd, or another program, listens there)"
            : String(cString: strerror(errno))
        throw DaemonError("cannot listen on \(host):\(port) (\(key)): \(reason)")
    }
}
