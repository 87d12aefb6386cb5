public import Daemon
import Fetching
public import Foundation
import Logging
public import NewsCore
import Synchronization

/// A real newsd running in this process on a temporary data directory, with its control socket and a
/// sync listener on an ephemeral loopback port.
///
/// ```swift
/// let node = try await TestNode.start(feeds: [server.url("/feed.xml")])
/// let feeds = try await node.poll()
/// ```
public final class TestNode: Sendable {
    /// The daemon's data directory (removed by `stop()`).
    public let directory: URL
    /// The configuration the node runs with.
    public let config: NewsdConfig
    /// The node's identity.
    public let nodeID: String
    /// The sync server's base URL.
    public let syncURL: URL
    /// The daemon's events from before it started: for what it does on its own at start.
    public let startEvents: AsyncStream<DaemonEvent>
    private let daemon: Daemon
    private let task: Task<Void, any Error>

    private init(
        directory: URL, config: NewsdConfig, nodeID: String, syncURL: URL, startEvents: AsyncStream<DaemonEvent>,
        daemon: Daemon, task: Task<Void, any Error>
    ) {
        self.directory = directory
        self.config = config
        self.nodeID = nodeID
        self.syncURL = syncURL
        self.startEvents = startEvents
        self.daemon = daemon
        self.task = task
    }

    /// Starts a node that polls `feeds` and pulls from `peers` only when the test asks, or, with a
    /// `syncInterval`, also pulls on that schedule.
    public static func start(
        feeds: [URL] = [], peers: [PeerConfig] = [], limits: FetchLimits = FetchLimits(maxBodyBytes: 1 << 20, totalTimeout: 20),
        syncInterval: Double? = nil, directory existing: URL? = nil, configure: (inout NewsdConfig) -> Void = { _ in }
    ) async throws -> TestNode {
        let directory = try existing ?? temporaryDirectory()
        var config = NewsdConfig(
            dataDirectory: directory, listen: "127.0.0.1:0", pollInterval: 86400, syncInterval: syncInterval ?? 86400,
            logLevel: "warning", limits: limits, politeness: 0, feeds: feeds.map { FeedConfig(url: $0) }, peers: peers)
        config.webListen = nil
        configure(&config)
        var logger = Logger(label: "test-node") { _ in JournalLogHandler(level: .warning) }
        logger.logLevel = .warning
        let daemon = try Daemon(config: config, logger: logger)
        let startEvents = daemon.events()
        let task = Task { try await daemon.run(handleSignals: false, scheduled: syncInterval != nil) }
        guard let port = await daemon.ready() else { throw DaemonError("sync listener did not start") }
        return TestNode(
            directory: directory, config: config, nodeID: daemon.identity.nodeID,
            syncURL: URL(string: "\(config.tls ? "https" : "http")://127.0.0.1:\(port)")!, startEvents: startEvents,
            daemon: daemon, task: task)
    }

    /// Waits for the first event that `matches`, failing after `seconds` (a bound, not a synchronisation).
    public func event(within seconds: Double = 30, where matches: @escaping @Sendable (DaemonEvent) -> Bool) async throws
        -> DaemonEvent
    {
        try await event(within: seconds, in: subscribe(), where: matches)
    }

    /// The daemon's events from now on: subscribe before doing what causes the event awaited.
    public func subscribe() -> AsyncStream<DaemonEvent> { daemon.events() }

