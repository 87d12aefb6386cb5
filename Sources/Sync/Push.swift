public import Archive
import Foundation
public import NewsCore

/// What one push achieved.
public struct PushSummary: Sendable, Equatable {
    /// Records that were new to the peer.
    public var added: Int
    /// Blobs sent.
    public var blobs: Int
    /// How much of this node's change log the peer now holds.
    public var cursor: Int64
}

extension Puller {
    /// Sends `peer` what it lacks of this node's change log: for nodes the peer cannot reach (behind NAT, on a
    /// laptop). `holds` is the peer's cursor for this node, if a pull just learnt it.
    ///
    /// Each run of changes is offered first (`POST /v1/missing`); only the records and blobs the peer lacks are sent
    /// (`POST /v1/push`), and the peer stores them with its new cursor in one transaction.
    public func push(_ peer: PeerConfig, holds: PeerCursor? = nil) async throws -> PushSummary {
        let known: PeerCursor
        if let holds { known = holds } else { known = try await call(peer, path: "/v1/cursor") }
        let head = try archive.lastSequence()
        var since = try start(from: known)
        var summary = PushSummary(added: 0, blobs: 0, cursor: since)
        var conflicts = 0
        // Set when the peer could not make a text of the run from its page: the run goes again with its texts.
        var withTexts = false
        while since < head {
            // What came from the peer itself is not offered back.
            let (changes, last) = try archive.changes(since: since, limit: SyncLimits.defaultPage, skipping: peer.node)
            guard last > since else { break }
            let offer = MissingRequest(
                records: changes.map(\.item.changeKey),
                blobs: Array(
                    Set(
                        changes.compactMap { change -> String? in
                            if case .capture(let capture) = change.item { capture.blobHash.hex } else { nil }
                        })))
            let lacking: MissingRequest =
                changes.isEmpty
                ? offer
                : try await call(peer, path: "/v1/missing", method: "POST", body: try WireJSON.encoder.encode(offer))
            let records = Set(lacking.records)
            var blobs = Set(lacking.blobs)
            // The run is cut where its blobs would pass the size of one answer of objects.
            var frames = Data()
            var sent: [Change] = []
            var through = last
            // Over a slow link to a peer that reads zstd bodies, pages go as their original bytes and the body is
            // compressed as a whole, as blobs come in a pull (``ObjectsRequest/whole``).
            let whole = carry.readsZstd && carry.slowLink
            for change in changes {
                let key = change.item.changeKey
                if case .capture(let capture) = change.item, records.contains(key), blobs.contains(capture.blobHash.hex) {
                    guard var stored = try archive.storedBlob(capture.blobHash) else {
                        throw PullError.corrupt("blob \(capture.blobHash) of this node's capture \(capture.id) is missing here")
                    }
                    if whole { stored = try stored.original() }
                    if !frames.isEmpty, frames.count + stored.data.count > SyncLimits.objectsBytes {
                        through = change.seq - 1
                        break
                    }
                    try ObjectFrames.append(stored, to: &frames)
                    blobs.remove(capture.blobHash.hex)
                    summary.blobs += 1
                }
                if records.contains(key) { sent.append(change) }
            }
            // Over a slow link, texts the peer makes with the extractor that made them stay here (it makes them from
            // the pages), as they do in a pull.
            var derived: [DerivedText] = []
            if whole, !withTexts, let extractor = lacking.derive {
                derived = SyncRoutes.leaveOutTexts(&sent, derivedBy: extractor)
            }
            var body = try WireJSON.encoder.encode(
                PushHeader(
                    epoch: archive.epoch, since: since, last: through, lastKey: try archive.changeKey(at: through), head: head,
                    changes: sent, derived: derived.isEmpty ? nil : derived))
            body.append(0x0A)
            body.append(frames)
            do {
                let result: PushResult = try await call(peer, path: "/v1/push", method: "POST", body: body)
                if let underived = result.underived, !underived.isEmpty {
                    guard !withTexts else {
                        throw PullError.corrupt("the peer asks for texts it was sent: \(underived.prefix(3))")
                    }
                    traffic.add(textsThePeerCouldNotMake: underived.count)
                    withTexts = true
                    continue
                }
                withTexts = false
                guard result.cursor > since else {
                    throw PullError.corrupt("the peer took a push but says it holds nothing after \(result.cursor)")
                }
                summary.added += result.added
                since = result.cursor
                summary.cursor = result.cursor
            } catch PullError.refused(409, _) where conflicts < 3 {
                // The peer's cursor moved (it pulled meanwhile, or forgot): ask where it stands and go on from there.
                conflicts += 1
                since = try start(from: try await call(peer, path: "/v1/cursor") as PeerCursor)
            }
        }
        return summary
    }

    /// Where a push starts, given how much of this node's log the peer holds: its cursor, unless that is of another
    /// epoch or names another change than this log holds there (this archive was restored from an older copy): 0.
    private func start(from held: PeerCursor) throws -> Int64 {
        guard held.epoch == archive.epoch, held.cursor > 0 else { return 0 }
        return try archive.changeKey(at: held.cursor) == held.key ? held.cursor : 0
    }
}
