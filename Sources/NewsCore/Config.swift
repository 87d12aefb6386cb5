public import Foundation
import TOMLKit

/// newsd's configuration, read from a TOML file.
///
/// ```toml
/// data_dir = "/var/lib/newsd"
/// listen = "127.0.0.1:8470"
///
/// [[feed]]
/// url = "https://example.org/rss.xml"
///
/// [[peer]]
/// name = "field-laptop"
/// url = "http://10.0.0.2:8470"
/// ```
public struct NewsdConfig: Sendable, Equatable {
    /// Where the archive, the lock file and (by default) the control socket live.
    public var dataDirectory: URL
    /// The control API's Unix socket.
    public var controlSocket: URL
    /// `host:port` the peer sync server listens on; `nil` when sync serving is off.
    public var listen: String?
    /// `host:port` where `/metrics` is also served over TCP, for a Prometheus server; `nil` (the default) for none.
    public var metricsListen: String?
    /// `host:port` of the web interface; `nil` when it is off. Elsewhere than loopback it needs `webPassword`.
    public var webListen: String? = "127.0.0.1:8480"
    /// The web interface's password (its scrypt hash, from `newsctl web passwd`): when set, every page asks for it.
    public var webPassword: String?
    /// Whether the sync server speaks HTTPS, with the node's own certificate (made on first start; peers pin its key).
    public var tls = false
    /// MiB of write-ahead log after which it is copied into the archive; the log never grows much past four times it.
    public var walCheckpointMiB = 64
    /// Seconds between polls of a feed that sets no interval of its own.
    public var pollInterval: Double
    /// The longest interval the adaptive schedule may give a quiet feed.
    public var maxPollInterval: Double
    /// Seconds between pulls from each peer.
    public var syncInterval: Double
    /// `debug`, `info`, `notice`, `warning` or `error`.
    public var logLevel: String
    /// Fetch limits that apply to every request.
    public var limits: FetchLimits
    /// Connections at once in all, to one host, and seconds between two requests to one host.
    public var maxConnections: Int
    public var maxPerHost: Int
    public var politeness: Double
    /// A proxy for every feed and page that sets none of its own.
    public var proxy: String?
    /// The User-Agent sent with every request that sets none of its own.
    public var userAgent: String?
    /// The feeds to poll.
    public var feeds: [FeedConfig]
    /// The peers to pull from.
    public var peers: [PeerConfig]
    /// The time-stamping authorities (RFC 3161) asked to vouch for each batch of captures; none by default.
    public var tsas: [TSAConfig] = []
    /// Seconds between batches of captures sent for a timestamp.
    public var timestampInterval: Double = 600
    /// Seconds after an article's first capture at which its page is fetched again (conditionally) to catch edits
    /// its feed does not announce; empty: never.
    public var revisitAfter: [Double] = [3600, 21600, 86400, 259200, 604800]
    /// Revisits at most in a day, over all articles.
    public var revisitBudget = 20000

    /// A configuration with the defaults for everything not given.
    public init(
        dataDirectory: URL, controlSocket: URL? = nil, listen: String? = "127.0.0.1:8470", pollInterval: Double = 900,
        maxPollInterval: Double = 14400, syncInterval: Double = 300, logLevel: String = "info",
        limits: FetchLimits = FetchLimits(),
        maxConnections: Int = 32, maxPerHost: Int = 4, politeness: Double = 0.5, proxy: String? = nil, userAgent: String? = nil,
        feeds: [FeedConfig] = [], peers: [PeerConfig] = []
    ) {
        self.dataDirectory = dataDirectory
        self.controlSocket = controlSocket ?? dataDirectory.appendingPathComponent("newsd.sock")
        self.listen = listen
        self.pollInterval = pollInterval
        self.maxPollInterval = maxPollInterval
        self.syncInterval = syncInterval
        self.logLevel = logLevel
        self.limits = limits
        self.maxConnections = maxConnections
        self.maxPerHost = maxPerHost
        self.politeness = politeness
        self.proxy = proxy
        self.userAgent = userAgent
        self.feeds = feeds
        self.peers = peers
    }
}

