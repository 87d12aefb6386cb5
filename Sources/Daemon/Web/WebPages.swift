import Archive
import Foundation
import Hummingbird
import NewsCore

/// The pages of the web interface, read through the same archive queries as the control API and newsctl.
extension Daemon {
    typealias Fields = [String: String]

    /// Recent articles, newest capture first, filtered by feed, tag and capture dates.
    func articlesPage(_ query: Fields, frame page: WebPage) throws -> Response {
        let feeds = try archive.feedStatuses()
        let until = try WebPage.day(query["until"], key: "until", end: true)
        let articles = try archive.articles(
            feed: query["feed"]?.nonEmpty, category: query["category"]?.nonEmpty,
            since: try WebPage.day(query["since"], key: "since", end: false), until: until,
            tag: query["tag"]?.nonEmpty, includeHidden: query["hidden"] == "1", limit: 51)
        let shown = articles.prefix(50)
        let categories = Set(feeds.compactMap(\.category)).sorted().map { category -> HTML in
            "<option\(query["category"] == category ? " selected" : "")>\(category)</option>"
        }
        let feedOptions = feeds.map { feed -> HTML in
            "<option value=\"\(feed.url)\"\(query["feed"] == feed.url ? " selected" : "")>\(feed.title ?? feed.url)</option>"
        }
        let filters: HTML = """
            <form class="filters" method="get" action="/">
            <label>Feed <select name="feed"><option value="">all feeds</option>\(feedOptions)</select></label>
            \((categories.isEmpty ? "" : "<label>Category <select name=\"category\"><option value=\"\">all</option>\(categories)</select></label>") as HTML)
            <label>Tag <input name="tag" value="\(query["tag"] ?? "")" size="12"></label>
            <label>Since <input name="since" type="date" value="\(query["since"] ?? "")"></label>
            <label>Until <input name="until" type="date" value="\(query["until"] ?? "")"></label>
            <label><input type="checkbox" name="hidden" value="1"\(query["hidden"] == "1" ? " checked" : "")> hidden too</label>
            <button>Show</button></form>
            """
        let items = shown.map { article -> HTML in
            let host = URL(string: article.url)?.host ?? ""
            return """
                <li class="item"><a href="\(HTML.link("/article", [("ref", article.id)]))">\(article.title ?? article.url)</a>
                <span class="meta">\(host) · \(WebPage.time(article.lastCaptured)) · \(article.captures) capture\
                \(article.captures == 1 ? "" : "s") · \(article.versions) version\(article.versions == 1 ? "" : "s")\
                \((article.captures > 1 && article.versions > 1 ? " · <mark class=\"edited\">edited</mark>" : "") as HTML)</span></li>
                """
        }
        var older: HTML = ""
        if articles.count > shown.count, let last = shown.last {
            var next = query
            next["until"] = last.lastCaptured
            older = "<p><a rel=\"next\" href=\"\(HTML.link("/", next))\">Older</a></p>"
        }
        let list: HTML =
            items.isEmpty
            ? "<p>No articles yet\(query.isEmpty ? "" : " with these filters").</p>" : "<ol class=\"items\">\(items)</ol>"
        return WebPage.response(page.document(title: "Articles", "\(filters)\(list)\(older)"))
    }

