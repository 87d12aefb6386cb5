import Foundation
import Synchronization

/// A network link shaped in user space: a TCP relay on 127.0.0.1 that forwards to a target port with a bandwidth (token
/// bucket) and a one-way delay in each direction, and drops: every connection reset after a while up, then connections
/// refused for a while. (This kernel has no netem; a relay is the honest way to shape loopback.)
///
/// "Up" is from the client that connects to the relay toward the target, "down" back.
///
/// ```swift
/// let link = try ShapedLink.start(to: peerPort, .satellite)
/// defer { link.stop() }
/// // connect to 127.0.0.1:link.port
/// ```
public final class ShapedLink: Sendable {
    /// One direction: bytes a second (`nil`: unlimited) and the delay each byte takes.
    public struct Direction: Sendable {
        public var bytesPerSecond: Double?
        public var delay: Duration

        public init(bitsPerSecond: Double?, delay: Duration) {
            bytesPerSecond = bitsPerSecond.map { $0 / 8 }
            self.delay = delay
        }
    }

    /// How a link behaves.
    public struct Profile: Sendable {
        public var name: String
        public var up: Direction
        public var down: Direction
        /// After how long up every connection is reset; `nil`: never.
        public var dropEvery: Duration?
        /// How long connections are refused after a drop.
        public var downFor: Duration

        public init(name: String, up: Direction, down: Direction, dropEvery: Duration? = nil, downFor: Duration = .seconds(3)) {
            self.name = name
            self.up = up
            self.down = down
            self.dropEvery = dropEvery
            self.downFor = downFor
        }

        /// A link of `bitsPerSecond` each way with a round trip of `roundTrip`, dropped as said.
        public static func even(
            _ name: String, bitsPerSecond: Double, roundTrip: Duration, dropEvery: Duration? = nil,
            downFor: Duration = .seconds(3)
        ) -> Profile {
            let way = Direction(bitsPerSecond: bitsPerSecond, delay: roundTrip / 2)
            return Profile(name: name, up: way, down: way, dropEvery: dropEvery, downFor: downFor)
        }

        /// A satellite terminal: 512 kbit/s down, 128 kbit/s up, 600 ms round trip.
        public static let satellite = Profile(
            name: "satellite", up: Direction(bitsPerSecond: 128_000, delay: .milliseconds(300)),
            down: Direction(bitsPerSecond: 512_000, delay: .milliseconds(300)))
        /// A 3G modem: 1 Mbit/s, 200 ms round trip, dropped every 60 s.
        public static let threeG = Profile(
            name: "3g", up: Direction(bitsPerSecond: 1_000_000, delay: .milliseconds(100)),
            down: Direction(bitsPerSecond: 1_000_000, delay: .milliseconds(100)), dropEvery: .seconds(60))
        /// A hotel network: 4 Mbit/s, 80 ms round trip, dropped every 20 s.
        public static let flaky = Profile(
            name: "flaky", up: Direction(bitsPerSecond: 4_000_000, delay: .milliseconds(40)),
            down: Direction(bitsPerSecond: 4_000_000, delay: .milliseconds(40)), dropEvery: .seconds(20))
    }

    /// The port the relay listens on (127.0.0.1).
    public let port: Int
    private let listener: Int32
    private let target: Int
    private let profile: Profile
    private let state = Mutex(State())
    private let buckets = Mutex((up: ContinuousClock.now, down: ContinuousClock.now))
    /// Signalled once at the first connection: the drops' clock starts there, not when the relay starts.
    private let firstConnection = DispatchSemaphore(value: 0)
    /// Signalled at `stop()`: the drop loop's waits end at once.
    private let stopping = DispatchSemaphore(value: 0)

    private struct State {
        var stopped = false
        var up = true
        var upSince = ContinuousClock.now
        var connections: [Int: (client: Int32, server: Int32)] = [:]
        var nextID = 0
        var bytesUp = 0
        var bytesDown = 0
        var drops = 0
    }

    /// Bytes forwarded each way so far, and how many times the link dropped.
    public var traffic: (up: Int, down: Int, drops: Int) { state.withLock { ($0.bytesUp, $0.bytesDown, $0.drops) } }

    private init(listener: Int32, port: Int, target: Int, profile: Profile) {
        self.listener = listener
        self.port = port
        self.target = target
        self.profile = profile
    }

