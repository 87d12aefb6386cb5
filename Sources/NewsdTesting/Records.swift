public import Foundation
public import NewsCore

/// The article at `url` and a capture of `page` for it, made and signed by `key`'s node: what a poller, or a peer
/// honest or lying, stores.
public func signedCapture(
    of page: Data, by key: NodeKey, url: String = "https://news.example/story",
    fetchedAt: String = "2026-11-22T00:00:00.000Z", contentType: String = "text/html"
) throws -> (article: ArticleRecord, capture: CaptureRecord) {
    let article = ArticleRecord(url: url)
    let capture = try key.sign(
        CaptureRecord(
            articleID: article.id, url: url, finalURL: url, fetchedAt: fetchedAt, status: 200, contentType: contentType,
            etag: nil, lastModified: nil, blobHash: ContentHash(of: page), size: page.count, nodeID: key.record.id.hex))
    return (article, capture)
}