/// One feed to poll.
public struct FeedConfig: Sendable, Equatable, Codable {
    /// The feed's URL: `http(s)://` or `file://`.
    public var url: URL
    /// A title to show instead of the one the feed gives.
    public var title: String?
    /// Seconds between polls, fixed; without it the interval adapts to how often the feed publishes.
    public var interval: Double?
    /// A folder to file the feed under (OPML outline).
    public var category: String?
    /// A proxy for this feed (`socks5h://127.0.0.1:9050` for Tor), overriding the global one.
    public var proxy: String?
    /// A User-Agent for this feed, overriding the global one.
    public var userAgent: String?
    /// Extra request headers for this feed.
    public var headers: [String: String]
    /// Whether the feed's links may lead to this machine or its network (loopback, private, link-local addresses)
    /// although the feed itself is not there: for an intranet site published through a public feed.
    public var allowPrivate: Bool

    public init(
        url: URL, title: String? = nil, interval: Double? = nil, category: String? = nil, proxy: String? = nil,
        userAgent: String? = nil, headers: [String: String] = [:], allowPrivate: Bool = false
    ) {
        self.url = url
        self.title = title
        self.interval = interval
        self.category = category
        self.proxy = proxy
        self.userAgent = userAgent
        self.headers = headers
        self.allowPrivate = allowPrivate
    }

    private enum CodingKeys: String, CodingKey {
        case url, title, interval, category, proxy, userAgent, headers, allowPrivate
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            url: try container.decode(URL.self, forKey: .url), title: try container.decodeIfPresent(String.self, forKey: .title),
            interval: try container.decodeIfPresent(Double.self, forKey: .interval),
            category: try container.decodeIfPresent(String.self, forKey: .category),
            proxy: try container.decodeIfPresent(String.self, forKey: .proxy),
            userAgent: try container.decodeIfPresent(String.self, forKey: .userAgent),
            headers: try container.decodeIfPresent([String: String].self, forKey: .headers) ?? [:],
            allowPrivate: try container.decodeIfPresent(Bool.self, forKey: .allowPrivate) ?? false)
    }
}

/// A time-stamping authority (RFC 3161).
public struct TSAConfig: Sendable, Equatable, Codable {
    /// Where time-stamp queries are posted.
    public var url: URL
    /// Certificates (PEM) the authority's tokens must chain to; without it a token's signature is checked, its
    /// chain is not.
    public var caFile: URL?

    public init(url: URL, caFile: URL? = nil) {
        self.url = url
        self.caFile = caFile
    }
}

/// One peer node to pull from.
public struct PeerConfig: Sendable, Equatable, Codable {
    /// A short name for status output; unique among peers.
    public var name: String
    /// The peer's sync base URL, e.g. `http://10.0.0.2:8470`.
    public var url: URL
    /// The peer's node id (SHA-256 of its public key, hex): only a peer with one may sync, in either direction.
    public var node: String?
    /// Seconds between pulls, overriding the global `sync_interval`.
    public var interval: Double?
    /// For an `https` URL: the key the peer's certificate must carry, as `newsctl status` on the peer shows it
    /// (`sha256//` and the base64 of the SHA-256 of its public key). With a pin no certificate authority is asked.
    public var pin: String?

    public init(name: String, url: URL, node: String? = nil, interval: Double? = nil, pin: String? = nil) {
        self.name = name
        self.url = url
        self.node = node
        self.interval = interval
        self.pin = pin
    }

    /// Whether `pin` has the form of a key pin: `sha256//` and the base64 of 32 bytes.
    public static func isPin(_ pin: String) -> Bool {
        pin.hasPrefix("sha256//") && Data(base64Encoded: String(pin.dropFirst(8)))?.count == 32
    }

