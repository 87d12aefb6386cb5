/// The control API's paths on the daemon's Unix socket: one list for the daemon's routes, newsctl and the test helpers.
public enum ControlPath {
    /// `GET`: a ``StatusReport``.
    public static let status = "/v1/status"
    /// `GET`: the Prometheus text of the daemon's metrics.
    public static let metrics = "/metrics"
    /// `POST` (`?feed=`): polls now (without `feed`, also revisits the articles due); the feeds' ``FeedStatus`` after.
    public static let poll = "/v1/poll"
    /// `POST` (`?peer=`): pulls from peers now; their ``PeerStatus`` after.
    public static let sync = "/v1/sync"
    /// `GET` the feeds' ``FeedStatus``, `POST` a ``FeedConfig`` to add one, `DELETE` (`?url=`) one.
    public static let feeds = "/v1/feeds"
    /// `GET` the feeds as OPML, `POST` OPML to add its feeds.
    public static let feedsOPML = "/v1/feeds/opml"
    /// `POST` (`?reextract=1`): verifies the archive, progress and then the report as JSON lines of ``VerifyEvent``.
    public static let verify = "/v1/verify"
    /// `POST`: asks the time-stamping authorities for tokens over every waiting capture now; a ``TimestampResult``.
    public static let timestamp = "/v1/timestamp"
    /// `GET` (`?since=`, `?limit=`): articles whose page changed after it was first captured, as ``ArticleEdits``.
    public static let edits = "/v1/edits"
    /// `POST` a ``CaptureSelection`` (`?title=`): those captures as a WACZ 1.1.1 file.
    public static let exportWACZ = "/v1/export/wacz"
    /// `GET` (`?ref=`): an evidence bundle for one article, a ZIP file anyone can check with `sha256sum` and `openssl`.
    public static let prove = "/v1/prove"
    /// `POST` makes a backup copy (JSON lines of progress), `GET` (`?name=`) hands it over.
    public static let backup = "/v1/backup"
    /// `GET`: the whole archive as JSON Lines.
    public static let export = "/v1/export"
    /// `POST` a ``CaptureSelection`` (`?gzip=1`): those captures as WARC 1.1.
    public static let exportWARC = "/v1/export/warc"
    /// `POST` JSON Lines of an export: imports them, each batch checked whole.
    public static let importLines = "/v1/import"
    /// `GET` (`?feed=&since=&until=&tag=&hidden=1&limit=`): ``ArticleSummary`` newest first.
    public static let articles = "/v1/articles"
    /// `GET` (`?ref=`): an ``ArticleDetail``.
    public static let article = "/v1/article"
    /// `POST` an ``AnnotationRequest``: the article's ``ArticleAnnotations`` after.
    public static let annotations = "/v1/annotations"
    /// `POST` (`?article=` or `?all=1`): makes texts again with this node's extractor; a ``ReextractReport``.
    public static let reextract = "/v1/reextract"
    /// `GET` (`?min=&limit=`): ``Story`` largest first.
    public static let stories = "/v1/stories"
    /// `GET` (`?min=&limit=`): ``Event`` largest first.
    public static let events = "/v1/events"
    /// `GET` (`?id=`): the ``Event`` an id names (or was merged into), with all its texts.
    public static let event = "/v1/event"
    /// `POST` a ``SearchQuery``: ``SearchHit`` best first.
    public static let search = "/v1/search"
    /// `POST` a ``PeerConfig`` to add a peer, `DELETE` (`?name=`) one added so.
    public static let peers = "/v1/peers"
}

/// What `POST` ``ControlPath/importLines`` did.
public struct ImportResult: Codable, Sendable, Equatable {
    /// Lines read.
    public var lines: Int
    /// Records that were new.
    public var added: Int

    public init(lines: Int, added: Int) {
        self.lines = lines
        self.added = added
    }
}

/// What `POST` ``ControlPath/feedsOPML`` did.
public struct OPMLImport: Codable, Sendable, Equatable {
    /// Feeds added.
    public var added: Int
    /// Feeds already there, or that could not be added.
    public var skipped: Int

    public init(added: Int, skipped: Int) {
        self.added = added
        self.skipped = skipped
    }
}
