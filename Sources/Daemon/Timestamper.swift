import Archive
import Fetching
import Foundation
import NewsCore
import Synchronization
import X509

/// Gets trusted timestamps (RFC 3161) for the archive's captures: every `timestamp_interval`, the captures that an
/// authority has not vouched for yet go to it as one batch (the root of a Merkle tree of their ids), and the token it
/// grants is stored as a signed record that syncs. Offline, batches wait: a failed request is tried again after 30
/// seconds, doubling up to the interval, and a successful poll (the link is back) tries again at once.
final class Timestamper: Sendable {
    /// Captures in one batch at most: a record of 4,096 ids is some 270 KB.
    static let batchLimit = 4096

    private let archive: Archive
    private let fetcher: Fetcher
    private let key: NodeKey
    private let nodeID: String
    private let state = Mutex(State())
    let trigger = Trigger()

    private struct State {
        var authorities: [String: Progress] = [:]
        /// The counts of the last status, and the change-log sequence they were counted at.
        var counts: (sequence: Int64, captures: Int, stamped: Int, byAuthority: [String: Int])?
    }

    private struct Progress {
        var lastTokenAt: Date?
        var lastError: String?
        var failures = 0
        var nextAt: Date?
    }

    init(archive: Archive, fetcher: Fetcher, key: NodeKey, nodeID: String) {
        self.archive = archive
        self.fetcher = fetcher
        self.key = key
        self.nodeID = nodeID
    }

    /// Sends every authority in `config` its waiting captures, batch after batch, unless `due` and it is not yet due
    /// (it failed lately); returns what was granted and when the next round is due.
    func round(_ config: NewsdConfig, onlyDue: Bool) async -> (result: TimestampResult, next: Date) {
        var result = TimestampResult()
        let now = Date()
        for authority in config.tsas {
            let url = authority.url.absoluteString
            if onlyDue, let next = state.withLock({ $0.authorities[url]?.nextAt }), next > now { continue }
            do {
                let roots = try Self.roots(authority)
                while true {
                    let batch = try archive.capturesAwaitingTimestamp(tsa: url, limit: Self.batchLimit)
                    guard !batch.isEmpty else { break }
                    try await stamp(batch, authority: authority, config: config, roots: roots)
                    result.tokens += 1
                    result.captures += batch.count
                    state.withLock {
                        $0.authorities[url, default: Progress()].lastTokenAt = Date()
                        $0.authorities[url]?.lastError = nil
                        $0.authorities[url]?.failures = 0
                    }
                    if batch.count < Self.batchLimit { break }
                }
                state.withLock { $0.authorities[url, default: Progress()].nextAt = now + config.timestampInterval }
            } catch {
                result.errors[url] = "\(error)"
                state.withLock { state in
                    var progress = state.authorities[url] ?? Progress()
                    progress.lastError = "\(error)"
                    progress.failures += 1
                    progress.nextAt = now + min(config.timestampInterval, 30 * pow(2, Double(min(progress.failures - 1, 16))))
                    state.authorities[url] = progress
                }
            }
        }
        let next = state.withLock { state in config.tsas.compactMap { state.authorities[$0.url.absoluteString]?.nextAt }.min() }
        return (result, next ?? now + config.timestampInterval)
    }

    /// Whether some authority's last request failed: a link that comes back should be used at once.
    var isWaitingForLink: Bool { state.withLock { $0.authorities.values.contains { $0.lastError != nil } } }

    /// Asks `authority` for a token over `batch`, checks it, and stores it.
    private func stamp(_ batch: [ContentHash], authority: TSAConfig, config: NewsdConfig, roots: [Certificate]?) async throws {
        guard let root = MerkleTree.root(batch) else { return }
        let nonce = TimeStamp.nonce()
        let request = FetchRequest(
            url: authority.url, method: "POST", headers: [("Content-Type", "application/timestamp-query")],
            body: Data(TimeStamp.request(digest: root, nonce: nonce)), limits: config.limits, proxy: config.proxy)
        let response: FetchResponse
        do {
            response = try await fetcher.fetch(request)
        } catch {
            throw TimeStamp.Failure("cannot reach the authority: \(error)")
        }
        guard response.status == 200 else { throw TimeStamp.Failure("the authority answered HTTP \(response.status)") }
        let tokenBytes = try TimeStamp.token(fromReply: Array(response.body))
        let token = try TimeStamp.read(tokenBytes, vouchingFor: root)
        guard token.nonce.map({ $0.elementsEqual(nonce.drop { $0 == 0 }) }) ?? true else {
            throw TimeStamp.Failure("the token answers another request (its nonce differs)")
        }
        if let roots { try await TimeStamp.verify(token, roots: roots) }
        let record = try key.sign(
            TimestampRecord(
                captures: batch, tsa: authority.url.absoluteString, token: Data(tokenBytes), time: token.time, nodeID: nodeID))
        try archive.store(timestamp: record)
    }

