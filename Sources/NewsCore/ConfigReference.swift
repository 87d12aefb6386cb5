import Foundation

/// Every key of `newsd.toml`: what it takes, its default and what it does.
///
/// The parser accepts exactly these keys and `newsd --check-config` names them so in its messages (tests hold both to
/// this list, and each default to what a file without the key gets); `newsd --config-manual` writes the
/// `newsd.toml(5)` manual page from it.
public enum ConfigReference {
    /// One key, named as in `--check-config`'s messages: `poll_interval`, `limits.max_body_bytes`, `feed.url`.
    public struct Key: Sendable {
        public let name: String
        /// What it takes.
        public let value: String
        /// Its value when left out; `nil` for none.
        public let defaultValue: String?
        public let meaning: String
    }

    private static let limits = FetchLimits()
    private static let defaults = NewsdConfig(dataDirectory: URL(fileURLWithPath: "/"))

    public static let keys: [Key] = [
        Key(
            name: "data_dir", value: "path", defaultValue: "data",
            meaning: "Where the archive, its key and (by default) the control socket live; relative to the file."),
        Key(
            name: "control_socket", value: "path", defaultValue: "DATA_DIR/newsd.sock",
            meaning: "The Unix socket newsctl talks to; at most 100 bytes."),
        Key(
            name: "listen", value: "HOST:PORT or \"\"", defaultValue: defaults.listen ?? "",
            meaning: "Where the sync server listens for peers; an empty string turns it off."),
        Key(
            name: "metrics_listen", value: "HOST:PORT", defaultValue: nil,
            meaning: "Also serves /metrics over TCP here, for a Prometheus server (it is always on the control socket)."),
        Key(
            name: "web_listen", value: "HOST:PORT or \"\"", defaultValue: defaults.webListen ?? "",
            meaning:
                "Where the web interface listens; an empty string turns it off. Elsewhere than a loopback address it"
                + " needs web_password. If the address is taken, archiving goes on without it and `newsctl status` says why."),
        Key(
            name: "web_password", value: "scrypt hash", defaultValue: nil,
            meaning:
                "The web interface's password, as the line `newsctl web passwd` prints: when set, every page asks for it"
                + " (a session cookie, HttpOnly and SameSite=Strict, Secure over HTTPS). With tls = true the interface"
                + " speaks HTTPS with the node's certificate."),
        Key(
            name: "tls", value: "boolean", defaultValue: "\(defaults.tls)",
            meaning: "Whether the sync server speaks HTTPS with the node's own certificate (peers pin its key)."),
        Key(
            name: "wal_checkpoint_mib", value: "MiB, 1 to 4096", defaultValue: "\(defaults.walCheckpointMiB)",
            meaning:
                "Write-ahead log after which it is copied into the archive; the log file stays under about four times this."
                + " Smaller saves disk, larger saves copying. A restart applies it."),
        Key(
            name: "poll_interval", value: "seconds", defaultValue: seconds(defaults.pollInterval),
            meaning: "Between polls of a feed that sets no interval, before the feed's own rhythm adapts it."),
        Key(
            name: "max_poll_interval", value: "seconds", defaultValue: seconds(defaults.maxPollInterval),
            meaning: "The longest interval the adaptive schedule gives a quiet feed (never less than poll_interval)."),
        Key(
            name: "sync_interval", value: "seconds", defaultValue: seconds(defaults.syncInterval),
            meaning: "Between pulls from each peer that sets no interval."),
        Key(
            name: "log_level", value: "trace, debug, info, notice, warning, error or critical",
            defaultValue: defaults.logLevel, meaning: "The least important messages written to the journal."),
        Key(
            name: "proxy", value: "URL", defaultValue: nil,
            meaning: "A proxy for every feed and page (http, https, socks4, socks4a, socks5, socks5h; socks5h for Tor)."),
        Key(
            name: "user_agent", value: "text", defaultValue: "newsd/VERSION",
            meaning: "The User-Agent sent with every request that sets none of its own."),
        Key(
            name: "limits.max_body_bytes", value: "bytes", defaultValue: "\(limits.maxBodyBytes)",
            meaning: "A larger feed or page is refused, not truncated."),
        Key(
            name: "limits.connect_timeout", value: "seconds", defaultValue: seconds(limits.connectTimeout),
            meaning: "To connect, TLS included."),
        Key(
            name: "limits.total_timeout", value: "seconds", defaultValue: seconds(limits.totalTimeout),
            meaning: "For a whole request."),
        Key(
            name: "limits.max_redirects", value: "count", defaultValue: "\(limits.maxRedirects)",
            meaning: "Redirects followed; only http and https ones are."),
        Key(
            name: "limits.low_speed_bytes", value: "bytes per second", defaultValue: "\(limits.lowSpeedBytes)",
            meaning: "A transfer slower than this for low_speed_time seconds is ended; 0 turns the check off."),
        Key(
            name: "limits.low_speed_time", value: "seconds", defaultValue: seconds(limits.lowSpeedTime),
            meaning: "See low_speed_bytes."),
        Key(
            name: "limits.max_connections", value: "count", defaultValue: "\(defaults.maxConnections)",
            meaning: "Requests at once in all; also how many of one feed's articles are fetched side by side."),
        Key(
            name: "limits.max_per_host", value: "count", defaultValue: "\(defaults.maxPerHost)",
            meaning: "Requests at once to one host."),
        Key(
            name: "limits.politeness", value: "seconds, 0 to 3600", defaultValue: seconds(defaults.politeness),
            meaning: "Between the starts of two requests to one host."),
        Key(
            name: "feed.url", value: "http(s) URL, file URL or path", defaultValue: nil,
            meaning: "The feed ([[feed]], one table per feed); a path is relative to the file."),
        Key(name: "feed.title", value: "text", defaultValue: nil, meaning: "Shown instead of the feed's own title."),
        Key(
            name: "feed.interval", value: "seconds", defaultValue: nil,
            meaning: "A fixed interval between polls instead of the adaptive one."),
        Key(name: "feed.category", value: "text", defaultValue: nil, meaning: "A folder, e.g. News/Region (OPML outlines)."),
        Key(name: "feed.proxy", value: "URL", defaultValue: nil, meaning: "A proxy for this feed and its articles."),
        Key(name: "feed.user_agent", value: "text", defaultValue: nil, meaning: "A User-Agent for this feed and its articles."),
        Key(
            name: "feed.headers", value: "table of text", defaultValue: nil,
            meaning: "Request headers (a token, a cookie) for the feed and its articles on the same origin, and no other."),
        Key(
            name: "feed.allow_private", value: "boolean", defaultValue: "false",
            meaning: "Lets the links of a feed on the internet lead to this machine or its network (an intranet site)."),
        Key(
            name: "peer.name", value: "text", defaultValue: nil,
            meaning: "The peer ([[peer]], one table per peer), named in newsctl and the log; unique."),
        Key(name: "peer.url", value: "http(s) URL", defaultValue: nil, meaning: "Where the peer's sync server listens."),
        Key(
            name: "peer.node", value: "64 hex digits", defaultValue: nil,
            meaning: "The peer's node id, as newsctl status shows it there: only that node is accepted as the peer."),
        Key(name: "peer.interval", value: "seconds", defaultValue: nil, meaning: "Between pulls from this peer."),
        Key(
            name: "peer.pin", value: "sha256/BASE64", defaultValue: nil,
            meaning: "The peer's TLS public key, for an https URL (newsctl status shows a node's own)."),
        Key(
            name: "timestamp_interval", value: "seconds", defaultValue: seconds(defaults.timestampInterval),
            meaning: "Between batches of new captures sent to the time-stamping authorities (a batch that fails goes again"
                + " sooner, and waits while there is no link)."),
        Key(
            name: "revisit_after", value: "list of seconds",
            defaultValue: "[" + defaults.revisitAfter.map(seconds).joined(separator: ", ") + "]",
            meaning: "When, after an article's first capture, its page is fetched again (conditionally) to catch edits"
                + " its feed does not announce (1 hour, 6 hours, 1, 3 and 7 days); [] never."),
        Key(
            name: "revisit_budget", value: "count", defaultValue: "\(defaults.revisitBudget)",
            meaning: "Revisits at most in a day, over all articles: the oldest due go first, the rest wait for the next"
                + " day. Per-host limits and politeness apply as to any fetch."),
        Key(
            name: "tsa.url", value: "http(s) URL", defaultValue: nil,
            meaning: "A time-stamping authority (RFC 3161; [[tsa]], one table per authority): each batch of captures gets"
                + " a token from every one, for independence."),
        Key(
            name: "tsa.ca_file", value: "path", defaultValue: nil,
            meaning: "Certificates (PEM) the authority's tokens must chain to; relative to the file. Without it, a token's"
                + " signature is checked but not whom it chains to."),
    ]

