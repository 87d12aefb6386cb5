public import NewsCore
import Synchronization

/// Something the daemon finished doing, for whoever listens (tests, progress output, metrics).
public enum DaemonEvent: Sendable, Equatable {
    /// A feed was polled; its state afterwards.
    case polled(FeedStatus)
    /// A pull from a peer ended; the peer's state afterwards.
    case synced(PeerStatus)
    /// Stored pages were recompressed while newsd was idle; how many still wait.
    case compacted(waiting: Int)
    /// Extractions made before extractions were signed were checked against their pages; how many this node signed.
    case olderExtractionsSigned(Int)
    /// Texts stored before events were (by an older newsd) were filed into events; how many.
    case olderTextsFiledIntoEvents(Int)
}

/// Fans events out to every current subscriber. Subscribers that fall behind lose the oldest events.
final class EventHub: Sendable {
    private let subscribers = Mutex<[Int: AsyncStream<DaemonEvent>.Continuation]>([:])
    private let nextID = Atomic<Int>(0)

    func subscribe() -> AsyncStream<DaemonEvent> {
        let (stream, continuation) = AsyncStream<DaemonEvent>.makeStream(bufferingPolicy: .bufferingNewest(256))
        let id = nextID.add(1, ordering: .relaxed).newValue
        subscribers.withLock { $0[id] = continuation }
        continuation.onTermination = { [weak self] _ in self?.subscribers.withLock { _ = $0.removeValue(forKey: id) } }
        return stream
    }

    func publish(_ event: DaemonEvent) {
        for continuation in subscribers.withLock({ Array($0.values) }) { continuation.yield(event) }
    }

    func finish() {
        for continuation in subscribers.withLock({ Array($0.values) }) { continuation.finish() }
    }
}
