import Foundation
import NewsCore
import Testing

private let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..")
    .standardizedFileURL

@Suite struct ConfigTests {
    private let file = URL(fileURLWithPath: "/etc/newsd/newsd.toml")

    @Test func theBundledConfigReadsTheDemoFeedFromDisk() throws {
        let config = try NewsdConfig.load(path: repository.appendingPathComponent("config/newsd.toml").path)
        #expect(config.feeds.count == 1)
        let feed = try #require(config.feeds.first)
        #expect(feed.url.isFileURL)
        #expect(FileManager.default.fileExists(atPath: feed.url.path))
        #expect(config.dataDirectory == repository.appendingPathComponent("data").standardizedFileURL)
        #expect(config.controlSocket == config.dataDirectory.appendingPathComponent("newsd.sock"))
        #expect(config.listen == "127.0.0.1:8470")
    }

    @Test func defaultsAndRelativePaths() throws {
        let config = try NewsdConfig.parse("[[feed]]\nurl = \"feeds/local.xml\"\ninterval = 60\n", file: file)
        #expect(config.dataDirectory.path == "/etc/newsd/data")
        #expect(config.feeds == [FeedConfig(url: URL(fileURLWithPath: "/etc/newsd/feeds/local.xml"), interval: 60)])
        #expect(config.pollInterval == 900)
        #expect(config.limits == FetchLimits())
        #expect(config.peers.isEmpty)
    }

    @Test(arguments: [
        ("poll_interval = 60\nlisten = \"nowhere\"\n", "/etc/newsd/newsd.toml:2: key listen: expected HOST:PORT"),
        (
            "[limits]\nconnect_timeout = 5\nmax_body_bytes = 0\n",
            "/etc/newsd/newsd.toml:3: key limits.max_body_bytes: must be at least 1"
        ),
        (
            "[[peer]]\nname = \"a\"\nurl = \"http://a:1\"\n[[peer]]\nname = \"a\"\nurl = \"http://b:1\"\n",
            "/etc/newsd/newsd.toml:5: key peer[2].name"
        ),
        (
            "[[feed]]\nurl = \"https://x.example/\"\n[[feed]]\nurl = \"https://x.example/\"\n",
            "/etc/newsd/newsd.toml:4: key feed[2].url"
        ),
        ("log_level = \"loud\"\n", "/etc/newsd/newsd.toml:1: key log_level"),
        ("sync_interval = \"soon\"\n", "/etc/newsd/newsd.toml:1: key sync_interval"),
        ("web_listen = \"0.0.0.0:8480\"\n", "/etc/newsd/newsd.toml:1: key web_listen"),
        ("web_password = \"hunter2\"\n", "/etc/newsd/newsd.toml:1: key web_password"),
        (
            "web_password = \"scrypt$1048576000$8$1$c2FsdHNhbHQ=$aGFzaGhhc2hoYXNoaGFzaA==\"\n",
            "/etc/newsd/newsd.toml:1: key web_password"
        ),
        ("web_listen = \"192.168.1.4:8480\"\n", "/etc/newsd/newsd.toml:1: key web_listen"),
        ("web_listen = \"8480\"\n", "/etc/newsd/newsd.toml:1: key web_listen"),
        ("\n\nfeed = [\n", "/etc/newsd/newsd.toml:"),
    ])
    func errorsNameTheFileLineAndKey(text: String, expected: String) {
        #expect {
            _ = try NewsdConfig.parse(text, file: file)
        } throws: { error in
            "\(error)".hasPrefix(expected)
        }
    }

    @Test func theWebInterfaceListensOnLoopbackByDefaultAndCanBeTurnedOff() throws {
        #expect(try NewsdConfig.parse("", file: file).webListen == "127.0.0.1:8480")
        #expect(try NewsdConfig.parse("web_listen = \"\"\n", file: file).webListen == nil)
        #expect(try NewsdConfig.parse("web_listen = \"[::1]:9000\"\n", file: file).webListen == "[::1]:9000")
        #expect(try NewsdConfig.parse("web_listen = \"localhost:9000\"\n", file: file).webListen == "localhost:9000")
    }

    @Test func aPasswordIsKeptAsAnScryptHashAndLetsTheInterfaceListenElsewhere() throws {
        let line = try WebPassword.hash("correct horse battery")
        let password = try #require(WebPassword(line))
        #expect(password.matches("correct horse battery"))
        #expect(!password.matches("correct horse batterY"))
        #expect(try WebPassword.hash("correct horse battery") != line, "a new salt each time")
        let config = try NewsdConfig.parse("web_listen = \"0.0.0.0:8480\"\nweb_password = \"\(line)\"\n", file: file)
        #expect(config.webListen == "0.0.0.0:8480" && config.webPassword == line)
    }
}
