import ArgumentParser
import Fetching
import Foundation
import NewsCore
import Synchronization

/// `newsctl`: controls and queries a running newsd through its control socket.
@main
struct Newsctl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "newsctl",
        abstract: "Controls a running newsd.",
        version: newsdVersion,
        subcommands: [
            Status.self, Poll.self, Sync.self, Feeds.self, Articles.self, Search.self, Show.self, Diff.self, Edits.self,
            Stories.self, StoryTimeline.self,
            Verify.self, Timestamp.self, Prove.self, Backup.self,
            Tag.self, Note.self, Hide.self, Export.self, Import.self, Peers.self, Config.self, Extract.self, Reextract.self,
            Web.self,
        ])
}

/// Where to find the daemon: `--socket`, `$NEWSD_SOCKET`, the socket named by `--config`, or the defaults.
struct Connection: ParsableArguments {
    @Option(name: .long, help: "The daemon's control socket.")
    var socket: String?

    @Option(name: .long, help: "Read the control socket's path from this newsd configuration.")
    var config: String?

    @Flag(name: .long, help: "Print JSON instead of text.")
    var json = false

    func socketPath() throws -> String {
        if let socket { return socket }
        if let fromEnvironment = ProcessInfo.processInfo.environment["NEWSD_SOCKET"], !fromEnvironment.isEmpty {
            return fromEnvironment
        }
        if let config {
            do {
                return try NewsdConfig.load(path: config).controlSocket.path
            } catch {
                throw CLIError(error.description)
            }
        }
        let system = "/run/newsd/newsd.sock"
        return FileManager.default.fileExists(atPath: system) ? system : "data/newsd.sock"
    }

    /// Sends a request to the daemon and decodes its JSON answer.
    func call<T: Decodable>(_ method: String, _ path: String, body: Data? = nil, as type: T.Type) async throws -> T {
        try decode(T.self, from: try await send(method, path, body: body))
    }

    /// The daemon's JSON answer, decoded.
    func decode<T: Decodable>(_ type: T.Type, from response: FetchResponse) throws -> T {
        do {
            return try JSONCoding.decoder().decode(T.self, from: response.body)
        } catch {
            throw CLIError("cannot read newsd's answer: \(error)")
        }
    }

    /// Sends a request to the daemon; any answer but 2xx becomes the daemon's one-line error.
    func send(
        _ method: String, _ path: String, body: Data? = nil, onData: (@Sendable (Data) -> Void)? = nil
    ) async throws -> FetchResponse {
        let socket = try socketPath()
        var request = FetchRequest(
            url: URL(string: "http://newsd\(path)")!, method: method,
            headers: body == nil ? [] : [("Content-Type", "application/json")],
            body: body,
            // A streamed answer (an export, a backup) is written out as it comes, whatever its size.
            limits: FetchLimits(maxBodyBytes: onData == nil ? 256 << 20 : Int.max, totalTimeout: 3600, lowSpeedBytes: 0),
            unixSocket: socket)
        request.onData = onData
        let response: FetchResponse
        do {
            response = try await Fetcher(userAgent: "newsctl/\(newsdVersion)").fetch(request)
        } catch {
            // A socket this user may not reach (in a directory closed to it) is not a daemon that is not running.
            var info = stat()
            if stat(socket, &info) != 0 {
                if errno == EACCES {
                    throw CLIError("permission denied on the way to \(socket): join the daemon's group or run as its user")
                }
                throw CLIError("newsd is not running (no control socket at \(socket))")
            }
            if access(socket, R_OK | W_OK) != 0 {
                throw CLIError("permission denied on \(socket): join the daemon's group or run as its user")
            }
            throw CLIError("newsd is not running or not answering at \(socket): \(error)")
        }
        guard (200..<300).contains(response.status) else {
            struct Failure: Decodable {
                struct Message: Decodable { var message: String }
                var error: Message
            }
            let message =
                (try? JSONDecoder().decode(Failure.self, from: response.body))?.error.message
                ?? "newsd answered \(response.status): \(String(decoding: response.body.prefix(300), as: UTF8.self))"
            throw CLIError(message)
        }
        return response
    }

    /// Prints `value` as JSON when `--json` was given, else the text `human` makes of it.
    func output<T: Encodable>(_ value: T, human: (T) -> String) throws {
        if json {
            let data = try JSONCoding.encoder(pretty: true).encode(value)
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(human(value), terminator: "")
        }
    }
}