    /// What is wrong with the peer's URL, node id or pin, with the key that holds it (`url`, `node`, `pin`), or `nil`:
    /// the URL must be http or https with a host, a node id 64 hex digits, a pin of the form `newsctl status` shows
    /// with an https URL.
    public var problem: (key: String, message: String)? {
        let scheme = url.scheme?.lowercased() ?? ""
        guard ["http", "https"].contains(scheme), url.host != nil else {
            return ("url", "\"\(url.absoluteString)\" is not an http or https URL")
        }
        if let node, ContentHash(hex: node.lowercased()) == nil {
            return ("node", "\"\(node)\" is not a node id (64 hex digits, as `newsctl status` shows it)")
        }
        if let pin {
            guard Self.isPin(pin) else {
                return ("pin", "\"\(pin)\" is not a key pin (sha256// and base64, as `newsctl status` shows it)")
            }
            guard scheme == "https" else { return ("pin", "a pin needs an https URL") }
        }
        return nil
    }
}

/// Bounds on every fetch, so that a hostile or broken server cannot exhaust time, memory or disk.
public struct FetchLimits: Sendable, Equatable, Codable {
    /// Largest body accepted, in bytes; a larger one is cut off and the fetch fails.
    public var maxBodyBytes: Int
    /// Seconds allowed to establish a connection.
    public var connectTimeout: Double
    /// Seconds allowed for a whole transfer.
    public var totalTimeout: Double
    /// Redirects followed before the fetch fails.
    public var maxRedirects: Int
    /// A transfer slower than `lowSpeedBytes` per second for `lowSpeedTime` seconds is aborted.
    public var lowSpeedBytes: Int
    /// See `lowSpeedBytes`.
    public var lowSpeedTime: Double

    public init(
        maxBodyBytes: Int = 16 << 20, connectTimeout: Double = 15, totalTimeout: Double = 120, maxRedirects: Int = 5,
        lowSpeedBytes: Int = 64, lowSpeedTime: Double = 30
    ) {
        self.maxBodyBytes = maxBodyBytes
        self.connectTimeout = connectTimeout
        self.totalTimeout = totalTimeout
        self.maxRedirects = maxRedirects
        self.lowSpeedBytes = lowSpeedBytes
        self.lowSpeedTime = lowSpeedTime
    }
}

/// A configuration file that cannot be used, with the file, line and key at fault.
public struct ConfigError: Error, CustomStringConvertible, Equatable {
    /// One line naming the file, the position or key, and what is wrong.
    public let description: String

    public init(_ description: String) { self.description = description }
}

extension NewsdConfig {
    /// Reads and validates the TOML file at `path`. Relative paths in it resolve against the file's folder.
    public static func load(path: String) throws(ConfigError) -> NewsdConfig {
        let file = URL(fileURLWithPath: path).standardizedFileURL
        let text: String
        do {
            text = try String(contentsOf: file, encoding: .utf8)
        } catch {
            throw ConfigError("\(file.path): cannot read: \(error.localizedDescription)")
        }
        return try parse(text, file: file)
    }

    /// Parses TOML `text` as if read from `file` (used to resolve relative paths and in messages).
    public static func parse(_ text: String, file: URL) throws(ConfigError) -> NewsdConfig {
        let source = ConfigSource(file: file, text: text)
        let raw: RawConfig
        do {
            var decoder = TOMLDecoder()
            decoder.strictDecoding = true
            raw = try decoder.decode(RawConfig.self, from: text)
        } catch let error as TOMLParseError {
            throw ConfigError("\(file.path):\(error.source.begin.line):\(error.source.begin.column): \(error.description)")
        } catch let error as UnexpectedKeysError {
            let key = error.keys.values.map { keyPath($0) }.sorted().first ?? "?"
            throw source.error(key: key, "unknown key")
        } catch let error as DecodingError {
            let (key, message) = describe(error)
            throw source.error(key: key, message)
        } catch {
            throw ConfigError("\(file.path): \(error)")
        }
        return try raw.resolve(source)
    }
}

/// A configuration file's name and text, to point errors at the line of the key at fault.
private struct ConfigSource {
    let file: URL
    let text: String

