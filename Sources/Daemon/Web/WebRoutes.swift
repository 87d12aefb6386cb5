import Archive
import Crypto
import Foundation
import Hummingbird
import NewsCore

/// The web interface's routes: pages that read the archive, and forms that change it (each with the CSRF token).
extension Daemon {
    func webRoutes(guard webGuard: WebGuard) -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: webGuard)
        let frame = webGuard.frame
        router.get("/") { request, _ in try self.articlesPage(WebGuard.queryFields(request), frame: frame) }
        router.get("/article") { request, _ in try self.articlePage(WebGuard.queryFields(request), frame: frame) }
        router.get("/diff") { request, _ in try self.diffPage(WebGuard.queryFields(request), frame: frame) }
        router.get("/capture/:hash") { _, context in try self.capturePage(context.parameters.get("hash") ?? "", frame: frame) }
        router.get("/raw/:hash") { _, context in try self.rawPage(context.parameters.get("hash") ?? "") }
        router.get("/search") { request, _ in try self.searchPage(WebGuard.queryFields(request), frame: frame) }
        router.get("/stories") { request, _ in try self.storiesPage(WebGuard.queryFields(request), frame: frame) }
        router.get("/story") { request, _ in try self.storyPage(WebGuard.queryFields(request), frame: frame) }
        router.get("/event") { request, _ in try self.eventPage(WebGuard.queryFields(request), frame: frame) }
        router.get("/export") { request, _ in try self.exportDownload(WebGuard.queryFields(request)) }
        router.get("/feeds") { _, _ in try await self.feedsPage(frame: frame) }
        router.get("/status") { _, _ in try await self.statusPage(frame: frame) }
        router.get("/static/app.css") { _, _ in WebAssets.response(WebAssets.css, type: "text/css; charset=utf-8") }
        router.get("/static/app.js") { _, _ in WebAssets.response(WebAssets.javascript, type: "text/javascript; charset=utf-8") }
        router.get("/login") { _, _ in webGuard.login == nil ? WebPage.redirect("/") : WebPage.response(frame.loginPage()) }
        router.post("/login") { request, _ in
            let form = try await webGuard.form(request)
            guard let login = webGuard.login else { return WebPage.redirect("/") }
            guard let session = try await login.open(password: form["password"] ?? "") else {
                return WebPage.response(frame.loginPage(failed: true), status: .forbidden)
            }
            var response = WebPage.redirect("/")
            response.headers[.setCookie] =
                "\(WebLogin.cookie)=\(session); Path=/; HttpOnly; SameSite=Strict; Max-Age=\(Int(WebLogin.lifetime.components.seconds))"
                + (webGuard.secure ? "; Secure" : "")
            return response
        }
        router.post("/logout") { request, _ in
            _ = try await webGuard.form(request)
            webGuard.login?.close(WebGuard.sessionCookie(request))
            var response = WebPage.redirect("/login")
            response.headers[.setCookie] = "\(WebLogin.cookie)=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"
            return response
        }
        router.post("/annotate") { request, _ in
            let form = try await webGuard.form(request)
            let reference = form["ref"] ?? ""
            try self.annotate(reference, action: form["action"] ?? "", value: form["value"] ?? "")
            return WebPage.redirect(HTML.link("/article", [("ref", reference)]))
        }
        // Polls, syncs and verifications go on after the answer; the page they lead to shows how far they are.
        router.post("/feeds/poll") { request, _ in
            let form = try await webGuard.form(request)
            let feed = form["url"]
            Task { _ = try? await self.poller.pollNow(only: feed) }
            return WebPage.redirect("/feeds")
        }
        router.post("/verify") { request, _ in
            _ = try await webGuard.form(request)
            let idle = self.verifying.withLock { state -> Bool in
                guard state?.finishedAt != nil || state == nil else { return false }
                state = Verification(startedAt: Date())
                return true
            }
            guard idle else { throw WebError(.conflict, "A verification is under way.") }
            Thread { _ = try? self.verification(reextract: false) }.start()
            return WebPage.redirect("/status")
        }
        router.post("/feeds/add") { request, _ in
            let form = try await webGuard.form(request)
            guard let text = form["url"]?.trimmingCharacters(in: .whitespaces), let url = URL(string: text) else {
                throw WebError(.badRequest, "Give the feed's URL.")
            }
            _ = try await self.addFeed(FeedConfig(url: url, category: form["category"].flatMap { $0.isEmpty ? nil : $0 }))
            return WebPage.redirect("/feeds")
        }
        router.get("/feeds.opml") { _, _ in try self.opmlExport() }
        router.post("/feeds/import") { request, _ in
            let parts = try await webGuard.upload(request)
            guard let opml = parts["opml"], !opml.isEmpty else { throw WebError(.badRequest, "Choose an OPML file.") }
            _ = try self.importOPML(opml)
            return WebPage.redirect("/feeds")
        }
        router.post("/feeds/remove") { request, _ in
            let form = try await webGuard.form(request)
            do {
                try self.archive.removeFeed(url: form["url"] ?? "")
            } catch let error as FeedListError {
                throw WebError(.conflict, error.description)
            }
            return WebPage.redirect("/feeds")
        }
        router.post("/sync") { request, _ in
            let form = try await webGuard.form(request)
            let peer = form["peer"]
            Task { _ = await self.syncer.syncAll(only: peer) }
            return WebPage.redirect("/status")
        }
        return router
    }

    /// Applies one annotation from the article page's forms: `tag`, `untag`, `note`, `hide` or `unhide`.
    private func annotate(_ reference: String, action: String, value: String) throws {
        let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
        let change: AnnotationRequest.Change
        switch action {
        case "tag" where !trimmed.isEmpty:
            change = .init(key: ArticleAnnotations.Key.tag(trimmed), value: ArticleAnnotations.Key.on)
        case "untag" where !trimmed.isEmpty: change = .init(key: ArticleAnnotations.Key.tag(trimmed), value: nil)
        case "note": change = .init(key: ArticleAnnotations.Key.note, value: trimmed.isEmpty ? nil : trimmed)
        case "hide": change = .init(key: ArticleAnnotations.Key.hidden, value: ArticleAnnotations.Key.on)
        case "unhide": change = .init(key: ArticleAnnotations.Key.hidden, value: nil)
        default: throw WebError(.badRequest, "Nothing to change: name a tag, or write a note.")
        }
        do {
            _ = try archive.annotate(AnnotationRequest(article: reference, changes: [change]), key: identity.key)
        } catch let error as ArticleLookupError {
            throw WebError(.notFound, error.description)
        } catch let error as IntegrityError {
            throw WebError(.badRequest, error.description)
        }
    }
}

