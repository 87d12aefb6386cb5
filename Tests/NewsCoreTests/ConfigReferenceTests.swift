import Foundation
import NewsdTesting
import Testing

@testable import NewsCore

/// The manual page's list of keys is the parser's: the same keys, the same defaults.
@Suite struct ConfigReferenceTests {
    @Test func theReferenceNamesExactlyTheKeysTheParserAccepts() {
        #expect(Set(ConfigReference.keys.map(\.name)) == Set(acceptedConfigKeys()))
        #expect(ConfigReference.keys.count == Set(ConfigReference.keys.map(\.name)).count)
    }

    @Test func everyStatedDefaultIsWhatAFileWithoutTheKeyGets() throws {
        let config = try NewsdConfig.parse("", file: URL(fileURLWithPath: "/etc/newsd/newsd.toml"))
        let stated = Dictionary(
            uniqueKeysWithValues: ConfigReference.keys.compactMap { key in key.defaultValue.map { (key.name, $0) } })
        let actual: [String: String] = [
            "data_dir": config.dataDirectory.lastPathComponent, "listen": config.listen ?? "", "tls": "\(config.tls)",
            "poll_interval": "\(Int(config.pollInterval))", "max_poll_interval": "\(Int(config.maxPollInterval))",
            "sync_interval": "\(Int(config.syncInterval))", "log_level": config.logLevel,
            "limits.max_body_bytes": "\(config.limits.maxBodyBytes)",
            "limits.connect_timeout": "\(Int(config.limits.connectTimeout))",
            "limits.total_timeout": "\(Int(config.limits.totalTimeout))",
            "limits.max_redirects": "\(config.limits.maxRedirects)", "limits.low_speed_bytes": "\(config.limits.lowSpeedBytes)",
            "limits.low_speed_time": "\(Int(config.limits.lowSpeedTime))",
            "limits.max_connections": "\(config.maxConnections)", "limits.max_per_host": "\(config.maxPerHost)",
            "limits.politeness": "\(config.politeness)",
        ]
        for (name, value) in actual { #expect(stated[name] == value, "\(name)") }
        let feed = try NewsdConfig.parse("[[feed]]\nurl = \"https://a.example/rss\"\n", file: URL(fileURLWithPath: "/x.toml"))
        #expect(stated["feed.allow_private"] == "\(feed.feeds[0].allowPrivate)")
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/groff")))
    func groffReadsTheManualPageWithoutAWarning() async throws {
        let groff = try await runCommand(
            URL(fileURLWithPath: "/usr/bin/groff"), ["-man", "-ww", "-z"],
            input: Data(ConfigReference.manualPage(version: "test").utf8))
        #expect(groff.status == 0)
        #expect(groff.stderr.isEmpty, "\(groff.stderr)")
    }

    @Test func theManualPageHasEveryKeyAndItsDefault() {
        let page = ConfigReference.manualPage(version: "test")
        #expect(page.hasPrefix(".TH NEWSD.TOML 5"))
        for key in ConfigReference.keys {
            let name = key.name.replacingOccurrences(of: "-", with: "\\-")
            #expect(page.contains(".B \(name)\n"), "\(key.name)")
            if let value = key.defaultValue {
                #expect(page.contains("default \\fB\(value.replacingOccurrences(of: "-", with: "\\-"))\\fR"), "\(key.name)")
            }
        }
    }
}