    /// An error naming the file, the line where `key` (`feed[2].url`, `limits.max_body_bytes`) is set, and the key.
    func error(key: String, _ message: String) -> ConfigError {
        let position = line(of: key).map { ":\($0)" } ?? ""
        return ConfigError("\(file.path)\(position): key \(key): \(message)")
    }

    /// The line setting `key`, or the header of its table when the key itself is missing.
    func line(of key: String) -> Int? {
        var parts = key.split(separator: ".").map(String.init)
        let leaf = parts.removeLast()
        var table: (name: String, occurrence: Int)?
        if let section = parts.first {
            let name = section.prefix { $0 != "[" }
            let occurrence = Int(section.drop { $0 != "[" }.dropFirst().dropLast()) ?? 1
            table = (String(name), occurrence)
        }
        var current: String?
        var seen: [String: Int] = [:]
        var header: Int?
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("[") {
                let name = line.trimmingCharacters(in: CharacterSet(charactersIn: "[] \t"))
                seen[name, default: 0] += 1
                current = "\(name)#\(seen[name]!)"
                if let table, current == "\(table.name)#\(table.occurrence)" { header = index + 1 }
                continue
            }
            let inScope = table.map { current == "\($0.name)#\($0.occurrence)" } ?? (current == nil)
            let name = line.prefix { $0 != "=" }.trimmingCharacters(in: .whitespaces)
            if inScope, line.contains("="), name == leaf { return index + 1 }
        }
        return header
    }
}

private func keyPath(_ path: [any CodingKey]) -> String {
    var out = ""
    for key in path {
        if let index = key.intValue {
            out += "[\(index + 1)]"
        } else {
            out += out.isEmpty ? key.stringValue : ".\(key.stringValue)"
        }
    }
    return out.isEmpty ? "(top level)" : out
}

private func describe(_ error: DecodingError) -> (key: String, message: String) {
    switch error {
    case .typeMismatch(let type, let context):
        let expected = type == Double.self ? "a number" : type == String.self ? "a string" : "\(type)"
        return (keyPath(context.codingPath), "expected \(expected)")
    case .valueNotFound(let type, let context):
        return (keyPath(context.codingPath), "missing \(type) value")
    case .keyNotFound(let key, let context):
        let path = context.codingPath.last?.stringValue == key.stringValue ? context.codingPath : context.codingPath + [key]
        return (keyPath(path), "required but missing")
    case .dataCorrupted(let context):
        return (keyPath(context.codingPath), context.debugDescription)
    @unknown default:
        return ("(top level)", "\(error)")
    }
}

/// A TOML integer or float.
private struct Number: Decodable {
    let value: Double

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let integer = try? container.decode(Int.self) {
            value = Double(integer)
        } else {
            value = try container.decode(Double.self)
        }
    }
}

/// Every key the parser accepts, named as its messages name them.
func acceptedConfigKeys() -> [String] {
    typealias Keys = RawConfig.CodingKeys
    return Keys.allCases.filter { ![Keys.limits, .feed, .peer, .tsa].contains($0) }.map(\.rawValue)
        + RawConfig.Limits.CodingKeys.allCases.map { "limits." + $0.rawValue }
        + RawConfig.Feed.CodingKeys.allCases.map { "feed." + $0.rawValue }
        + RawConfig.Peer.CodingKeys.allCases.map { "peer." + $0.rawValue }
        + RawConfig.TSA.CodingKeys.allCases.map { "tsa." + $0.rawValue }
}