    private static func seconds(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }

    /// The `newsd.toml(5)` manual page, in roff.
    public static func manualPage(version: String) -> String {
        func escaped(_ text: String) -> String {
            text.replacingOccurrences(of: "\\", with: "\\e").replacingOccurrences(of: "-", with: "\\-")
        }
        var page = """
            .TH NEWSD.TOML 5 "" "newsd \(version)" "File Formats"
            .SH NAME
            newsd.toml \\- configuration of the newsd news archive
            .SH DESCRIPTION
            A TOML file, read at start and again on SIGHUP (a file with an error is refused and the running \
            configuration kept). Feeds are [[feed]] tables and peers [[peer]] tables; the limits are the [limits] table. \
            Every key may be left out except a feed's url and a peer's name and url.
            .B newsd \\-\\-check\\-config
            names the file, the line and the key of anything wrong.
            .SH KEYS

            """
        for key in keys {
            page += ".TP\n.B \(escaped(key.name))\n"
            page += "(\(escaped(key.value))\(key.defaultValue.map { "; default \\fB\(escaped($0))\\fR" } ?? ""))\n"
            page += escaped(key.meaning) + "\n"
        }
        page += """
            .SH EXAMPLE
            .nf
            data_dir = "/var/lib/newsd"
            listen = "0.0.0.0:8470"
            [limits]
            politeness = 1
            [[feed]]
            url = "https://example.org/rss.xml"
            category = "News/Region"
            [[peer]]
            name = "field\\-laptop"
            url = "http://10.0.0.2:8470"
            node = "\(String(repeating: "ab", count: 32))"
            .fi
            .SH SEE ALSO
            .BR newsd (1),
            .BR newsctl (1)

            """
        return page
    }
}
