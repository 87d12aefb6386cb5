import Foundation
import Hummingbird

/// What every page of the web interface shares: its frame, its forms' CSRF token, and how it is answered.
struct WebPage {
    /// The token every form that changes something carries; a POST without it is refused.
    let csrf: String
    /// Whether the interface has a password: pages then offer to log out.
    let login: Bool
    /// What the search box holds.
    var query = ""
    /// Whether the page loads itself again every two seconds: while something it shows is under way.
    var refresh = false

    /// A whole document: the navigation, the search box and `main`.
    func document(title: String, heading: HTML? = nil, _ main: HTML) -> HTML {
        """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="referrer" content="no-referrer">\((refresh ? "<meta http-equiv=\"refresh\" content=\"2\">" : "") as HTML)
        <title>\(title) · newsd</title>
        <link rel="stylesheet" href="/static/app.css"><script src="/static/app.js" defer></script>
        </head><body>
        <a class="skip" href="#main">Skip to the content</a>
        <header><nav aria-label="Sections"><a href="/" data-key="a">Articles</a> <a href="/stories" data-key="s">Stories</a> \
        <a href="/feeds" data-key="f">Feeds</a> <a href="/status" data-key="t">Status</a>\
        \(login ? button("Log out", action: "/logout", style: "small") : "")</nav>
        <form role="search" action="/search" method="get"><label for="q" class="hidden-label">Search the archive</label>\
        <input id="q" name="q" type="search" value="\(query)" placeholder="Search  ( / )"><button>Search</button></form>
        </header>
        <main id="main">\(heading ?? "<h1>\(title)</h1>")
        \(main)</main>
        </body></html>
        """
    }

    /// The form that asks for the password.
    func loginPage(failed: Bool = false) -> HTML {
        document(
            title: "Log in",
            """
            \((failed ? "<p class=\"error\" role=\"alert\">That is not the password.</p>" : "") as HTML)
            <form method="post" action="/login">\(token)<label>Password <input name="password" type="password" \
            autocomplete="current-password" required autofocus></label> <button>Log in</button></form>
            """)
    }

    /// A table with a heading per column, in a box that scrolls sideways on a narrow screen.
    static func table(_ headings: [String], _ rows: [HTML]) -> HTML {
        let columns = headings.map { heading -> HTML in "<th scope=\"col\">\(heading)</th>" }
        return "<div class=\"scroll\"><table><thead><tr>\(columns)</tr></thead><tbody>\(rows)</tbody></table></div>"
    }

    /// Links to the pages of 20 before and after page `number` of `path`, the other fields of `query` kept.
    static func pager(_ path: String, _ query: [String: String], page number: Int, more: Bool) -> HTML {
        func link(_ page: Int, _ relation: String, _ label: String) -> HTML {
            var asked = query
            asked["page"] = String(page)
            return "<a rel=\"\(relation)\" href=\"\(HTML.link(path, asked))\">\(label)</a>"
        }
        let previous: HTML = number > 1 ? link(number - 1, "prev", "Previous") : ""
        let next: HTML = more ? link(number + 1, "next", "Next") : ""
        return "<p class=\"pages\">\(previous)\(next)</p>"
    }

    /// A hidden field with the CSRF token, for every form that posts.
    var token: HTML { "<input type=\"hidden\" name=\"csrf\" value=\"\(csrf)\">" }

    /// A form of one button that posts `fields` to `action`; `spoken` names it for screen readers where `label` is a sign.
    func button(
        _ label: String, action: String, _ fields: [(String, String)] = [], style: String = "", spoken: String? = nil
    ) -> HTML {
        let hidden = fields.map { name, value -> HTML in "<input type=\"hidden\" name=\"\(name)\" value=\"\(value)\">" }
        let name: HTML = spoken.map { " aria-label=\"\($0)\"" } ?? ""
        return
            "<form class=\"inline\" method=\"post\" action=\"\(action)\">\(token)\(hidden)<button class=\"\(style)\"\(name)>\(label)</button></form>"
    }

    /// A time as the archive stores it (ISO 8601), shortened to the minute, in a `<time>` element.
    static func time(_ iso: String?) -> HTML {
        guard let iso, !iso.isEmpty else { return "–" }
        let shown = iso.count >= 16 ? iso.prefix(16).replacingOccurrences(of: "T", with: " ") + " UTC" : iso
        return "<time datetime=\"\(iso)\">\(shown)</time>"
    }

    static func time(_ date: Date?) -> HTML {
        time(date.map { $0.formatted(Date.ISO8601FormatStyle()) })
    }

    /// A node id, shortened, with the whole id as its title; "this node" for `local`.
    static func node(_ id: String?, local: String) -> HTML {
        guard let id else { return "–" }
        return "<code title=\"\(id)\">\(String(id.prefix(12)))</code>\(id == local ? " (this node)" : "")"
    }

    /// An HTML response that the browser must not cache, frame elsewhere or sniff.
    static func response(_ html: HTML, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: html.markup)))
    }

    /// A redirect after a change (303: the browser follows with a GET).
    static func redirect(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location])
    }
}

/// A refusal or failure shown as a page.
struct WebError: Error, CustomStringConvertible {
    let status: HTTPResponse.Status
    let description: String

    init(_ status: HTTPResponse.Status, _ description: String) {
        self.status = status
        self.description = description
    }
}