    /// One article: its text and metadata, its annotations with the forms that change them, every capture with its
    /// provenance, and its versions.
    func articlePage(_ query: Fields, frame page: WebPage) throws -> Response {
        let article = try lookUp(query["ref"])
        let local = identity.nodeID
        let current = article.versions.last
        let title = current?.title ?? article.entryTitle ?? article.url
        var facts: [HTML] = [
            ["http", "https"].contains(URL(string: article.url)?.scheme?.lowercased() ?? "")
                ? "<dt>URL</dt><dd><a href=\"\(article.url)\" rel=\"noreferrer noopener\" class=\"live\">\(article.url)</a> (the live page)</dd>"
                : "<dt>URL</dt><dd>\(article.url)</dd>"
        ]
        if let byline = current?.byline { facts.append("<dt>By</dt><dd>\(byline)</dd>") }
        if let published = current?.published { facts.append("<dt>Published</dt><dd>\(WebPage.time(published))</dd>") }
        if let modified = current?.modified { facts.append("<dt>Modified</dt><dd>\(WebPage.time(modified))</dd>") }
        if let canonical = current?.canonicalURL, canonical != article.url {
            facts.append("<dt>Canonical URL</dt><dd>\(canonical)</dd>")
        }
        if let language = current?.language { facts.append("<dt>Language</dt><dd>\(language)</dd>") }
        if article.versions.count > 1, let latest = article.versions.last {
            facts.append(
                "<dt>Edited</dt><dd><mark class=\"edited\">\(article.versions.count - 1) time\(article.versions.count == 2 ? "" : "s") after its first capture</mark>, last seen changed \(WebPage.time(latest.firstSeen)): <a href=\"#versions\">versions</a></dd>"
            )
        }
        facts.append(
            "<dt>Captured</dt><dd>\(WebPage.time(article.captures.first?.fetchedAt)) to \(WebPage.time(article.captures.last?.fetchedAt))</dd>"
        )
        for feed in article.feeds {
            facts.append("<dt>Feed</dt><dd><a href=\"\(HTML.link("/", [("feed", feed)]))\">\(feed)</a></dd>")
        }
        if let story = article.story {
            facts.append(
                "<dt>Story</dt><dd><a href=\"\(HTML.link("/story", [("id", story)]))\"><code>\(String(story.prefix(12)))</code></a></dd>"
            )
        }
        let reference = [("ref", article.id)]
        let tags = article.annotations.tags.map { tag -> HTML in
            "<li><a href=\"\(HTML.link("/", [("tag", tag)]))\">\(tag)</a> \(page.button("×", action: "/annotate", reference + [("action", "untag"), ("value", tag)], style: "small", spoken: "Remove the tag \(tag)"))</li>"
        }
        let hidden = article.annotations.hidden
        let annotations: HTML = """
            <section aria-labelledby="notes"><h2 id="notes">Tags and note</h2>
            <ul class="tags">\(tags)</ul>
            <form method="post" action="/annotate">\(page.token)<input type="hidden" name="ref" value="\(article.id)">\
            <input type="hidden" name="action" value="tag"><label>Tag <input name="value" required></label> <button>Add</button></form>
            <form method="post" action="/annotate">\(page.token)<input type="hidden" name="ref" value="\(article.id)">\
            <input type="hidden" name="action" value="note"><label for="note">Note</label>
            <textarea id="note" name="value" rows="3">\(article.annotations.note ?? "")</textarea> <button>Save the note</button></form>
            <div>\(hidden ? "Hidden from lists and search. " : "")\(page.button(hidden ? "Show again" : "Hide", action: "/annotate", reference + [("action", hidden ? "unhide" : "hide")]))</div>
            </section>
            """
        let paragraphs = (current?.body ?? "").split(separator: "\n").map { paragraph -> HTML in "<p>\(String(paragraph))</p>" }
        let text: HTML =
            current == nil
            ? "<p class=\"error\">No text was extracted from this article's pages.</p>"
            : """
            <section aria-labelledby="text"><h2 id="text">Text</h2>
            <p class="meta">\(current.map { "\($0.extractor), \($0.provenance(localNode: local))" } ?? "")</p>
            <div class="text">\(paragraphs)</div></section>
            """
        let captureRows = article.captures.map { capture -> HTML in
            """
            <tr><td>\(WebPage.time(capture.fetchedAt))</td><td>\(WebPage.node(capture.nodeID, local: local))</td>\
            <td>\(capture.status)</td><td>\(capture.size)</td>\
            <td><a href="/capture/\(capture.blobHash)"><code class="hash">\(capture.blobHash)</code></a></td>\
            <td>\(WebPage.signature(capture.signatureValid))</td></tr>
            """
        }
        let captureTable = WebPage.table(
            ["Fetched", "Node", "HTTP", "Bytes", "Page SHA-256 (opens the archived page)", "Signature"], captureRows)
        let captures: HTML = """
            <section aria-labelledby="captures"><h2 id="captures">Captures</h2>
            \(captureTable)</section>
            """
        return WebPage.response(
            page.document(
                title: title,
                """
                <dl class="facts">\(facts)</dl>\(Self.exportLinks([("ref", article.id)], evidence: true))\(text)\(annotations)\(captures)\
                \(versionsSection(article, local: local))
                """))
    }

