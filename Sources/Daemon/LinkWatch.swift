import Foundation

/// What a sync riding a flapping link does after a try that failed: try again after a pause, or give up. It is fed
/// how the try failed, how long it took and how many bytes the sync has received, so that the rule is the same
/// whatever the clock and the network, and is tested without either (``Syncer``'s `flapping` runs it).
struct LinkWatch {
    /// How a try failed.
    enum Failure: Equatable {
        /// The link broke during the try, `took` seconds after it began.
        case broken(took: Double)
        /// The peer could not be reached.
        case unreachable
    }

    /// What comes after a failed try.
    enum Next: Equatable {
        /// Try again after this many seconds.
        case again(after: Double)
        /// Give up, as the link broke too long or the peer resets every connection.
        case brokenForGood
        /// Give up, as the peer cannot be reached.
        case unreachableForGood
    }

    private var moved = 0
    private var idle = 0
    private var refused = 0
    private var quickBreaks = 0
    private var lastMoved = 0.0

    /// What to do after a try that failed with `failure`, `now` seconds after the sync began, with `received` bytes
    /// received by the sync in all; `jitter` (0.5-1.5) scales the pause, so that tries do not keep meeting a link that
    /// breaks at a steady pace at the same moment.
    mutating func next(after failure: Failure, at now: Double, received: Int, jitter: Double) -> Next {
        switch failure {
        case .broken(let took):
            refused = 0
            // A try broken within a second of its start: the peer (or something before it) resets connections.
            quickBreaks = took < 1 ? quickBreaks + 1 : 0
        case .unreachable:
            // A peer that cannot be reached at all (not running, or the link down for long) is not waited for.
            refused += 1
            guard moved > 0, refused <= Syncer.refusals else { return .unreachableForGood }
        }
        if received > moved {
            idle = 0
            lastMoved = now
        } else {
            idle += 1
        }
        moved = received
        // A link that breaks every try at once before anything moves is not riding out a flap: a few such tries;
        // otherwise `stalledFor` seconds without a byte (from the start, before anything moved).
        let stalled = now - lastMoved > Syncer.stalledFor || (moved == 0 && quickBreaks > Syncer.refusals)
        guard !stalled, now < Syncer.flappingWindow else { return .brokenForGood }
        return .again(after: (idle == 0 ? 0.5 : min(pow(2, Double(idle - 1)), Syncer.flappingBackoff)) * jitter)
    }
}
