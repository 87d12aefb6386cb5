import ArgumentParser
import Foundation
import NewsCore

extension Newsctl {
    struct Config: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Works with newsd configuration files.", subcommands: [Check.self])

        struct Check: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Checks a configuration file without a daemon; errors name the file, line and key.")

            @Argument(help: "The TOML file.")
            var file: String = "/etc/newsd/newsd.toml"

            @Flag(help: "Print JSON instead of text.")
            var json = false

            func run() async throws {
                try await report {
                    let config: NewsdConfig
                    do {
                        config = try NewsdConfig.load(path: file)
                    } catch {
                        throw CLIError("\(error)")
                    }
                    struct Summary: Encodable {
                        var file: String
                        var feeds: Int
                        var peers: Int
                        var dataDirectory: String
                        var controlSocket: String
                        var listen: String?
                    }
                    let summary = Summary(
                        file: file, feeds: config.feeds.count, peers: config.peers.count,
                        dataDirectory: config.dataDirectory.path,
                        controlSocket: config.controlSocket.path, listen: config.listen)
                    if json {
                        print(String(decoding: try JSONCoding.encoder(pretty: true).encode(summary), as: UTF8.self))
                    } else {
                        print("\(file): ok, \(summary.feeds) feeds, \(summary.peers) peers, data in \(summary.dataDirectory)")
                    }
                }
            }
        }
    }

    struct Peers: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Lists, adds and removes the nodes this one syncs with.", subcommands: [List.self, Add.self, Remove.self],
            defaultSubcommand: List.self)

        struct Add: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Lets a node sync with this one, and pulls from it.",
                discussion: """
                    Both nodes must add each other: each lets in only the node ids it knows. A node's id is in the \
                    first lines of `newsctl status` there.
                    """)

            @OptionGroup var connection: Connection

            @Argument(help: "The peer's sync URL, e.g. http://10.0.0.2:8470.")
            var url: String

            @Option(help: "The peer's node id (64 hex digits).")
            var node: String

            @Option(help: "For an https URL: the key pin `newsctl status` shows on the peer (sha256//…).")
            var pin: String?

            @Option(help: "A short name for the peer (default: its host and port).")
            var name: String?

            func run() async throws {
                try await report {
                    guard let peerURL = URL(string: url), let host = peerURL.host else { throw CLIError("\(url) is not a URL") }
                    let peer = PeerConfig(
                        name: name ?? host + (peerURL.port.map { ":\($0)" } ?? ""), url: peerURL, node: node, pin: pin)
                    let body = try JSONCoding.encoder().encode(peer)
                    let added = try await connection.call("POST", ControlPath.peers, body: body, as: PeerStatus.self)
                    try connection.output(added) { "added peer \($0.name) (\($0.url), node \($0.node?.prefix(16) ?? "")…)\n" }
                }
            }
        }

        struct Remove: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Stops syncing with a peer added with `peers add`; what came from it stays.")

            @OptionGroup var connection: Connection

            @Argument(help: "The peer's name, as `newsctl peers list` shows it.")
            var name: String

            func run() async throws {
                try await report {
                    _ = try await connection.send("DELETE", ControlPath.peers + "?name=\(queryValue(name))")
                    try connection.output(["removed": name]) { "removed peer \($0["removed"] ?? "")\n" }
                }
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Lists the peers with their sync state.")

            @OptionGroup var connection: Connection

            func run() async throws {
                try await report {
                    let status = try await connection.call("GET", ControlPath.status, as: StatusReport.self)
                    try connection.output(status.peers) { StatusText.peers($0, now: Date()) }
                }
            }
        }
    }
}