    /// The versions of an article's text, each against the one before, and a form to compare any two.
    private func versionsSection(_ article: ArticleDetail, local: String) -> HTML {
        let rows = article.versions.enumerated().map { index, version -> HTML in
            let diff: HTML =
                index == 0
                ? "first"
                : "<a href=\"\(HTML.link("/diff", [("ref", article.id), ("from", article.versions[index - 1].textID), ("to", version.textID)]))\">changes from the one before</a>"
            return """
                <tr><td>\(index + 1)</td><td>\(WebPage.time(version.firstSeen))</td><td>\(version.extractor)</td>\
                <td>\(version.provenance(localNode: local))</td><td><code>\(String(version.textID.prefix(12)))</code></td><td>\(diff)</td></tr>
                """
        }
        let options = article.versions.enumerated().map { index, version -> HTML in
            "<option value=\"\(version.textID)\">\(index + 1): \(String(version.firstSeen.prefix(16)))</option>"
        }
        let compare: HTML =
            article.versions.count < 2
            ? ""
            : """
            <form method="get" action="/diff"><input type="hidden" name="ref" value="\(article.id)">\
            <label>Compare <select name="from">\(options)</select></label> <label>with <select name="to">\(options)</select></label> \
            <button>Show the changes</button></form>
            """
        let others = article.otherTexts.map { version -> HTML in
            "<li>\(WebPage.time(version.firstSeen)): \(version.extractor), \(version.provenance(localNode: local))</li>"
        }
        return """
            <section aria-labelledby="versions"><h2 id="versions">Versions of the text</h2>
            \(WebPage.table(["#", "First seen", "Extractor", "Made by", "Text id", "Diff"], rows))
            \(compare)\((others.isEmpty ? "" : "<h3>Texts other nodes made</h3><ul>\(others)</ul>") as HTML)</section>
            """
    }

    /// A word diff between two versions of an article's title and text, paragraphs kept.
    func diffPage(_ query: Fields, frame page: WebPage) throws -> Response {
        let article = try lookUp(query["ref"])
        let texts = article.versions + article.otherTexts
        guard let old = texts.first(where: { $0.textID == query["from"] }),
            let new = texts.first(where: { $0.textID == query["to"] })
        else { throw WebError(.notFound, "Name two versions of this article's text (from= and to=).") }
        let changes = WordDiff.between(old, new).map { change -> HTML in
            switch change {
            case .same(let text): "\(text)"
            case .removed(let text): "<del>\(text)</del>"
            case .added(let text): "<ins>\(text)</ins>"
            }
        }
        let title = new.title ?? article.entryTitle ?? article.url
        return WebPage.response(
            page.document(
                title: "Changes: \(title)",
                """
                <p><a href="\(HTML.link("/article", [("ref", article.id)]))">Back to the article</a>. From the text first seen \
                \(WebPage.time(old.firstSeen)) to the one first seen \(WebPage.time(new.firstSeen)): \
                <del>removed</del>, <ins>added</ins>.</p>
                <div class="diff">\(changes)</div>
                """))
    }

    /// The archived page in a frame that lets none of its scripts run and none of its resources load.
    func capturePage(_ hash: String, frame page: WebPage) throws -> Response {
        guard ContentHash(hex: hash) != nil else { throw WebError(.notFound, "\(hash) is not a SHA-256.") }
        return WebPage.response(
            page.document(
                title: "Archived page",
                """
                <p>The page as archived, SHA-256 <code class="hash">\(hash)</code>. Its scripts do not run and nothing it \
                refers to is loaded: what shows is what was stored, without the pictures and styles it would fetch. \
                <a href="/raw/\(hash)" download="\(hash).html">Download it</a>.</p>
                <iframe class="raw" sandbox src="/raw/\(hash)" title="The archived page"></iframe>
                """))
    }

