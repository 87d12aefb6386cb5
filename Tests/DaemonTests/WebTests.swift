import Archive
import Fetching
import Foundation
import NewsCore
import NewsdTesting
import Testing

private let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

/// The web interface of a real newsd process, over HTTP and in a real browser: what it shows, what it refuses, and
/// that an archived page can neither run a script nor load anything.
@Suite(.timeLimit(.minutes(5))) struct WebTests {
    /// A newsd serving its web interface on an ephemeral port, having archived an article in two versions, a plain
    /// one, and a hostile page whose scripts, styles, pictures, frames and refresh would each call back to `server`.
    private struct Site {
        let server: TestHTTPServer
        let directory: URL
        let daemon: ChildProcess
        let web: URL
        let socket: String
        let newsctl: URL

        /// The paths the hostile page would call back.
        static let beacons = ["/beacon/script", "/beacon/css", "/beacon/img", "/beacon/frame", "/beacon/refresh", "/beacon/font"]

        func get(_ path: String, headers: [(name: String, value: String)] = []) async throws -> FetchResponse {
            try await Fetcher().fetch(FetchRequest(url: URL(string: path, relativeTo: web)!.absoluteURL, headers: headers))
        }

        func post(_ path: String, _ fields: [(String, String)], headers: [(name: String, value: String)] = []) async throws
            -> FetchResponse
        {
            let body = fields.map { "\($0)=\(($1).addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)" }
                .joined(separator: "&")
            return try await Fetcher().fetch(
                FetchRequest(
                    url: URL(string: path, relativeTo: web)!.absoluteURL, method: "POST",
                    headers: [("Content-Type", "application/x-www-form-urlencoded")] + headers, body: Data(body.utf8)))
        }

        func show(_ reference: String) async throws -> ArticleDetail {
            let shown = try await runCommand(newsctl, ["show", reference, "--json", "--socket", socket])
            try #require(shown.status == 0, "\(shown.stderr)")
            return try JSONCoding.decoder().decode(ArticleDetail.self, from: Data(shown.stdout.utf8))
        }

        func stop() throws {
            daemon.signal(SIGKILL)
            try? FileManager.default.removeItem(at: directory)
        }
    }

    private static func publish(on server: TestHTTPServer, version: Int) {
        let headline = version == 1 ? "Four killed in shelling" : "Six killed in shelling"
        let count = version == 1 ? "Four" : "Six"
        let feed = """
            <rss version="2.0"><channel><title>Web test feed</title>
            <item><title>\(headline)</title><link>/story.html</link><guid>story</guid></item>
            <item><title>Tom &amp; Jerry</title><link>/hostile.html</link><guid>hostile</guid></item>
            <item><title>Water returns</title><link>/plain.html</link><guid>plain</guid></item>
            </channel></rss>
            """
        server.serve("/feed.xml", body: feed, headers: [.eTag: "\"feed-\(version)\""])
        server.serve(
            "/story.html",
            body: Fixture.page(
                headline,
                paragraphs: [
                    "\(count) people were killed when shells hit the market on Sunday, the district council said.",
                    "Residents said the shelling began before dawn and lasted for about an hour.",
                ]),
            headers: [.eTag: "\"story-\(version)\""])
    }

    /// A page that tries what a hostile page can: scripts, styles, fonts, pictures, frames and a refresh, each calling
    /// back to `back`; its title holds markup as text.
    private static func hostilePage(_ back: String) -> String {
        """
        <html><head><title>Tom &amp; Jerry &lt;b&gt;bold&lt;/b&gt; claims</title>
        <meta http-equiv="refresh" content="0;url=\(back)/beacon/refresh">
        <link rel="stylesheet" href="\(back)/beacon/css">
        <style>@font-face { font-family: x; src: url(\(back)/beacon/font); } body { font-family: x; }</style>
        <script>
        fetch("\(back)/beacon/script");
        document.addEventListener("DOMContentLoaded", function () {
          document.body.insertAdjacentHTML("beforeend", "<p id=ran>script ran</p>");
          try { parent.document.body.setAttribute("data-pwned", "1"); } catch (e) {}
        });
        </script></head><body>
        <article><h1>Tom &amp; Jerry &lt;b&gt;bold&lt;/b&gt; claims</h1>
        <p>An archived page that tries everything a hostile page can: scripts, styles, fonts and frames from elsewhere.</p>
        <p>None of it may run or load when a researcher opens the page in the archive's own web interface.</p>
        <img src="\(back)/beacon/img" alt=""><iframe src="\(back)/beacon/frame"></iframe></article>
        </body></html>
        """
    }

    private static func start() async throws -> Site {
        let newsd = try #require(builtExecutable("newsd"))
        let newsctl = try #require(builtExecutable("newsctl"))
        let server = try await TestHTTPServer.start()
        let back = "http://127.0.0.1:\(server.port)"
        publish(on: server, version: 1)
        server.serve(
            "/plain.html",
            body: Fixture.page(
                "Water returns", paragraphs: ["Water returned to the eastern districts on Monday after a week without supply."]
            ).replacingOccurrences(of: "</head>", with: "<link rel=\"canonical\" href=\"https://water.example/returns\"></head>"))
        server.serve("/hostile.html", body: hostilePage(back))
        let directory = try temporaryDirectory()
        let config = directory.appendingPathComponent("newsd.toml")
        try """
        data_dir = "data"
        listen = ""
        web_listen = "127.0.0.1:0"
        [limits]
        politeness = 0
        [[feed]]
        url = "\(server.url("/feed.xml"))"
        category = "World/Region"
        [[peer]]
        name = "far"
        url = "http://127.0.0.1:9"
        node = "\(String(repeating: "ab", count: 32))"

        """.write(to: config, atomically: true, encoding: .utf8)
        let daemon = try await startManual(newsd, config: config)
        let line = try #require(daemon.stderrLines.first { $0.contains("web interface url=") }, "\(daemon.stderrLines)")
        let web = try #require(URL(string: String(line[line.range(of: "url=")!.upperBound...])))
        let site = Site(
            server: server, directory: directory, daemon: daemon, web: web,
            socket: directory.appendingPathComponent("data/newsd.sock").path, newsctl: newsctl)
        let polled = try await runCommand(newsctl, ["poll", "--socket", site.socket])
        try #require(polled.status == 0, "\(polled.stderr)")
        publish(on: server, version: 2)
        let again = try await runCommand(newsctl, ["poll", "--socket", site.socket])
        try #require(again.status == 0, "\(again.stderr)")
        return site
    }

    @Test func pagesShowTheArchiveAsTextAndGuardEveryChange() async throws {
        let site = try await Self.start()
        defer { try? site.stop() }
        let story = site.server.url("/story.html").absoluteString
        let status = try await runCommand(site.newsctl, ["status", "--json", "--socket", site.socket])
        #expect(try JSONCoding.decoder().decode(StatusReport.self, from: Data(status.stdout.utf8)).web == site.web.absoluteString)

        let home = try await site.get("/")
        let page = String(decoding: home.body, as: UTF8.self)
        #expect(home.status == 200 && home.headers["content-security-policy"]?.contains("default-src 'none'") == true)
        #expect(page.contains("Six killed in shelling") && page.contains("Water returns"))
        #expect(page.components(separatedBy: "<mark class=\"edited\">edited</mark>").count == 2, "the edited article, marked")
        // Archived text is text: the page's markup in a title comes out escaped, never as markup.
        #expect(page.contains("Tom &amp; Jerry &lt;b&gt;bold&lt;/b&gt; claims") && !page.contains("<b>bold</b>"))

        let plain = try await site.get(
            "/article?ref=" + site.server.url("/plain.html").absoluteString.addingPercentEncoding(
                withAllowedCharacters: .alphanumerics)!)
        #expect(
            String(decoding: plain.body, as: UTF8.self).contains("<dt>Canonical URL</dt><dd>https://water.example/returns</dd>"))
        let article = try await site.get("/article?ref=" + story.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)
        let shown = String(decoding: article.body, as: UTF8.self)
        #expect(article.status == 200)
        #expect(shown.contains("<p>Six people were killed when shells hit the market"))
        #expect(shown.components(separatedBy: "valid (Ed25519, checked now)").count == 3, "both captures, signatures valid")
        #expect(shown.contains("format=proof\">evidence bundle</a>"))
        #expect(shown.contains("<mark class=\"edited\">1 time after its first capture</mark>"))
        let detail = try await site.show(story)
        let diff = try await site.get("/diff?ref=\(detail.id)&from=\(detail.versions[0].textID)&to=\(detail.versions[1].textID)")
        let changes = String(decoding: diff.body, as: UTF8.self)
        #expect(
            changes.contains("<del>Four</del><ins>Six</ins>") || changes.contains("<del>Four</del> <ins>Six</ins>"), "\(changes)")
        let search = try await site.get("/search?q=shells+hit")
        #expect(String(decoding: search.body, as: UTF8.self).contains("<mark>shells</mark>"))
        let bad = try await site.get("/search?q=%22unclosed")
        #expect(bad.status == 200 && String(decoding: bad.body, as: UTF8.self).contains("class=\"error\""))
        for path in ["/stories", "/feeds", "/status", "/static/app.css", "/static/app.js"] {
            #expect(try await site.get(path).status == 200, "\(path)")
        }
        // The interface's own markup is never escaped into text (the archive's text always is, as above).
        for path in [
            "/", "/?category=World", "/article?ref=\(detail.id)", "/search?q=shells&variants=1", "/stories", "/feeds", "/status",
        ] {
            let shown = String(decoding: try await site.get(path).body, as: UTF8.self)
            #expect(
                shown.firstMatch(of: /&lt;\/?(p|div|table|label|select|h3|ul|meta|span)[ >]/) == nil,
                "\(path) shows markup as text")
        }
        #expect(try await site.get("/article?ref=ffffffffffff").status == 404)
        let storyPage = try await site.get("/story?id=\(try #require(detail.story).prefix(12))")
        #expect(storyPage.status == 200 && String(decoding: storyPage.body, as: UTF8.self).contains("Six killed in shelling"))
        #expect(try await site.get("/story?id=ffffffffffff").status == 404)
        // The story's event (a copy group's id finds it): its timeline, searchable and exported.
        let eventPage = try await site.get("/event?id=\(try #require(detail.story).prefix(12))")
        let eventText = String(decoding: eventPage.body, as: UTF8.self)
        #expect(eventPage.status == 200 && eventText.contains("Six killed in shelling") && eventText.contains("Copy group"))
        #expect(eventText.firstMatch(of: /&lt;\/?(p|div|table|a|td)[ >]/) == nil)
        #expect(try await site.get("/event?id=ffffffffffff").status == 404)
        let eventWARC = try await site.get("/export?event=\(try #require(detail.story).prefix(12))&format=warc")
        #expect(String(decoding: eventWARC.body, as: UTF8.self).contains("WARC-Target-URI: \(story)"))

        // An article, a story and a search's results download as WARC and as lines newsctl import takes.
        let warc = try await site.get("/export?ref=\(detail.id)&format=warc")
        let records = String(decoding: warc.body, as: UTF8.self)
        #expect(warc.headers["content-disposition"]?.contains("newsd-article-\(detail.id.prefix(12)).warc") == true)
        #expect(records.hasPrefix("WARC/1.1") && records.components(separatedBy: "WARC-Type: response").count == 3)
        #expect(records.contains("WARC-Target-URI: \(story)"))
        let lines = try await site.get("/export?ref=\(detail.id)&format=jsonl")
        let exported = try String(decoding: lines.body, as: UTF8.self).split(separator: "\n").map {
            try JSONDecoder().decode(ExportLine.self, from: Data($0.utf8))
        }
        #expect(exported.count(where: { if case .blob = $0 { true } else { false } }) == 2)
        #expect(exported.count(where: { if case .record(.capture) = $0 { true } else { false } }) == 2)
        #expect(exported.count(where: { if case .record(.text) = $0 { true } else { false } }) == 2)
        // And the article's evidence bundle, linked from its page, as the ZIP file newsctl prove writes.
        let evidence = try await site.get("/export?ref=\(detail.id)&format=proof")
        #expect(evidence.status == 200 && evidence.headers["content-type"] == "application/zip")
        #expect(evidence.body.starts(with: Data("PK\u{3}\u{4}".utf8)) && evidence.body.count > 1000)
        #expect(evidence.headers["content-disposition"]?.contains("proof-\(detail.id.prefix(12)).zip") == true)
        let found = try await site.get("/export?q=shells&format=jsonl")
        #expect(found.status == 200 && String(decoding: found.body, as: UTF8.self).contains(story))
        let grouped = try await site.get("/export?story=\(try #require(detail.story))&format=warc")
        #expect(String(decoding: grouped.body, as: UTF8.self).contains("WARC-Target-URI: \(story)"))

        // The archived page is served inert: in a sandbox of its own, allowed to load nothing.
        let hostile = try await site.show(site.server.url("/hostile.html").absoluteString)
        let raw = try await site.get("/raw/\(hostile.captures[0].blobHash)")
        #expect(raw.status == 200)
        #expect(raw.headers["content-security-policy"]?.hasPrefix("sandbox; default-src 'none';") == true)
        #expect(raw.body == Data(Self.hostilePage("http://127.0.0.1:\(site.server.port)").utf8))

        // DNS rebinding: another host name that points here is refused.
        #expect(try await site.get("/", headers: [("Host", "rebind.example:\(site.web.port!)")]).status == 421)
        // Changes need the page's token, and come from the interface's own origin.
        let token = try #require(shown.firstMatch(of: /name="csrf" value="([0-9a-f]{64})"/)?.1)
        let tag = [("ref", detail.id), ("action", "tag"), ("value", "evidence")]
        #expect(try await site.post("/annotate", tag).status == 403)
        #expect(try await site.post("/annotate", tag + [("csrf", String(repeating: "0", count: 64))]).status == 403)
        #expect(
            try await site.post("/annotate", tag + [("csrf", String(token))], headers: [("Origin", "http://evil.example")]).status
                == 403)
        #expect(
            try await site.post("/annotate", tag + [("csrf", String(token))], headers: [("Sec-Fetch-Site", "cross-site")]).status
                == 403)
        #expect(try await site.show(story).annotations.tags == [])
        let tagged = try await site.post("/annotate", tag + [("csrf", String(token))])
        #expect(tagged.status == 200 && tagged.redirects == [303])
        #expect(try await site.show(story).annotations.tags == ["evidence"])

        // Feeds come in as an OPML file, uploaded with the token, and go out as one.
        let other = site.server.url("/other.xml").absoluteString
        let boundary = "newsd-test-boundary"
        let upload = [
            "--\(boundary)\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n\(token)\r\n",
            "--\(boundary)\r\nContent-Disposition: form-data; name=\"opml\"; filename=\"feeds.opml\"\r\n",
            "Content-Type: text/x-opml\r\n\r\n<opml version=\"2.0\"><body><outline type=\"rss\" xmlUrl=\"\(other)\"/></body></opml>\r\n",
            "--\(boundary)--\r\n",
        ].joined()
        let imported = try await Fetcher().fetch(
            FetchRequest(
                url: URL(string: "/feeds/import", relativeTo: site.web)!.absoluteURL, method: "POST",
                headers: [("Content-Type", "multipart/form-data; boundary=\(boundary)")], body: Data(upload.utf8)))
        #expect(imported.status == 200 && imported.finalURL.path == "/feeds")
        #expect(String(decoding: imported.body, as: UTF8.self).contains(other))
        #expect(String(decoding: try await site.get("/feeds.opml").body, as: UTF8.self).contains(other))

        // A feed added (checked and polled once) and removed again.
        let second = site.server.url("/second.xml").absoluteString
        site.server.serve("/second.xml", body: Fixture.rss([(id: "second", link: "/plain.html")]))
        let added = try await site.post("/feeds/add", [("csrf", String(token)), ("url", second), ("category", "Later")])
        #expect(added.status == 200 && String(decoding: added.body, as: UTF8.self).contains(second))
        let removed = try await site.post("/feeds/remove", [("csrf", String(token)), ("url", second)])
        #expect(removed.status == 200 && !String(decoding: removed.body, as: UTF8.self).contains(second))

        // By category: a feed's category holds it, and so does the category above it.
        let region = String(decoding: try await site.get("/?category=World").body, as: UTF8.self)
        #expect(region.contains("Six killed in shelling") && region.contains("World/Region"))
        #expect(!String(decoding: try await site.get("/?category=Sport").body, as: UTF8.self).contains("Six killed"))

        // Long actions answer at once and go on; the pages they lead to show how far they are.
        func currentStatus() async throws -> StatusReport {
            let shown = try await runCommand(site.newsctl, ["status", "--json", "--socket", site.socket])
            return try JSONCoding.decoder().decode(StatusReport.self, from: Data(shown.stdout.utf8))
        }
        let polledBefore = site.server.hitCount("/feed.xml")
        let poll = try await site.post("/feeds/poll", [("csrf", String(token))])
        #expect(poll.status == 200 && poll.redirects == [303] && poll.finalURL.path == "/feeds")
        let sync = try await site.post("/sync", [("csrf", String(token)), ("peer", "far")])
        #expect(sync.status == 200 && sync.finalURL.path == "/status")
        let verify = try await site.post("/verify", [("csrf", String(token))])
        #expect(verify.status == 200 && verify.finalURL.path == "/status")
        var finished: StatusReport?
        var last: StatusReport?
        for _ in 0..<600 {
            let now = try await currentStatus()
            last = now
            if now.verification?.finishedAt != nil, site.server.hitCount("/feed.xml") > polledBefore, now.activity == "idle",
                now.peers.first?.lastResult != nil
            {
                finished = now
                break
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        let done = try #require(
            finished,
            """
            the poll, the sync and the verification did not end within 30 s: activity \(last?.activity ?? ""), \
            verification \(String(describing: last?.verification)), peer \(String(describing: last?.peers.first))
            """)
        // The peer does not answer: the sync was tried, and its failure is what the status page shows.
        #expect(done.peers.first?.lastResult == "error")
        #expect(String(decoding: try await site.get("/status").body, as: UTF8.self).contains("far"))
        #expect(done.verification?.report?.isClean == true)
        let statusPage = String(decoding: try await site.get("/status").body, as: UTF8.self)
        #expect(statusPage.contains("clean"))
        #expect(statusPage.contains("<dt>Revisits</dt><dd>") && statusPage.contains("articles scheduled"))
        for path in Site.beacons { #expect(site.server.hitCount(path) == 0, "\(path)") }
    }

    @Test func aBrowserReadsSearchesAnnotatesAndNoArchivedScriptRuns() async throws {
        let site = try await Self.start()
        defer { try? site.stop() }
        let hostile = try await site.show(site.server.url("/hostile.html").absoluteString)
        let run = try await runCommand(
            URL(fileURLWithPath: "/usr/bin/python3"),
            [
                fixtures.appendingPathComponent("web-browser.py").path, site.web.absoluteString, hostile.captures[0].blobHash,
                Self.screenshots.path,
            ],
            limit: .seconds(180))
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains("web-browser: ok"))
        #expect(
            try await site.show(site.server.url("/story.html").absoluteString).annotations.note
                == "Casualty figure changed after publication.")
        // Nothing the archived page refers to was asked for, by the browser or by newsd.
        for path in Site.beacons { #expect(site.server.hitCount(path) == 0, "\(path)") }
    }

    @Test func aTakenAddressLeavesTheArchiveRunningAndStatusSaysWhy() async throws {
        let newsd = try #require(builtExecutable("newsd"))
        let newsctl = try #require(builtExecutable("newsctl"))
        let taken = try await TestHTTPServer.start()
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.appendingPathComponent("newsd.toml")
        try "data_dir = \"data\"\nlisten = \"\"\nweb_listen = \"127.0.0.1:\(taken.port)\"\n"
            .write(to: config, atomically: true, encoding: .utf8)
        let daemon = try await startManual(newsd, config: config)
        defer { daemon.signal(SIGKILL) }
        let status = try await runCommand(
            newsctl, ["status", "--json", "--socket", directory.appendingPathComponent("data/newsd.sock").path])
        #expect(status.status == 0, "\(status.stderr)")
        let web = try JSONCoding.decoder().decode(StatusReport.self, from: Data(status.stdout.utf8)).web
        #expect(web?.hasPrefix("off: cannot listen on 127.0.0.1:\(taken.port)") == true, "\(web ?? "nil")")
    }

    @Test func offLoopbackEveryPageAsksForThePasswordOverHTTPS() async throws {
        let newsd = try #require(builtExecutable("newsd"))
        let newsctl = try #require(builtExecutable("newsctl"))
        let password = "correct horse battery"
        let hashed = try await runCommand(newsctl, ["web", "passwd"], input: Data((password + "\n").utf8))
        try #require(hashed.status == 0, "\(hashed.stderr)")
        #expect(hashed.stdout.hasPrefix("web_password = \"scrypt$"))
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.appendingPathComponent("newsd.toml")
        // On every address of the machine (not loopback alone): a password is required, and given.
        try "data_dir = \"data\"\nlisten = \"\"\ntls = true\nweb_listen = \"0.0.0.0:0\"\n\(hashed.stdout)"
            .write(to: config, atomically: true, encoding: .utf8)
        let daemon = try await startManual(newsd, config: config)
        defer { daemon.signal(SIGKILL) }
        let socket = directory.appendingPathComponent("data/newsd.sock").path
        let shown = try await runCommand(newsctl, ["status", "--json", "--socket", socket])
        let status = try JSONCoding.decoder().decode(StatusReport.self, from: Data(shown.stdout.utf8))
        let address = try #require(status.web.flatMap(URL.init(string:)))
        #expect(address.scheme == "https" && address.host == "0.0.0.0")
        let port = try #require(address.port)
        let base = try #require(URL(string: "https://127.0.0.1:\(port)"))
        func get(_ path: String) async throws -> FetchResponse {
            var request = FetchRequest(url: URL(string: path, relativeTo: base)!.absoluteURL)
            request.pinnedKey = status.tlsPin
            return try await Fetcher().fetch(request)
        }
        // Without a session every page leads to the login form, and no change is taken.
        let home = try await get("/")
        #expect(home.redirects == [303] && home.finalURL.path == "/login")
        #expect(String(decoding: home.body, as: UTF8.self).contains("type=\"password\""))
        #expect(try await get("/static/app.css").status == 200)
        var post = FetchRequest(
            url: URL(string: "/feeds/poll", relativeTo: base)!.absoluteURL, method: "POST",
            headers: [("Content-Type", "application/x-www-form-urlencoded")], body: Data("csrf=x".utf8))
        post.pinnedKey = status.tlsPin
        #expect(try await Fetcher().fetch(post).status == 403)

        let browser = try await runCommand(
            URL(fileURLWithPath: "/usr/bin/python3"),
            [
                fixtures.appendingPathComponent("web-browser.py").path, "--login", password, base.absoluteString,
                Self.screenshots.path,
            ], limit: .seconds(180))
        #expect(browser.status == 0, "\(browser.stdout)\(browser.stderr)")
        #expect(browser.stdout.contains("web-browser: ok"))
    }

    /// Where the browser tests leave their screenshots.
    private static let screenshots = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent(".build/web-screenshots")
}