    /// Waits for the first event of `events` that `matches`, failing after `seconds`.
    public func event(
        within seconds: Double = 30, in events: AsyncStream<DaemonEvent>, where matches: @escaping @Sendable (DaemonEvent) -> Bool
    ) async throws -> DaemonEvent {
        try await withThrowingTaskGroup(of: DaemonEvent?.self) { group in
            group.addTask {
                for await event in events where matches(event) { return event }
                return nil
            }
            group.addTask {
                try await Task.sleep(for: .seconds(seconds))
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let event = first else {
                throw DaemonError("no matching event within \(seconds) s")
            }
            return event
        }
    }

    /// A peer entry naming this node, for another node's configuration.
    public func asPeer(_ name: String) -> PeerConfig {
        PeerConfig(name: name, url: syncURL, node: nodeID, pin: daemon.tlsPin)
    }

    /// A new node whose one peer is `source`, reached through a link shaped as `profile`, and which `source` lets
    /// sync with it under the profile's name; the link is the caller's to stop.
    public static func start(pullingFrom source: TestNode, over profile: ShapedLink.Profile) async throws -> (
        node: TestNode, link: ShapedLink
    ) {
        guard let port = source.syncURL.port else { throw DaemonError("the source node serves no sync port") }
        let link = try ShapedLink.start(to: port, profile)
        let node = try await TestNode.start(peers: [source.asPeer("source", through: link)])
        try await source.allow(node, as: profile.name)
        return (node, link)
    }

    /// Lets this node sync with `office` (named `name` here) through a relay shaped as `profile`, which it returns;
    /// `office` allows this node as `ours`, at an address nothing listens on, as it would a laptop it cannot reach.
    public func reach(_ office: TestNode, as name: String, over profile: ShapedLink.Profile, reachedAs ours: String)
        async throws -> ShapedLink
    {
        guard let port = office.syncURL.port else { throw DaemonError("the office node serves no sync port") }
        try await office.allow(PeerConfig(name: ours, url: URL(string: "http://127.0.0.1:\(freePort())")!, node: nodeID))
        let link = try ShapedLink.start(to: port, profile)
        try await allow(office.asPeer(name, through: link))
        return link
    }

    /// This node as a peer named `name`, reached through `link` (a relay to its sync port).
    private func asPeer(_ name: String, through link: ShapedLink) -> PeerConfig {
        var peer = asPeer(name)
        peer.url = URL(string: "http://127.0.0.1:\(link.port)")!
        return peer
    }

    /// The web interface's base URL, when it is configured and listens.
    public var webURL: URL? { daemon.webAddress.flatMap { $0.hasPrefix("http") ? URL(string: $0) : nil } }

    /// The path of the node's SQLite archive.
    public var archivePath: String { directory.appendingPathComponent("archive.sqlite").path }

    /// Lets `other` sync with this node (as `newsctl peers add` does), naming it `name` here.
    public func allow(_ other: TestNode, as name: String) async throws {
        try await allow(other.asPeer(name))
    }

    /// Lets the node `peer` names sync with this node, and pulls from it.
    public func allow(_ peer: PeerConfig) async throws {
        let name = peer.name
        let body = try JSONCoding.encoder().encode(peer)
        let response = try await Fetcher().fetch(
            FetchRequest(
                url: URL(string: "http://newsd/v1/peers")!, method: "POST", headers: [("Content-Type", "application/json")],
                body: body, limits: FetchLimits(totalTimeout: 30, lowSpeedBytes: 0), unixSocket: config.controlSocket.path))
        guard response.status == 200 else {
            throw DaemonError("allowing \(name) failed: \(String(decoding: response.body, as: UTF8.self))")
        }
    }

    /// Asks the daemon, through its control socket, to poll every feed now; returns the feeds' states.
    public func poll() async throws -> [FeedStatus] { try await control("POST", ControlPath.poll) }

    /// Asks the daemon to pull from every peer now; returns the peers' states.
    public func sync() async throws -> [PeerStatus] { try await control("POST", ControlPath.sync) }

    /// Asks the daemon to get trusted timestamps for every waiting capture now.
    public func timestamp() async throws -> TimestampResult { try await control("POST", ControlPath.timestamp) }

    /// The daemon's status report.
    public func status() async throws -> StatusReport { try await control("GET", ControlPath.status) }

    /// Every event the node holds, single texts included.
    public func events() async throws -> [Event] { try await control("GET", ControlPath.events + "?min=1&limit=10000") }

    /// The sum of the metric `name`'s series (all labels) in the daemon's `/metrics`; 0 when it has none.
    public func metric(_ name: String) async throws -> Double {
        let response = try await Fetcher().fetch(
            FetchRequest(
                url: URL(string: "http://newsd\(ControlPath.metrics)")!, limits: FetchLimits(totalTimeout: 30, lowSpeedBytes: 0),
                unixSocket: config.controlSocket.path))
        return String(decoding: response.body, as: UTF8.self).split(separator: "\n").reduce(0) { sum, line in
            guard line.hasPrefix(name + " ") || line.hasPrefix(name + "{"), let value = line.split(separator: " ").last else {
                return sum
            }
            return sum + (Double(value) ?? 0)
        }
    }

    private func control<T: Decodable>(_ method: String, _ path: String) async throws -> T {
        let response = try await Fetcher().fetch(
            FetchRequest(
                url: URL(string: "http://newsd\(path)")!, method: method,
                limits: FetchLimits(totalTimeout: 120, lowSpeedBytes: 0),
                unixSocket: config.controlSocket.path))
        return try JSONCoding.decoder().decode(T.self, from: response.body)
    }

    /// Stops the daemon (as SIGTERM would) and waits until it has closed the archive.
    public func stop(removingData: Bool = true) async throws {
        await daemon.shutdown()
        try await task.value
        if removingData { try? FileManager.default.removeItem(at: directory) }
    }
}

/// A new empty directory under `/tmp`, or under the directory `NEWSD_SCRATCH` names (kept short, for Unix socket
/// paths): a benchmark points it at one directory of its own, which it removes however it ends.
public func temporaryDirectory() throws -> URL {
    let root = ProcessInfo.processInfo.environment["NEWSD_SCRATCH"] ?? "/tmp"
    let url = URL(fileURLWithPath: root).appendingPathComponent("newsd-test-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// The archives one test makes, each in a directory removed with everything in it when the scratch goes. Held as a stored property of
/// a suite, it goes when its test ends, passed or failed: a suite's instance is made for one test and lives through it.
public final class Scratch: Sendable {
    private let made = Mutex<[URL]>([])

    public init() {}

    /// The path of an archive file in a new directory of its own (``temporaryDirectory()``), so that its WAL and
    /// shared-memory files go with it when the scratch goes.
    public func archivePath() throws -> String {
        let directory = try temporaryDirectory()
        made.withLock { $0.append(directory) }
        return directory.appendingPathComponent("archive.sqlite").path
    }

    deinit {
        for url in made.withLock({ $0 }) { try? FileManager.default.removeItem(at: url) }
    }
}

/// A TCP port on 127.0.0.1 that nothing is bound to right now, for a server that must be told its port in advance
/// and may be restarted on it.
///
/// Ports come from below the kernel's ephemeral range (32768 and up here), so that no outgoing connection of
/// a test can take the port as its local end between a server's stop and its restart; each is handed out once
/// per process.
public func freePort() -> Int {
    handedOutPorts.withLock { handedOut in
        for _ in 0..<1000 {
            let port = Int.random(in: 20_000..<32_768)
            if handedOut.contains(port) || !bindable(port) { continue }
            handedOut.insert(port)
            return port
        }
        preconditionFailure("no free port in 20000-32767 after 1000 tries")
    }
}

private let handedOutPorts = Mutex<Set<Int>>([])

private func bindable(_ port: Int) -> Bool {
    let probe = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(probe) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = UInt16(port).bigEndian
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(probe, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
        }
    }
}