    /// The certificates `authority`'s tokens must chain to, if it names a CA file.
    static func roots(_ authority: TSAConfig) throws -> [Certificate]? {
        guard let file = authority.caFile else { return nil }
        do {
            return try TimeStamp.certificates(pem: String(contentsOf: file, encoding: .utf8))
        } catch {
            throw TimeStamp.Failure("cannot read the certificates in \(file.path): \(error)")
        }
    }

    /// What `newsctl status` shows; counted again only when the change log moved.
    func status(_ config: NewsdConfig) throws -> TimestampStatus? {
        guard !config.tsas.isEmpty else { return nil }
        let urls = config.tsas.map(\.url.absoluteString)
        let sequence = try archive.lastSequence()
        let cached = state.withLock { state in
            state.counts.flatMap { $0.sequence == sequence && urls.allSatisfy($0.byAuthority.keys.contains) ? $0 : nil }
        }
        let counts: (sequence: Int64, captures: Int, stamped: Int, byAuthority: [String: Int])
        if let cached {
            counts = cached
        } else {
            let counted = try archive.timestampCounts(authorities: urls)
            counts = (
                sequence, counted.captures, counted.stamped, Dictionary(uniqueKeysWithValues: zip(urls, counted.byAuthority))
            )
            state.withLock { $0.counts = counts }
        }
        return state.withLock { state in
            TimestampStatus(
                captures: counts.captures, stamped: counts.stamped,
                authorities: urls.map { url in
                    let stamped = counts.byAuthority[url] ?? 0
                    var authority = TimestampStatus.Authority(url: url, stamped: stamped, waiting: counts.captures - stamped)
                    let progress = state.authorities[url]
                    authority.lastTokenAt = progress?.lastTokenAt
                    authority.lastError = progress?.lastError
                    authority.nextAt = progress?.nextAt
                    return authority
                })
        }
    }

    /// Checks every stored token: it reads, its signature holds, it vouches for its batch's root, and, for an authority
    /// configured with a CA file, it chains to that CA at the time it states.
    func check(_ report: inout VerifyReport, config: NewsdConfig) throws {
        var roots: [String: [Certificate]] = [:]
        for authority in config.tsas { roots[authority.url.absoluteString] = try Self.roots(authority) }
        try archive.eachTimestamp { record in
            do {
                guard let bytes = record.tokenBytes else { throw TimeStamp.Failure("the token is not base64") }
                let token = try TimeStamp.read(Array(bytes), vouchingFor: record.root)
                guard Canonical.timestamp(token.time) == record.time else {
                    throw TimeStamp.Failure("the token states another time than the record")
                }
                if let trusted = roots[record.tsa] { try waitFor { try await TimeStamp.verify(token, roots: trusted) } }
                report.timestamps += 1
            } catch {
                report.problems.append(.init(kind: "timestamp", id: record.id.hex, message: "\(error)"))
            }
        }
    }
}

/// Runs `work` to its end from a thread that is not one of Swift concurrency's (a verification's), and returns its
/// outcome.
private func waitFor(_ work: @escaping @Sendable () async throws -> Void) throws {
    let outcome = Mutex<Result<Void, any Error>?>(nil)
    let done = DispatchSemaphore(value: 0)
    Task {
        do {
            try await work()
            outcome.withLock { $0 = .success(()) }
        } catch {
            outcome.withLock { $0 = .failure(error) }
        }
        done.signal()
    }
    done.wait()
    try outcome.withLock { $0 }?.get()
}
