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
            abstract: "Lists the peers with their last sync, last error and cursor.", subcommands: [List.self],
            defaultSubcommand: List.self)

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Lists the peers with their sync state.")

            @OptionGroup var connection: Connection

            func run() async throws {
                try await report {
                    let status = try await connection.call("GET", "/v1/status", as: StatusReport.self)
                    try connection.output(status.peers) { StatusText.peers($0, now: Date()) }
                }
            }
        }
    }
}