/// `value` encoded for a URL query: everything but letters and digits percent-escaped.
func queryValue(_ value: String) -> String {
    value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? value
}

/// `limit` as given to `--limit`, which must be at least 1.
func checkedLimit(_ limit: Int) throws -> Int {
    guard limit >= 1 else { throw CLIError("--limit must be at least 1, not \(limit)") }
    return limit
}

/// A failure reported to the user in one line, with exit status 1.
struct CLIError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) { self.description = description }
}

extension Newsctl {
    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Shows the daemon, its archive, feeds and peers.")

        @OptionGroup var connection: Connection

        func run() async throws {
            try await report {
                let status = try await connection.call("GET", ControlPath.status, as: StatusReport.self)
                try connection.output(status, human: StatusText.render)
            }
        }
    }

    struct Poll: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Polls every feed, or one, now and waits for the result.")

        @OptionGroup var connection: Connection

        @Argument(help: "The feed's URL; all feeds when left out.")
        var feed: String?

        func run() async throws {
            try await report {
                let query = feed.map { "?feed=" + queryValue($0) } ?? ""
                let feeds = try await connection.call("POST", ControlPath.poll + query, as: [FeedStatus].self)
                try connection.output(feeds) { StatusText.feeds($0, now: Date()) }
            }
        }
    }

    struct Sync: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Syncs with every peer, or with one, now (pull, then push) and waits for the result.",
            discussion: "Exit status 1 when a peer could not be synced; its error is in the output.")

        @OptionGroup var connection: Connection

        @Argument(help: "The peer's name, as `newsctl peers list` shows it.")
        var peer: String?

        func run() async throws {
            try await report {
                let query = peer.map { "?peer=\(queryValue($0))" } ?? ""
                let connection = connection
                let finished = Atomic(false)
                let sync = Task {
                    defer { finished.store(true, ordering: .releasing) }
                    return try await connection.call("POST", ControlPath.sync + query, as: [PeerStatus].self)
                }
                if !connection.json, isatty(STDERR_FILENO) == 1 { await showProgress(until: finished) }
                let peers = try await sync.value
                try connection.output(peers) { StatusText.peers($0, now: Date()) }
                if peers.contains(where: { $0.lastResult == "error" }) { throw ExitCode(1) }
            }
        }
    }
}

extension Newsctl {
    struct Timestamp: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Asks the time-stamping authorities (RFC 3161) for tokens over every capture that waits, now.",
            discussion: "Exit status 1 when an authority could not be reached or its token was refused; why is in the output.")

        @OptionGroup var connection: Connection

        func run() async throws {
            try await report {
                let result = try await connection.call("POST", ControlPath.timestamp, as: TimestampResult.self)
                try connection.output(result) { result in
                    "\(result.tokens) tokens over \(result.captures) captures\n"
                        + result.errors.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)\n" }.joined()
                }
                if !result.errors.isEmpty { throw ExitCode(1) }
            }
        }
    }
}

extension Newsctl.Sync {
    /// Shows, on stderr, the changes pulled since the sync began out of those the peers had, until `finished`.
    private func showProgress(until finished: borrowing Atomic<Bool>) async {
        let bar = ProgressBar(enabled: true)
        var start: [String: Int64] = [:]
        while !finished.load(ordering: .acquiring) {
            if let status = try? await connection.call("GET", ControlPath.status, as: StatusReport.self) {
                let peers = status.peers.filter { peer == nil || $0.name == peer }
                for peer in peers where start[peer.name] == nil { start[peer.name] = peer.cursor }
                let done = peers.reduce(Int64(0)) { $0 + max(0, $1.cursor - (start[$1.name] ?? 0)) }
                let total = peers.reduce(Int64(0)) { $0 + max(0, $1.cursor + ($1.behind ?? 0) - (start[$1.name] ?? 0)) }
                bar.show(Int(done), of: Int(total), unit: "changes")
            }
            // A display's refresh, not a synchronisation: the loop ends when the sync does.
            try? await Task.sleep(for: .milliseconds(250))
        }
        bar.clear()
    }
}

/// Runs `body`, turning a ``CLIError`` into one line on stderr and exit status 1.
func report(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as CLIError {
        FileHandle.standardError.write(Data("newsctl: \(error.description)\n".utf8))
        throw ExitCode(1)
    }
}