    /// The stored bytes of an archived page, as an inert document: in a sandbox of its own (no scripts, an origin of
    /// its own), allowed to load nothing.
    func rawPage(_ hash: String) throws -> Response {
        guard let id = ContentHash(hex: hash), let body = try archive.blob(id) else {
            throw WebError(.notFound, "No archived page has the SHA-256 \(hash).")
        }
        return Response(
            status: .ok,
            headers: [
                .contentType: "text/html", .cacheControl: "private, max-age=31536000, immutable",
                .contentSecurityPolicy:
                    "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'",
                HTTPFields.Element.Name("X-Frame-Options")!: "SAMEORIGIN",
            ], body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    /// Search with the query language of `newsctl search`, filters and pages of 20.
    func searchPage(_ query: Fields, frame: WebPage) throws -> Response {
        var page = frame
        let text = query["q"] ?? ""
        page.query = text
        let number = max(1, min(Int(query["page"] ?? "") ?? 1, 50))
        let filters: HTML = """
            <form class="filters" method="get" action="/search"><input type="hidden" name="q" value="\(text)">
            <label>Feed URL <input name="feed" value="\(query["feed"] ?? "")"></label>
            <label>Tag <input name="tag" value="\(query["tag"] ?? "")" size="12"></label>
            <label>Story <input name="story" value="\(query["story"] ?? "")" size="12"></label>
            <label>Event <input name="event" value="\(query["event"] ?? "")" size="12"></label>
            <label>Since <input name="since" type="date" value="\(query["since"] ?? "")"></label>
            <label>Until <input name="until" type="date" value="\(query["until"] ?? "")"></label>
            <label><input type="checkbox" name="hidden" value="1"\(query["hidden"] == "1" ? " checked" : "")> hidden too</label>
            <label><input type="checkbox" name="variants" value="1"\(query["variants"] == "1" ? " checked" : "")> other spellings</label>
            <button>Search</button></form>
            """
        guard !text.trimmingCharacters(in: .whitespaces).isEmpty else {
            return WebPage.response(page.document(title: "Search", "\(filters)<p>Type words to find in the archive's texts.</p>"))
        }
        let search = try searchQuery(query, limit: number * 20 + 1)
        let hits: [SearchHit]
        let variants: [String: [String]]
        do {
            (hits, variants) = try archive.searchWithVariants(search)
        } catch let error as SearchError {
            return WebPage.response(page.document(title: "Search", "\(filters)<p class=\"error\">\(error.description)</p>"))
        }
        let shown = hits.dropFirst((number - 1) * 20).prefix(20)
        let items = shown.map { hit -> HTML in
            """
            <li class="item"><a href="\(HTML.link("/article", [("ref", hit.articleURL)]))">\(hit.title ?? hit.articleURL)</a>
            <span class="meta">\(URL(string: hit.articleURL)?.host ?? "") · \(WebPage.time(hit.capturedAt)) · \
            \(hit.provenance.description(localNode: identity.nodeID))</span>
            <p class="snippet">\(WebPage.snippet(hit.snippet))</p></li>
            """
        }
        let spellings = variants.sorted { $0.key < $1.key }.filter { !$0.value.isEmpty }.map { word, others -> HTML in
            "<li>\(word): \(others.joined(separator: ", "))</li>"
        }
        let results: HTML =
            items.isEmpty ? "<p>Nothing found.</p>" : "<ol class=\"items\" start=\"\((number - 1) * 20 + 1)\">\(items)</ol>"
        return WebPage.response(
            page.document(
                title: "Search: \(text)",
                """
                \(filters)\((spellings.isEmpty ? "" : "<p>Also searched:</p><ul>\(spellings)</ul>") as HTML)\
                \(items.isEmpty ? "" : Self.exportLinks(["q", "feed", "tag", "story", "event", "since", "until", "hidden", "variants"].map { ($0, query[$0]) }))\
                \(results)\(WebPage.pager("/search", query, page: number, more: hits.count > number * 20))
                """))
    }

    /// The search a page's fields ask for (`q` and its filters), the first `limit` hits.
    private func searchQuery(_ query: Fields, limit: Int) throws -> SearchQuery {
        SearchQuery(
            text: query["q"] ?? "", feed: query["feed"]?.nonEmpty,
            since: try WebPage.day(query["since"], key: "since", end: false),
            until: try WebPage.day(query["until"], key: "until", end: true), story: query["story"]?.nonEmpty,
            event: query["event"]?.nonEmpty, tag: query["tag"]?.nonEmpty, includeHidden: query["hidden"] == "1", limit: limit,
            variants: query["variants"] == "1")
    }

    /// An article (`ref`), a story (`story`), an event (`event`) or a search's first 200 results (`q` and its filters), downloaded as WARC
    /// or (`format=jsonl`) as the JSON Lines `newsctl import` takes.
    func exportDownload(_ query: Fields) throws -> Response {
        let articles: [String]
        let name: String
        if let reference = query["ref"]?.nonEmpty, query["format"] == "proof" {
            return try proof(try lookUp(reference).id)
        } else if let reference = query["ref"]?.nonEmpty {
            let article = try lookUp(reference)
            (articles, name) = ([article.id], "article-\(article.id.prefix(12))")
        } else if let text = query["q"]?.nonEmpty {
            do {
                articles = Self.articleIDs(try archive.search(searchQuery(query, limit: 200)).map(\.articleURL))
            } catch let error as SearchError {
                throw WebError(.badRequest, error.description)
            }
            name =
                "search-"
                + String(String.UnicodeScalarView(text.unicodeScalars.filter(CharacterSet.alphanumerics.contains).prefix(24)))
        } else if let id = query["story"]?.nonEmpty, let story = try archive.story(id, membersEach: 10_000) {
            articles = Self.articleIDs(story.members.compactMap(\.articleURL))
            name = "story-\(story.id.prefix(12))"
        } else if let id = query["event"]?.nonEmpty, let event = try archive.event(id, membersEach: 10_000) {
            articles = Self.articleIDs(event.timeline.compactMap(\.member.articleURL))
            name = "event-\(event.id.prefix(12))"
        } else {
            throw WebError(
                .notFound, "Name what to export: an article (ref=), a story (story=), an event (event=) or a search (q=).")
        }
        let lines = query["format"] == "jsonl"
        var response = lines ? exportArticles(articles) : exportWARC(CaptureSelection(articles: articles), gzip: false)
        response.headers[.contentDisposition] = "attachment; filename=\"newsd-\(name).\(lines ? "jsonl" : "warc")\""
        return response
    }

    /// The ids of the articles at `urls`, each once, in order.
    private static func articleIDs(_ urls: [String]) -> [String] {
        var seen = Set<String>()
        return urls.map { ArticleRecord(url: $0).id.hex }.filter { seen.insert($0).inserted }
    }

    /// Links that download `query`'s selection as WARC and as JSON Lines, and for one article (`evidence`) its
    /// evidence bundle.
    private static func exportLinks(_ query: [(String, String?)], evidence: Bool = false) -> HTML {
        let bundle: HTML =
            evidence
            ? """
             · <a href="\(HTML.link("/export", query + [("format", "proof")]))">evidence bundle</a> (ZIP: pages, \
            signatures, timestamps, checkable with sha256sum and openssl)
            """ : ""
        return """
            <p class="meta">Export: <a href="\(HTML.link("/export", query + [("format", "warc")]))">WARC</a> · \
            <a href="\(HTML.link("/export", query + [("format", "jsonl")]))">JSON Lines</a> (for newsctl import)\(bundle)</p>
            """
    }

    /// Stories of two texts or more, largest first: their sources side by side, in the order they were captured.
    func storiesPage(_ query: Fields, frame page: WebPage) throws -> Response {
        let number = max(1, Int(query["page"] ?? "") ?? 1)
        let found = try archive.stories(minimumMembers: 2, limit: 21, offset: (number - 1) * 20, membersEach: 8)
        let stories = found.prefix(20).map { story -> HTML in
            """
            <section class="item"><h2><a href="\(HTML.link("/story", [("id", story.id)]))">\(story.members.first?.title ?? story.id)</a> \
            <small>(\(story.size ?? story.members.count) texts\((story.size ?? 0) > story.members.count ? ", the first \(story.members.count) below" : ""))</small></h2>
            \(WebPage.storyTable(story))</section>
            """
        }
        let body: HTML =
            stories.isEmpty ? "<p>No story holds two texts\(number > 1 ? " on this page" : " yet").</p>" : "\(stories)"
        return WebPage.response(
            page.document(title: "Stories", "\(body)\(WebPage.pager("/stories", query, page: number, more: found.count > 20))"))
    }

    /// One story: its texts side by side, in the order they were captured.
    func storyPage(_ query: Fields, frame page: WebPage) throws -> Response {
        guard let story = try archive.story(query["id"] ?? "") else { throw WebError(.notFound, "No story has that id.") }
        let size = story.size ?? story.members.count
        let event: HTML =
            try archive.event(story.id, membersEach: 1).map { event in
                event.size > size
                    ? " Part of <a href=\"\(HTML.link("/event", [("id", event.id)]))\">an event of \(event.size) texts</a> from \(event.sources.count) sources."
                    : ""
            } ?? ""
        return WebPage.response(
            page.document(
                title: "Story: \(story.members.first?.title ?? story.id)",
                """
                <p>\(size) texts, copies and updates of one report\(size > story.members.count ? "; the first \(story.members.count) below" : "").\(event) \
                <a href="\(HTML.link("/search", [("story", story.id)]))">Search within it</a>.</p>
                \(Self.exportLinks([("story", story.id)]))\(WebPage.storyTable(story))
                """))
    }

    /// One event: every text that reports it, in the order captured, each with its copy group (texts with the same
    /// letter are copies, rewrites or updates of one report).
    func eventPage(_ query: Fields, frame page: WebPage) throws -> Response {
        guard let event = try archive.event(query["id"] ?? "") else { throw WebError(.notFound, "No event has that id.") }
        let letters = event.letters
        let rows = event.timeline.map { story, member -> HTML in
            let group: HTML = "<a href=\"\(HTML.link("/story", [("id", story)]))\">\(letters[story] ?? "?")</a>"
            return """
                <tr><td>\(WebPage.time(member.capturedAt))</td><td>\(group)</td><td>\(member.source ?? "–")</td>\
                <td>\(WebPage.articleLink(member))</td></tr>
                """
        }
        return WebPage.response(
            page.document(
                title: "Event: \(event.timeline.first?.member.title ?? event.id)",
                """
                <p>\(event.size) texts in \(event.stories.count) copy groups from \(event.sources.joined(separator: ", ")), \
                captured \(WebPage.time(event.firstCaptured)) to \(WebPage.time(event.lastCaptured)). \
                <a href="\(HTML.link("/search", [("event", event.id)]))">Search within it</a>.</p>
                \(Self.exportLinks([("event", event.id)]))\(WebPage.table(["Captured", "Copy group", "Source", "Text"], rows))
                """))
    }

    /// The feeds: how their last poll went and when the next is, with poll, add and remove.
    func feedsPage(frame: WebPage) async throws -> Response {
        var page = frame
        let activity = await self.activity()
        page.refresh = activity != "idle"
        let rows = try archive.feedStatuses().map { feed -> HTML in
            let result: HTML =
                feed.lastResult == "error"
                ? "<span class=\"error\">error (\(feed.errorCount) in a row): \(feed.lastError ?? "")</span>"
                : "\(feed.lastResult ?? "not polled yet")"
            let remove: HTML = feed.origin == "user" ? page.button("Remove", action: "/feeds/remove", [("url", feed.url)]) : ""
            return """
                <tr class="item"><td><a href="\(HTML.link("/", [("feed", feed.url)]))">\(feed.title ?? feed.url)</a>\
                <br><small>\(feed.url)</small></td><td>\(feed.category.map { category -> HTML in "<a href=\"\(HTML.link("/", [("category", category)]))\">\(category)</a>" } ?? "")</td><td>\(WebPage.time(feed.lastPollAt))</td>\
                <td>\(result)</td><td>\(WebPage.time(feed.nextPollAt))</td><td>\(feed.articles)</td>\
                <td>\(page.button("Poll now", action: "/feeds/poll", [("url", feed.url)]))\(remove)</td></tr>
                """
        }
        return WebPage.response(
            page.document(
                title: "Feeds",
                """
                <p role="status">Now: \(activity)</p>
                \(WebPage.table(["Feed", "Category", "Last poll", "Result", "Next poll", "Articles", "Actions"], rows))
                <p>\(page.button("Poll every feed now", action: "/feeds/poll"))</p>
                <form method="post" action="/feeds/add">\(page.token)<h2>Add a feed</h2>
                <label>URL <input name="url" type="url" required size="50"></label> <label>Category <input name="category"></label> \
                <button>Add</button></form>
                <form method="post" action="/feeds/import" enctype="multipart/form-data">\(page.token)<h2>Import feeds</h2>
                <label>OPML file <input name="opml" type="file" accept=".opml,.xml,text/x-opml,text/xml" required></label> \
                <button>Import</button> <a href="/feeds.opml" download="newsd-feeds.opml">Export the feeds as OPML</a></form>
                """))
    }

    /// The node: what the archive holds, what it is doing, and its peers with how far behind this node is.
    func statusPage(frame: WebPage) async throws -> Response {
        var page = frame
        let status = try await self.status()
        page.refresh = status.activity != "idle"
        let counts = status.counts
        let peers = status.peers.map { peer -> HTML in
            let result: HTML =
                peer.lastResult == "error"
                ? "<span class=\"error\">error: \(peer.lastError ?? "")</span>" : "\(peer.lastResult ?? "never synced")"
            return """
                <tr><td>\(peer.name)<br><small>\(peer.url)</small></td><td>\(WebPage.node(peer.node, local: status.nodeID))</td>\
                <td>\(WebPage.time(peer.lastSyncAt))</td><td>\(result)</td><td>\(peer.behind.map { "\($0) changes" } ?? "–")</td>\
                <td>\(page.button("Sync now", action: "/sync", [("peer", peer.name)]))</td></tr>
                """
        }
        return WebPage.response(
            page.document(
                title: "Status",
                """
                <dl class="facts"><dt>Node</dt><dd><code>\(status.nodeID)</code></dd><dt>Version</dt><dd>newsd \(status.version)</dd>\
                <dt>Doing</dt><dd>\(status.activity)</dd><dt>Articles</dt><dd>\(counts.articles)</dd><dt>Captures</dt>\
                <dd>\(counts.captures) (\(counts.capturesLastDay) in the last day)</dd><dt>Texts</dt><dd>\(counts.texts)</dd>\
                <dt>Feeds</dt><dd>\(counts.feeds)</dd><dt>Pages stored</dt><dd>\(counts.blobs), \(Int(counts.storedBlobBytes / 1_000_000)) MB</dd>\
                <dt>Verified</dt><dd>\(WebPage.verification(status.verification)) \
                \(status.verification?.finishedAt == nil && status.verification != nil ? "" : page.button("Verify now", action: "/verify"))</dd>\
                \(Self.timestampFacts(status))</dl>
                <h2>Peers</h2>
                \(peers.isEmpty ? "<p>No peers.</p>" : WebPage.table(["Peer", "Node", "Last sync", "Result", "Behind", "Actions"], peers))
                """))
    }

    /// Trusted timestamps (stamped and waiting, for each authority) and revisits, as status facts.
    private static func timestampFacts(_ status: StatusReport) -> HTML {
        var facts: [HTML] = []
        if let timestamps = status.timestamps {
            let authorities = timestamps.authorities.map { authority -> HTML in
                let error: HTML = authority.lastError.map { "<br><span class=\"error\">\($0)</span>" } ?? ""
                return "<br>\(authority.url): \(authority.stamped) stamped, \(authority.waiting) waiting\(error)"
            }
            facts.append(
                "<dt>Timestamped</dt><dd>\(timestamps.stamped) of \(timestamps.captures) captures (RFC 3161)\(authorities)</dd>")
        }
        if let revisits = status.revisits {
            facts.append(
                """
                <dt>Revisits</dt><dd>\(revisits.waiting) articles scheduled; today \(revisits.requestsToday) of \(revisits.budget), \
                \(revisits.changedToday) changed</dd>
                """)
        }
        return "\(facts)"
    }

    /// The article a `ref` names (its id, a prefix of it, or its URL), or a page saying why there is none.
    private func lookUp(_ reference: String?) throws -> ArticleDetail {
        guard let reference, !reference.isEmpty else { throw WebError(.badRequest, "Name an article: ref=") }
        do {
            return try archive.article(reference, localNode: identity.nodeID)
        } catch let error as ArticleLookupError {
            throw WebError(.notFound, error.description)
        }
    }
}

extension WebPage {
    /// The last verification in words: under way (how far), clean, or what it found.
    static func verification(_ verification: Verification?) -> HTML {
        guard let verification else { return "not since the daemon started" }
        guard let finished = verification.finishedAt else {
            let share = verification.total > 0 ? verification.done * 100 / verification.total : 0
            return """
                under way: \(verification.done) of \(verification.total) checked \
                <progress max="100" value="\(share)">\(share) %</progress>
                """
        }
        if let error = verification.error { return "<span class=\"error\">failed \(time(finished)): \(error)</span>" }
        guard let report = verification.report else { return "–" }
        let summary: HTML = "\(report.blobs) pages, \(report.records) records, \(report.signatures) signatures"
        guard report.isClean else {
            let problems = report.problems.prefix(20).map { problem -> HTML in
                "<li>\(problem.kind) <code>\(String(problem.id.prefix(16)))</code>: \(problem.message)</li>"
            }
            return """
                <span class="error">\(report.problems.count) problems</span> \(time(finished)) (\(summary); \
                integrity: \(report.integrity))<ul>\(problems)</ul>
                """
        }
        return "clean \(time(finished)) (\(summary))"
    }

    /// A story's texts in a table: when each was captured, where from, and a link to its article.
    static func storyTable(_ story: Story) -> HTML {
        let rows = story.members.map { member -> HTML in
            "<tr><td>\(time(member.capturedAt))</td><td>\(member.source ?? "–")</td><td>\(articleLink(member))</td></tr>"
        }
        return table(["Captured", "Source", "Text"], rows)
    }

    /// A story member's title, linked to its article's page when it has one.
    static func articleLink(_ member: Story.Member) -> HTML {
        member.articleURL.map { "<a href=\"\(HTML.link("/article", [("ref", $0)]))\">\(member.title ?? $0)</a>" }
            ?? "\(member.title ?? member.textID)"
    }

    /// A capture's signature state in words.
    static func signature(_ valid: Bool?) -> HTML {
        switch valid {
        case true?: "valid (Ed25519, checked now)"
        case false?: "<strong class=\"error\">INVALID: the record does not match its signature</strong>"
        case nil: "unsigned"
        }
    }

    /// A date from a form's date field (`2026-11-27`) or an ISO 8601 time: the day's start, or with `end` the next
    /// day's start; `nil` for an empty field.
    static func day(_ text: String?, key: String, end: Bool) throws -> Date? {
        guard let text, !text.isEmpty else { return nil }
        if let time = try? Date.ISO8601FormatStyle().parse(text) { return time }
        guard let day = try? Date.ISO8601FormatStyle().year().month().day().parse(text) else {
            throw WebError(.badRequest, "\(key) is not a date (YYYY-MM-DD).")
        }
        return end ? day.addingTimeInterval(86400) : day
    }

    /// A search snippet, its matched terms (between `[` and `]`) marked.
    static func snippet(_ text: String) -> HTML {
        var parts: [HTML] = []
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "["), let close = rest[open...].firstIndex(of: "]") {
            parts.append("\(String(rest[..<open]))<mark>\(String(rest[rest.index(after: open)..<close]))</mark>")
            rest = rest[rest.index(after: close)...]
        }
        parts.append("\(String(rest))")
        return "\(parts)"
    }
}

extension String {
    fileprivate var nonEmpty: String? { isEmpty ? nil : self }
}