/// What every request to the web interface passes first: the Host check against DNS rebinding, the origin check on
/// changes, and the headers that keep pages from being framed, sniffed or made to load anything from elsewhere.
struct WebGuard: RouterMiddleware {
    typealias Context = BasicRequestContext

    /// Host names the interface answers to: loopback names and the address it listens on.
    let hosts: Set<String>
    /// The token forms carry, new at every start.
    let csrf: String
    /// The password and the sessions it opened, when every page asks for it.
    let login: WebLogin?
    /// Whether the interface speaks HTTPS: its session cookie is then `Secure`.
    let secure: Bool

    init(listeningOn host: String, password: WebPassword?, secure: Bool) {
        hosts = Set(["localhost", "127.0.0.1", "::1", host.lowercased()])
        csrf = Self.randomToken()
        login = password.map(WebLogin.init)
        self.secure = secure
    }

    /// 256 random bits in hex: a form token or a session's.
    static func randomToken() -> String { SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }.hexString }

    /// The fields of a request's query string.
    static func queryFields(_ request: Request) -> [String: String] { formFields(request.uri.query ?? "") }

    /// What every page is framed with.
    var frame: WebPage { WebPage(csrf: csrf, login: login != nil) }

    /// The policy of every page of the interface: its own styles and script only, nothing from elsewhere.
    static let policy =
        "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; form-action 'self'; "
        + "frame-src 'self'; frame-ancestors 'none'; base-uri 'none'"

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var response: Response
        if let refusal = refusal(request) {
            response = WebGuard.errorPage(refusal)
        } else if let login, !WebLogin.isOpen(request.uri.path), !login.isSession(Self.sessionCookie(request)) {
            response =
                request.method == .get
                ? WebPage.redirect("/login")
                : WebGuard.errorPage(WebError(.forbidden, "Log in first: this interface has a password."))
        } else {
            do {
                response = try await next(request, context)
            } catch let error as WebError {
                response = WebGuard.errorPage(error)
            } catch let error as HTTPError {
                response = WebGuard.errorPage(WebError(error.status, error.body ?? "\(error.status.reasonPhrase)"))
            } catch {
                response = WebGuard.errorPage(WebError(.internalServerError, "\(error)"))
            }
        }
        if response.headers[.contentSecurityPolicy] == nil {
            response.headers[.contentSecurityPolicy] = WebGuard.policy
            response.headers[.xFrameOptions] = "DENY"
        }
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[.referrerPolicy] = "no-referrer"
        response.headers[HTTPFields.Element.Name("Cross-Origin-Opener-Policy")!] = "same-origin"
        response.headers[HTTPFields.Element.Name("Cross-Origin-Resource-Policy")!] = "same-origin"
        return response
    }

    /// Why `request` is refused before it is read: a Host this interface is not (DNS rebinding), or a change asked
    /// from another site.
    private func refusal(_ request: Request) -> WebError? {
        guard let authority = request.head.authority, hosts.contains(Self.hostName(authority))
        else {
            return WebError(
                .misdirectedRequest, "This interface answers to its own address only (Host was not one of its names).")
        }
        guard request.method == .post else { return nil }
        if let site = request.headers[HTTPFields.Element.Name("Sec-Fetch-Site")!], site != "same-origin", site != "none" {
            return WebError(.forbidden, "Changes are accepted from this interface's own pages only.")
        }
        if let origin = request.headers[.origin], origin != "null",
            let host = URL(string: origin)?.host, !hosts.contains(host.lowercased().trimmingCharacters(in: ["[", "]"]))
        {
            return WebError(.forbidden, "Changes are accepted from this interface's own pages only.")
        }
        return nil
    }

    /// The host of a Host header or authority, without port or brackets, lower-cased.
    static func hostName(_ authority: String) -> String {
        var host = Substring(authority.lowercased())
        if host.hasPrefix("["), let end = host.firstIndex(of: "]") {
            return String(host[host.index(after: host.startIndex)..<end])
        }
        if let colon = host.lastIndex(of: ":"), host.firstIndex(of: ":") == colon { host = host[..<colon] }
        return String(host)
    }

    /// The session cookie's value, if the request carries one.
    static func sessionCookie(_ request: Request) -> String? {
        for header in request.headers[values: .cookie] {
            for pair in header.split(separator: ";") {
                let parts = pair.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
                if parts.count == 2, parts[0] == WebLogin.cookie { return String(parts[1]) }
            }
        }
        return nil
    }

    /// The fields of a posted form, once its CSRF token is found right; a form is at most 1 MiB.
    func form(_ request: Request) async throws -> [String: String] {
        guard request.headers[.contentType]?.lowercased().hasPrefix("application/x-www-form-urlencoded") == true else {
            throw WebError(.unsupportedMediaType, "Expected a form.")
        }
        let body = try await request.body.collect(upTo: 1 << 20)
        let fields = Self.formFields(String(buffer: body))
        guard let token = fields["csrf"], Array(token.utf8).isEqualInConstantTime(to: Array(csrf.utf8)) else {
            throw WebError(.forbidden, "The form is out of date (the daemon restarted since the page was loaded): load it again.")
        }
        return fields
    }

    /// The parts of a posted `multipart/form-data` form (a file upload) by name, once its CSRF token is found right;
    /// 16 MiB at most.
    func upload(_ request: Request) async throws -> [String: Data] {
        guard let type = request.headers[.contentType], type.lowercased().hasPrefix("multipart/form-data"),
            let boundary = type.split(separator: ";").lazy.map({ $0.trimmingCharacters(in: .whitespaces) })
                .first(where: { $0.lowercased().hasPrefix("boundary=") })?.dropFirst("boundary=".count)
                .trimmingCharacters(in: ["\""]), !boundary.isEmpty
        else { throw WebError(.unsupportedMediaType, "Expected a file upload.") }
        let body = try await request.body.collect(upTo: 16 << 20)
        let parts = Self.multipartParts(Data(buffer: body), boundary: boundary)
        guard let token = parts["csrf"].map({ String(decoding: $0, as: UTF8.self) }),
            Array(token.utf8).isEqualInConstantTime(to: Array(csrf.utf8))
        else {
            throw WebError(.forbidden, "The form is out of date (the daemon restarted since the page was loaded): load it again.")
        }
        return parts
    }

    /// The parts of a `multipart/form-data` body by their `name`.
    static func multipartParts(_ body: Data, boundary: String) -> [String: Data] {
        let delimiter = Data("--\(boundary)".utf8)
        let headerEnd = Data("\r\n\r\n".utf8)
        var parts: [String: Data] = [:]
        var cursor = body.startIndex
        while let start = body.range(of: delimiter, in: cursor..<body.endIndex) {
            let from = start.upperBound
            guard let next = body.range(of: delimiter, in: from..<body.endIndex) else { break }
            cursor = next.lowerBound
            // Each part: CRLF, headers, a blank line, the content, CRLF before the next delimiter.
            var part = body[from..<next.lowerBound]
            if part.starts(with: Data("\r\n".utf8)) { part = part.dropFirst(2) }
            if part.suffix(2) == Data("\r\n".utf8) { part = part.dropLast(2) }
            guard let split = part.range(of: headerEnd) else { continue }
            let headers = String(decoding: part[part.startIndex..<split.lowerBound], as: UTF8.self)
            guard let name = headers.firstMatch(of: /(?i)content-disposition:[^\r\n]*?\bname="([^"]*)"/)?.1 else { continue }
            parts[String(name)] = Data(part[split.upperBound...])
        }
        return parts
    }

    /// `application/x-www-form-urlencoded` fields; of a name given twice, the last.
    static func formFields(_ body: String) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in body.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ part: Substring) -> String {
                String(part).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
            }
            fields[decode(parts[0])] = parts.count > 1 ? decode(parts[1]) : ""
        }
        return fields
    }

    private static func errorPage(_ error: WebError) -> Response {
        let page = WebPage(csrf: "", login: false)
        return WebPage.response(
            page.document(
                title: "\(error.status.code) \(error.status.reasonPhrase)", "<p class=\"error\">\(error.description)</p>"),
            status: error.status)
    }
}

extension HTTPFields.Element.Name {
    static let xFrameOptions = HTTPFields.Element.Name("X-Frame-Options")!
    fileprivate static let referrerPolicy = HTTPFields.Element.Name("Referrer-Policy")!
}
