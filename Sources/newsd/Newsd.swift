import ArgumentParser
import Daemon
import Foundation
import Logging
import NewsCore

/// `newsd`: the archive daemon, in the foreground.
@main
struct Newsd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "newsd",
        abstract: "Polls feeds, archives every linked article, and syncs with peer nodes.",
        version: newsdVersion)

    @Option(name: .long, help: "The TOML configuration file.")
    var config: String = "/etc/newsd/newsd.toml"

    @Option(name: .long, help: "Overrides data_dir from the configuration.")
    var dataDir: String?

    @Option(name: .long, help: "Overrides control_socket from the configuration.")
    var controlSocket: String?

    @Flag(name: .long, help: "Polls and syncs only when newsctl asks (for metered links).")
    var manual = false

    @Flag(name: .long, help: "Checks the configuration and exits.")
    var checkConfig = false

    @Flag(name: .long, help: "Prints the newsd.toml(5) manual page (roff), every key with its default, and exits.")
    var configManual = false

    /// The configuration file with the command line's overrides applied.
    private static func load(path: String, dataDir: String?, controlSocket: String?) throws(ConfigError) -> NewsdConfig {
        var settings = try NewsdConfig.load(path: path)
        if let dataDir {
            settings.dataDirectory = URL(fileURLWithPath: dataDir).standardizedFileURL
            if controlSocket == nil { settings.controlSocket = settings.dataDirectory.appendingPathComponent("newsd.sock") }
        }
        if let controlSocket { settings.controlSocket = URL(fileURLWithPath: controlSocket).standardizedFileURL }
        return settings
    }

    func run() async throws {
        if configManual {
            print(ConfigReference.manualPage(version: newsdVersion), terminator: "")
            return
        }
        let settings: NewsdConfig
        do {
            settings = try Self.load(path: config, dataDir: dataDir, controlSocket: controlSocket)
        } catch {
            FileHandle.standardError.write(Data("newsd: \(error.description)\n".utf8))
            throw ExitCode(2)
        }
        if checkConfig {
            print("\(config): ok (\(settings.feeds.count) feeds, \(settings.peers.count) peers)")
            return
        }
        let level = Logger.Level(rawValue: settings.logLevel) ?? .info
        LoggingSystem.bootstrap { _ in JournalLogHandler(level: level) }
        let logger = Logger(label: "newsd")
        let (path, dataDir, controlSocket) = (config, dataDir, controlSocket)
        do {
            let daemon = try Daemon(config: settings, logger: logger)
            try await daemon.run(scheduled: !manual) {
                try Self.load(path: path, dataDir: dataDir, controlSocket: controlSocket)
            }
        } catch let error as DaemonError {
            logger.critical("\(error.description)")
            throw ExitCode(1)
        }
    }
}