    /// Starts relaying 127.0.0.1:`port` (a new port) to 127.0.0.1:`target` as `profile` shapes it.
    public static func start(to target: Int, _ profile: Profile) throws -> ShapedLink {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard listener >= 0 else { throw POSIXError(.EMFILE) }
        var address = loopback(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) }
        }
        guard bound == 0, listen(listener, 64) == 0 else {
            close(listener)
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EADDRINUSE)
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        let link = ShapedLink(
            listener: listener, port: Int(UInt16(bigEndian: address.sin_port)), target: target, profile: profile)
        Thread { link.acceptLoop() }.start()
        if profile.dropEvery != nil { Thread { link.dropLoop() }.start() }
        return link
    }

    /// Stops relaying: the listener closes and every connection is reset.
    public func stop() {
        let live = state.withLock { state in
            state.stopped = true
            return Array(state.connections.values)
        }
        shutdown(listener, Int32(SHUT_RDWR))
        for connection in live { Self.reset(connection) }
        stopping.signal()
        firstConnection.signal()
    }

    private func acceptLoop() {
        while !state.withLock({ $0.stopped }) {
            let client = accept(listener, nil, nil)
            guard client >= 0 else {
                if errno == EINTR { continue }
                break
            }
            guard state.withLock({ $0.up && !$0.stopped }) else {
                // Down: the connection is refused (reset at once).
                Self.reset((client, -1))
                continue
            }
            let server = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = Self.loopback(port: target)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(server, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            guard connected == 0 else {
                Self.reset((client, server))
                continue
            }
            for descriptor in [client, server] {
                var one: Int32 = 1
                setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            }
            let id = state.withLock { state in
                defer { state.nextID += 1 }
                state.connections[state.nextID] = (client, server)
                return state.nextID
            }
            if id == 0 { firstConnection.signal() }
            let ends = Mutex(2)
            let finish: @Sendable () -> Void = { [self] in
                let last = ends.withLock { remaining in
                    remaining -= 1
                    return remaining == 0
                }
                guard last else { return }
                state.withLock { _ = $0.connections.removeValue(forKey: id) }
                close(client)
                close(server)
            }
            pump(from: client, to: server, up: true, done: finish)
            pump(from: server, to: client, up: false, done: finish)
        }
        close(listener)
    }

    /// Copies `source` to `destination`: a reader stamps each piece with the time it may arrive (after the bucket lets
    /// it through and the delay), a writer sends it then. The link holds 64 KB in flight at most, as a real one's
    /// buffers would: past that the reader waits, and the sender's TCP window fills.
    private func pump(from source: Int32, to destination: Int32, up: Bool, done: @escaping @Sendable () -> Void) {
        let direction = up ? profile.up : profile.down
        let queue = Mutex((pieces: [(at: ContinuousClock.Instant, data: Data)](), ended: false))
        let ready = DispatchSemaphore(value: 0)
        // Made at 0 and raised: libdispatch refuses to free a semaphore whose count is below the one it was made with.
        let room = DispatchSemaphore(value: 0)
        for _ in 0..<16 { room.signal() }
        Thread { [self] in
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                room.wait()
                let count = recv(source, &buffer, buffer.count, 0)
                guard count > 0 else { break }
                let departure = buckets.withLock { buckets -> ContinuousClock.Instant in
                    let free = up ? buckets.up : buckets.down
                    var leaves = max(.now, free)
                    if let rate = direction.bytesPerSecond { leaves += .seconds(Double(count) / rate) }
                    if up { buckets.up = leaves } else { buckets.down = leaves }
                    return leaves
                }
                queue.withLock { $0.pieces.append((departure + direction.delay, Data(buffer[0..<count]))) }
                ready.signal()
            }
            queue.withLock { $0.ended = true }
            ready.signal()
        }.start()
        Thread { [self] in
            while true {
                ready.wait()
                let (next, ended) = queue.withLock { queue in (queue.pieces.first, queue.ended) }
                guard let piece = next else {
                    if ended { break }
                    continue
                }
                let wait = piece.at - .now
                if wait > .zero { Thread.sleep(forTimeInterval: Self.seconds(wait)) }
                queue.withLock { _ = $0.pieces.removeFirst() }
                room.signal()
                // Counted as they cross (before the send, so that whoever got them sees them counted); what a break
                // cuts off was not delivered.
                self.state.withLock { if up { $0.bytesUp += piece.data.count } else { $0.bytesDown += piece.data.count } }
                let sent = piece.data.withUnsafeBytes { bytes in
                    var offset = 0
                    while offset < bytes.count {
                        let written = send(destination, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
                        guard written > 0 else { return false }
                        offset += written
                    }
                    return true
                }
                if !sent {
                    self.state.withLock { if up { $0.bytesUp -= piece.data.count } else { $0.bytesDown -= piece.data.count } }
                    break
                }
            }
            shutdown(destination, Int32(SHUT_WR))
            shutdown(source, Int32(SHUT_RD))
            done()
        }.start()
    }

    /// From the first connection on, resets every connection every `dropEvery`, then refuses new ones for `downFor`.
    private func dropLoop() {
        guard let every = profile.dropEvery else { return }
        firstConnection.wait()
        while stopping.wait(timeout: .now() + Self.seconds(every)) == .timedOut {
            let live = state.withLock { state -> [(client: Int32, server: Int32)] in
                state.up = false
                state.drops += 1
                return Array(state.connections.values)
            }
            for connection in live { Self.reset(connection) }
            guard stopping.wait(timeout: .now() + Self.seconds(profile.downFor)) == .timedOut else { return }
            state.withLock {
                $0.up = true
                $0.upSince = .now
            }
        }
    }

    /// Resets a connection (RST, not FIN) on both sides: whoever uses it sees it broken, not ended.
    private static func reset(_ connection: (client: Int32, server: Int32)) {
        for descriptor in [connection.client, connection.server] where descriptor >= 0 {
            var linger = linger(l_onoff: 1, l_linger: 0)
            setsockopt(descriptor, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<linger>.size))
            shutdown(descriptor, Int32(SHUT_RDWR))
        }
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