/// The file's shape, before paths are resolved and values checked.
private struct RawConfig: Decodable {
    struct Limits: Decodable {
        var maxBodyBytes: Int?
        var connectTimeout: Number?
        var totalTimeout: Number?
        var maxRedirects: Int?
        var lowSpeedBytes: Int?
        var lowSpeedTime: Number?
        var maxConnections: Int?
        var maxPerHost: Int?
        var politeness: Number?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case maxBodyBytes = "max_body_bytes"
            case connectTimeout = "connect_timeout"
            case totalTimeout = "total_timeout"
            case maxRedirects = "max_redirects"
            case lowSpeedBytes = "low_speed_bytes"
            case lowSpeedTime = "low_speed_time"
            case maxConnections = "max_connections"
            case maxPerHost = "max_per_host"
            case politeness
        }
    }
    struct Feed: Decodable {
        var url: String
        var title: String?
        var interval: Number?
        var category: String?
        var proxy: String?
        var userAgent: String?
        var headers: [String: String]?
        var allowPrivate: Bool?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case url, title, interval, category, proxy, headers
            case userAgent = "user_agent"
            case allowPrivate = "allow_private"
        }
    }
    struct Peer: Decodable {
        var name: String
        var url: String
        var node: String?
        var interval: Number?
        var pin: String?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case name, url, node, interval, pin
        }
    }

    struct TSA: Decodable {
        var url: String
        var caFile: String?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case url
            case caFile = "ca_file"
        }
    }

    var dataDir: String?
    var controlSocket: String?
    var listen: String?
    var metricsListen: String?
    var webListen: String?
    var webPassword: String?
    var tls: Bool?
    var walCheckpointMib: Int?
    var pollInterval: Number?
    var maxPollInterval: Number?
    var syncInterval: Number?
    var logLevel: String?
    var proxy: String?
    var userAgent: String?
    var limits: Limits?
    var feed: [Feed]?
    var peer: [Peer]?
    var tsa: [TSA]?
    var timestampInterval: Number?
    var revisitAfter: [Number]?
    var revisitBudget: Int?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case dataDir = "data_dir"
        case controlSocket = "control_socket"
        case listen
        case metricsListen = "metrics_listen"
        case webListen = "web_listen"
        case webPassword = "web_password"
        case pollInterval = "poll_interval"
        case maxPollInterval = "max_poll_interval"
        case syncInterval = "sync_interval"
        case logLevel = "log_level"
        case userAgent = "user_agent"
        case walCheckpointMib = "wal_checkpoint_mib"
        case timestampInterval = "timestamp_interval"
        case revisitAfter = "revisit_after"
        case revisitBudget = "revisit_budget"
        case limits, feed, peer, proxy, tls, tsa
    }

    func resolve(_ source: ConfigSource) throws(ConfigError) -> NewsdConfig {
        let file = source.file
        let base = file.deletingLastPathComponent()
        func fail(_ key: String, _ message: String) -> ConfigError { source.error(key: key, message) }
        func positive(_ number: Number?, _ key: String, default fallback: Double) throws(ConfigError) -> Double {
            guard let value = number?.value else { return fallback }
            guard value > 0, value.isFinite else { throw fail(key, "must be a positive number of seconds") }
            return value
        }

        let dataDirectory = URL(fileURLWithPath: dataDir ?? "data", relativeTo: base).standardizedFileURL
        let socket =
            controlSocket.map { URL(fileURLWithPath: $0, relativeTo: base).standardizedFileURL }
            ?? dataDirectory.appendingPathComponent("newsd.sock")
        if socket.path.utf8.count > 100 {
            throw fail("control_socket", "path \(socket.path) is too long for a Unix socket (100 bytes at most)")
        }
        let listenAddress = (listen ?? "127.0.0.1:8470").trimmingCharacters(in: .whitespaces)
        if !listenAddress.isEmpty, HostPort(listenAddress) == nil {
            throw fail("listen", "expected HOST:PORT, got \"\(listenAddress)\"")
        }
        let level = logLevel ?? "info"
        guard ["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(level) else {
            throw fail("log_level", "expected one of debug, info, notice, warning, error, got \"\(level)\"")
        }

        func count(_ value: Int?, _ key: String, default fallback: Int, minimum: Int = 1) throws(ConfigError) -> Int {
            guard let value else { return fallback }
            guard value >= minimum else { throw fail(key, "must be at least \(minimum)") }
            return value
        }
        func proxyURL(_ value: String?, _ key: String) throws(ConfigError) -> String? {
            guard let value, !value.isEmpty else { return nil }
            let schemes = ["http", "https", "socks4", "socks4a", "socks5", "socks5h"]
            guard let url = URL(string: value), schemes.contains(url.scheme?.lowercased() ?? ""), url.host != nil else {
                throw fail(key, "\"\(value)\" is not a proxy URL (\(schemes.joined(separator: ", ")))")
            }
            return value
        }

        let defaults = FetchLimits()
        let fetchLimits = FetchLimits(
            maxBodyBytes: try count(limits?.maxBodyBytes, "limits.max_body_bytes", default: defaults.maxBodyBytes),
            connectTimeout: try positive(limits?.connectTimeout, "limits.connect_timeout", default: defaults.connectTimeout),
            totalTimeout: try positive(limits?.totalTimeout, "limits.total_timeout", default: defaults.totalTimeout),
            maxRedirects: try count(limits?.maxRedirects, "limits.max_redirects", default: defaults.maxRedirects, minimum: 0),
            lowSpeedBytes: try count(
                limits?.lowSpeedBytes, "limits.low_speed_bytes", default: defaults.lowSpeedBytes, minimum: 0),
            lowSpeedTime: try positive(limits?.lowSpeedTime, "limits.low_speed_time", default: defaults.lowSpeedTime))
        let politeness = limits?.politeness?.value ?? 0.5
        guard politeness >= 0, politeness <= 3600 else { throw fail("limits.politeness", "must be 0 to 3600 seconds") }

        var feeds: [FeedConfig] = []
        for (index, feed) in (feed ?? []).enumerated() {
            let key = "feed[\(index + 1)]"
            guard let url = resolveURL(feed.url, base: base) else {
                throw fail("\(key).url", "\"\(feed.url)\" is not an http, https or file URL")
            }
            if feeds.contains(where: { $0.url == url }) {
                throw fail("\(key).url", "\(url.absoluteString) is listed twice")
            }
            feeds.append(
                FeedConfig(
                    url: url, title: feed.title, interval: try positive(feed.interval, "\(key).interval", default: 0).nonZero,
                    category: feed.category, proxy: try proxyURL(feed.proxy, "\(key).proxy"), userAgent: feed.userAgent,
                    headers: feed.headers ?? [:], allowPrivate: feed.allowPrivate ?? false))
        }

        var peers: [PeerConfig] = []
        for (index, peer) in (peer ?? []).enumerated() {
            let key = "peer[\(index + 1)]"
            guard let url = URL(string: peer.url) else {
                throw fail("\(key).url", "\"\(peer.url)\" is not an http or https URL")
            }
            guard !peer.name.isEmpty, !peers.contains(where: { $0.name == peer.name }) else {
                throw fail("\(key).name", "must be non-empty and unique")
            }
            let entry = PeerConfig(
                name: peer.name, url: url, node: peer.node?.lowercased(),
                interval: try positive(peer.interval, "\(key).interval", default: 0).nonZero, pin: peer.pin)
            if let problem = entry.problem { throw fail("\(key).\(problem.key)", problem.message) }
            peers.append(entry)
        }

        if let metricsListen, HostPort(metricsListen) == nil {
            throw fail("metrics_listen", "expected HOST:PORT, got \"\(metricsListen)\"")
        }
        let poll = try positive(pollInterval, "poll_interval", default: 900)
        var config = NewsdConfig(
            dataDirectory: dataDirectory,
            controlSocket: socket,
            listen: listenAddress.isEmpty ? nil : listenAddress,
            pollInterval: poll,
            maxPollInterval: max(poll, try positive(maxPollInterval, "max_poll_interval", default: 14400)),
            syncInterval: try positive(syncInterval, "sync_interval", default: 300),
            logLevel: level,
            limits: fetchLimits,
            maxConnections: try count(limits?.maxConnections, "limits.max_connections", default: 32),
            maxPerHost: try count(limits?.maxPerHost, "limits.max_per_host", default: 4),
            politeness: politeness,
            proxy: try proxyURL(proxy, "proxy"),
            userAgent: userAgent,
            feeds: feeds,
            peers: peers
        )
        config.metricsListen = metricsListen
        if let webPassword {
            guard WebPassword(webPassword) != nil else {
                throw fail("web_password", "expected the line `newsctl web passwd` prints (scrypt$…)")
            }
            config.webPassword = webPassword
        }
        if let webListen = webListen?.trimmingCharacters(in: .whitespaces) {
            guard webListen.isEmpty || HostPort(webListen) != nil else {
                throw fail("web_listen", "expected HOST:PORT or \"\", got \"\(webListen)\"")
            }
            config.webListen = webListen.isEmpty ? nil : webListen
        }
        if let address = config.webListen.flatMap(HostPort.init), !address.isLoopback, config.webPassword == nil {
            throw fail(
                "web_listen",
                "\(address.host) is not a loopback address: elsewhere the web interface needs a password (web_password, "
                    + "made by `newsctl web passwd`), and with tls = true it speaks HTTPS")
        }
        config.tls = tls ?? false
        for (index, tsa) in (tsa ?? []).enumerated() {
            let key = "tsa[\(index + 1)]"
            guard let url = URL(string: tsa.url), ["http", "https"].contains(url.scheme?.lowercased()), url.host != nil else {
                throw fail("\(key).url", "\"\(tsa.url)\" is not an http or https URL")
            }
            guard !config.tsas.contains(where: { $0.url == url }) else {
                throw fail("\(key).url", "\(url.absoluteString) is listed twice")
            }
            let caFile = tsa.caFile.map { URL(fileURLWithPath: $0, relativeTo: base).standardizedFileURL }
            if let caFile, !FileManager.default.isReadableFile(atPath: caFile.path) {
                throw fail("\(key).ca_file", "cannot read \(caFile.path)")
            }
            config.tsas.append(TSAConfig(url: url, caFile: caFile))
        }
        config.timestampInterval = try positive(timestampInterval, "timestamp_interval", default: config.timestampInterval)
        if let revisitAfter {
            let delays = revisitAfter.map(\.value)
            guard delays.allSatisfy({ $0 >= 0 && $0.isFinite }), delays == delays.sorted(), delays.count <= 32 else {
                throw fail("revisit_after", "expected up to 32 delays in seconds, each at least the one before")
            }
            config.revisitAfter = delays
        }
        config.revisitBudget = try count(revisitBudget, "revisit_budget", default: config.revisitBudget, minimum: 0)
        config.walCheckpointMiB = try count(walCheckpointMib, "wal_checkpoint_mib", default: config.walCheckpointMiB)
        guard config.walCheckpointMiB <= 4096 else { throw fail("wal_checkpoint_mib", "must be at most 4096") }
        return config
    }
}

extension Double {
    fileprivate var nonZero: Double? { self == 0 ? nil : self }
}

/// Resolves a feed location: an `http(s)://` or `file://` URL, or a path relative to `base`.
private func resolveURL(_ text: String, base: URL) -> URL? {
    if let url = URL(string: text), let scheme = url.scheme?.lowercased() {
        switch scheme {
        case "http", "https": return url.host == nil ? nil : url
        case "file": return url.standardizedFileURL
        default: return nil
        }
    }
    guard !text.isEmpty else { return nil }
    return URL(fileURLWithPath: text, relativeTo: base).standardizedFileURL.absoluteURL
}

/// A `host:port` pair, with IPv6 hosts in brackets (`[::1]:8470`).
public struct HostPort: Sendable, Equatable {
    /// The host, without brackets.
    public let host: String
    /// The port; 0 lets the system choose.
    public let port: Int

    /// Whether the host is a loopback address or `localhost`.
    public var isLoopback: Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.") && host.split(separator: ".").count == 4
    }

    /// Parses `host:port`; `nil` if either part is missing or the port is out of range.
    public init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":") else { return nil }
        var host = String(text[..<colon])
        guard let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else { return nil }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { return nil }
        self.host = host
        self.port = port
    }
}
