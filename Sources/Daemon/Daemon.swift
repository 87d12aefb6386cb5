import Archive
import Fetching
import Foundation
import Hummingbird
import HummingbirdTLS
public import Logging
public import NewsCore
import ServiceLifecycle
import Sync
import Synchronization
import UnixSignals

/// A running newsd: archive, poller, syncer, control API and sync server.
///
/// ```swift
/// let daemon = try Daemon(config: try NewsdConfig.load(path: "/etc/newsd/newsd.toml"), logger: logger)
/// try await daemon.run()
/// ```
public final class Daemon: Sendable {
    /// The configuration the daemon was started with; `current` has what a reload changed since.
    public let config: NewsdConfig
    private let live: Mutex<NewsdConfig>
    /// This node's identity.
    public let identity: NodeIdentity
    /// The sync server's certificate and key, when it speaks HTTPS (`tls = true`).
    let tls: TLSIdentity?
    /// The sync server's key pin, when it speaks HTTPS: what peers put in `pin`.
    public var tlsPin: String? { tls?.pin }
    let archive: Archive
    private let lock: DirectoryLock
    let fetcher: Fetcher
    let poller: Poller
    let syncer: Syncer
    let timestamper: Timestamper
    /// Who may sync with this node: the peers in force, by node id.
    let gate: SyncGate
    let logger: Logger
    private let startedAt = Date()
    private let pollTrigger = Trigger()
    private let syncTrigger = Trigger()
    let readiness = Readiness()
    let hub = EventHub()
    private let notifier = SystemdNotifier()
    let metrics = Metrics()
    /// Where the web interface is served, or why it is off.
    let web = WebState()
    /// The last verification, or the one under way.
    let verifying = Mutex<Verification?>(nil)
    /// The web interface's URL while it is served, `off: …` with the reason it is not, or `nil` when it is not configured.
    public var webAddress: String? { web.current }
    private let group = Mutex<ServiceGroup?>(nil)

    /// Opens the data directory (creating it), takes its lock, and opens the archive.
    public init(config: NewsdConfig, logger: Logger) throws {
        self.config = config
        self.live = Mutex(config)
        self.logger = logger
        let directory = config.dataDirectory
        do {
            try FileManager.default.createDirectory(
                at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750])
        } catch {
            throw DaemonError("cannot create data directory \(directory.path): \(error.localizedDescription)")
        }
        lock = try DirectoryLock(directory: directory)
        // Binding the control socket would remove the file of another daemon serving there, and stopping would then
        // leave that daemon without one.
        if socketAnswers(config.controlSocket.path) {
            throw DaemonError(
                "another newsd answers on the control socket \(config.controlSocket.path); stop it, or give this one "
                    + "another control_socket")
        }
        identity = try NodeIdentity(directory: directory)
        Self.removeBackups(in: directory)
        tls = config.tls ? try TLSIdentity(directory: directory, nodeID: identity.nodeID) : nil
        do {
            archive = try Archive(
                path: directory.appendingPathComponent("archive.sqlite").path, checkpointMiB: config.walCheckpointMiB)
            try archive.declareFeeds(config.feeds)
            try archive.register(identity.key.record)
        } catch {
            throw DaemonError("cannot open archive in \(directory.path): \(error)")
        }
        fetcher = Fetcher(
            userAgent: config.userAgent ?? "newsd/\(newsdVersion)",
            options: FetcherOptions(
                maxConnections: config.maxConnections, maxPerHost: config.maxPerHost, politeness: config.politeness))
        poller = Poller(
            archive: archive, fetcher: fetcher, key: identity.key,
            settings: Self.pollSettings(config),
            events: hub, metrics: metrics, logger: logger)
        let peers = try Self.peers(config, archive: archive)
        syncer = Syncer(
            archive: archive, fetcher: fetcher, limits: config.limits, key: identity.key, peers: peers, events: hub,
            metrics: metrics, logger: logger)
        gate = SyncGate(key: identity.key, peers: peers)
        timestamper = Timestamper(archive: archive, fetcher: fetcher, key: identity.key, nodeID: identity.nodeID)
        gate.onContact { [weak self] node in await self?.contact(from: node) }
    }

    /// The peers of `config` and those added at run time (the config's win a name both use).
    private static func peers(_ config: NewsdConfig, archive: Archive) throws -> [PeerConfig] {
        let declared = Set(config.peers.map(\.name))
        return config.peers + (try archive.addedPeers()).filter { !declared.contains($0.name) }
    }

    /// Gives the syncer and the sync server's gate the peers now in force, and syncs.
    func applyPeers() throws {
        let peers = try Self.peers(current, archive: archive)
        gate.allow(peers)
        let syncer = self.syncer
        Task {
            await syncer.update(peers: peers)
            self.syncTrigger.fire()
        }
    }

    private static func pollSettings(_ config: NewsdConfig) -> Poller.Settings {
        .init(
            schedule: PollSchedule(pollInterval: config.pollInterval, maxInterval: config.maxPollInterval), limits: config.limits,
            proxy: config.proxy, revisitAfter: config.revisitAfter)
    }

    /// The configuration in force: the one started with, or the last one reloaded.
    public var current: NewsdConfig { live.withLock { $0 } }

    /// Applies a new configuration: feeds and peers added or removed, schedule, limits and proxy. The data
    /// directory, control socket and listen address stay as started (a restart applies them).
    public func reload(_ new: NewsdConfig) throws {
        if new.dataDirectory != config.dataDirectory || new.controlSocket != config.controlSocket || new.listen != config.listen
            || new.walCheckpointMiB != config.walCheckpointMiB
        {
            logger.warning("data_dir, control_socket, listen and wal_checkpoint_mib changes apply at the next restart")
        }
        try archive.declareFeeds(new.feeds)
        poller.update(Self.pollSettings(new))
        live.withLock { $0 = new }
        try applyPeers()
        pollTrigger.fire()
        logger.info("configuration reloaded", metadata: ["feeds": "\(new.feeds.count)", "peers": "\(new.peers.count)"])
    }

    /// Runs until `shutdown()` or, with `handleSignals`, until SIGTERM or SIGINT; in-flight work is drained first.
    /// With `reloader`, SIGHUP reloads the configuration through it; one that fails is logged and the old kept.
    ///
    /// With `scheduled` false, feeds are polled and peers pulled only when the control API asks
    /// (`newsctl poll`, `newsctl sync`): for metered links, and for tests that drive every step.
    public func run(
        handleSignals: Bool = true, scheduled: Bool = true, reloader: (@Sendable () throws -> NewsdConfig)? = nil
    ) async throws {
        // A run that fails before its listeners are up must not leave `ready()` waiting forever.
        defer { readiness.abandon() }
        var services: [any Service] = [controlServer(), LegacyExtractionSigner(daemon: self)]
        if let reloader { services.append(HangupReloader(daemon: self, load: reloader)) }
        // The compaction loop hears of polls from before its task first runs: under load that can be after one. It runs
        // without a schedule too: polls asked for are polls.
        services.append(CompactLoop(daemon: self, events: events()))
        if scheduled {
            services +=
                [
                    PollLoop(daemon: self), SyncLoop(daemon: self), RevisitLoop(daemon: self),
                    TimestampLoop(daemon: self, events: events()),
                ] as [any Service]
        }
        if let server = try syncServer() { services.append(server) } else { readiness.syncBound(port: nil) }
        if let server = try metricsServer() { services.append(server) }
        if let server = try webServer() { services.append(server) } else { readiness.webSettled() }
        // Last, so that it is told of a stop first (a service group stops its services in reverse order, each after
        // the one before has ended).
        services.append(FetchStopper(daemon: self))
        let group = ServiceGroup(
            configuration: .init(
                services: services.map { .init(service: $0) },
                gracefulShutdownSignals: handleSignals ? [.sigterm, .sigint] : [],
                logger: logger))
        self.group.withLock { $0 = group }
        logger.info(
            "starting",
            metadata: ["node": "\(identity.nodeID)", "data": "\(config.dataDirectory.path)", "version": "\(newsdVersion)"])
        let notifier = self.notifier
        let announce = Task {
            let port = await ready()
            notifier.send("READY=1\nSTATUS=\((try? self.summary()) ?? "serving")\nMAINPID=\(getpid())")
            let host = config.listen.flatMap(HostPort.init)?.host ?? ""
            logger.info(
                "ready",
                metadata: ["control": "\(config.controlSocket.path)", "sync": "\(port.map { "\(host):\($0)" } ?? "off")"])
        }
        defer { announce.cancel() }
        defer { hub.finish() }
        // The watchdog is fed only while the writer answers (each ping needs a check that ended after the one before)
        // and polls under way keep moving.
        let probe = notifier.watchdogInterval.map { _ in WriterProbe(archive: archive) }
        let poller = self.poller
        let watchdog = Task {
            guard let interval = notifier.watchdogInterval, let probe else { return }
            var asked = ContinuousClock.now
            probe.ask()
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                if probe.answered(since: asked), !poller.stalled(at: .now) {
                    notifier.send("WATCHDOG=1")
                    asked = .now
                }
                probe.ask()
            }
        }
        defer {
            watchdog.cancel()
            probe?.stop()
        }
        try await group.run()
        watchdog.cancel()
        probe?.stop()
        notifier.send("STOPPING=1")
        try archive.close()
        lock.release()
        logger.info("stopped")
    }

    /// Stops the daemon as SIGTERM does: in-flight work is drained, then `run` returns.
    public func shutdown() async {
        await group.withLock { $0 }?.triggerGracefulShutdown()
    }

    /// Events from now on, until the daemon stops.
    public func events() -> AsyncStream<DaemonEvent> { hub.subscribe() }

    /// Waits until the control socket, the sync listener and the web interface accept connections; returns the sync port, if any (none
    /// either when `run` ended or failed before the listener was up).
    public func ready() async -> Int? {
        await readiness.wait()
    }

    /// One line for systemd's status: what the archive holds and how the feeds are doing.
    func summary() throws -> String {
        let counts = try archive.counts()
        let failing = try archive.feedStatuses().filter { $0.lastResult == "error" }.count
        return "\(counts.feeds) feeds (\(failing) failing), \(counts.articles) articles, \(counts.captures) captures"
    }

    /// What `newsctl status` shows.
    func status() async throws -> StatusReport {
        let directory = config.dataDirectory
        let files =
            (try? FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: [.fileSizeKey])) ?? []
        let bytes = files.reduce(Int64(0)) { $0 + Int64((try? $1.resourceValues(forKeys: [.fileSizeKey]).fileSize) ?? 0) }
        var report = StatusReport(
            version: newsdVersion, nodeID: identity.nodeID, pid: getpid(), startedAt: startedAt,
            uptimeSeconds: -startedAt.timeIntervalSinceNow, dataDirectory: directory.path, dataBytes: bytes,
            counts: try archive.counts(),
            feeds: try archive.feedStatuses(),
            peers: try archive.peerStatuses(Self.peers(current, archive: archive)), activity: await activity(),
            tlsPin: tls?.pin, web: web.current)
        report.verification = verifying.withLock { $0 }
        report.timestamps = try timestamper.status(current)
        if !current.revisitAfter.isEmpty {
            let today = try archive.revisitDay(of: Date())
            report.revisits = RevisitStatus(
                waiting: try archive.revisitsWaiting(), requestsToday: today?.requests ?? 0, bytesToday: today?.bytes ?? 0,
                changedToday: today?.changed ?? 0, budget: current.revisitBudget)
        }
        return report
    }

    /// What the daemon is doing now, in a few words.
    func activity() async -> String {
        let polling = poller.polling
        let syncing = await syncer.syncing
        var parts: [String] = []
        if polling > 0 { parts.append("polling \(polling) feed\(polling == 1 ? "" : "s")") }
        if !syncing.isEmpty { parts.append("pulling from \(syncing.joined(separator: ", "))") }
        if let running = verifying.withLock({ $0 }), running.finishedAt == nil {
            parts.append("verifying (\(running.done) of \(running.total))")
        }
        return parts.isEmpty ? "idle" : parts.joined(separator: ", ")
    }

    private func controlServer() -> some Service {
        let router = controlRoutes()
        let path = config.controlSocket.path
        let readiness = readiness
        return Application(
            router: router, configuration: .init(address: .unixDomainSocket(path: path), serverName: "newsd"),
            onServerRunning: { _ in
                chmod(path, 0o660)
                readiness.controlBound()
            }, logger: quietLogger())
    }

    private func syncServer() throws -> (any Service)? {
        guard let listen = config.listen else { return nil }
        guard let address = HostPort(listen) else { throw DaemonError("listen address \(listen) is not HOST:PORT") }
        try requireBindable(host: address.host, port: address.port, key: "listen")
        let router = Router()
        let metrics = self.metrics
        SyncRoutes.add(
            to: router, archive: archive, gate: gate, nodeID: identity.nodeID, texts: Syncer.textMaker,
            made: { peer, texts in metrics.count("newsd_sync_texts_made_total", ["peer": peer], by: Double(texts)) }
        ) { count in
            metrics.count("newsd_sync_objects_served_total", by: Double(count))
        }
        let readiness = readiness
        return Application(
            router: router,
            server: try tls.map { try .tls(.http1(configuration: SyncRoutes.http1), tlsConfiguration: $0.configuration) }
                ?? .http1(configuration: SyncRoutes.http1),
            configuration: .init(address: .hostname(address.host, port: address.port), serverName: "newsd"),
            onServerRunning: { channel in readiness.syncBound(port: channel.localAddress?.port) }, logger: quietLogger())
    }

    /// `/metrics` alone over TCP at `metrics_listen`, when it is set.
    private func metricsServer() throws -> (any Service)? {
        guard let listen = config.metricsListen else { return nil }
        guard let address = HostPort(listen) else { throw DaemonError("metrics address \(listen) is not HOST:PORT") }
        try requireBindable(host: address.host, port: address.port, key: "metrics_listen")
        let router = Router()
        router.get(RouterPath(ControlPath.metrics)) { _, _ in try self.metricsResponse() }
        let logger = self.logger
        return Application(
            router: router, configuration: .init(address: .hostname(address.host, port: address.port), serverName: "newsd"),
            onServerRunning: { channel in
                logger.info("metrics served", metadata: ["address": "\(address.host):\(channel.localAddress?.port ?? 0)"])
            }, logger: quietLogger())
    }

    func quietLogger() -> Logger {
        var server = logger
        server.logLevel = max(logger.logLevel, .warning)
        return server
    }

    fileprivate func pollDueFeeds() async throws -> Date {
        let (due, _) = try poller.due(at: Date())
        if !due.isEmpty {
            _ = await poller.poll(due)
            notifier.send("STATUS=\((try? summary()) ?? "polling")")
        }
        return try poller.due(at: Date()).next
    }

    /// Reads what search ranks by into memory (see ``Archive/prepareSearch()``), so that no search waits for it.
    fileprivate func prepareSearch() async {
        let archive = self.archive
        do {
            try await onOwnThread { try archive.prepareSearch() }
        } catch {
            logger.error("reading the texts' lengths for search failed: \(error)")
        }
    }

    /// Files the texts an older newsd stored into events (see ``Archive/fileUnfiledEvents(limit:)``), a few hundred at
    /// a time on a thread of its own, until none is left.
    fileprivate func fileUnfiledEvents() async {
        let archive = self.archive
        do {
            var filed = 0
            while !Task.isCancelled {
                let taken = try await onOwnThread { try archive.fileUnfiledEvents(limit: 256) }
                guard taken > 0 else { break }
                filed += taken
            }
            if filed > 0 {
                logger.info("filed \(filed) texts stored before events into events")
                hub.publish(.olderTextsFiledIntoEvents(filed))
            }
        } catch {
            logger.error("filing earlier texts into events failed: \(error)")
        }
    }

    /// Makes dictionaries of the pages that have none yet (see ``Archive/buildDictionaries(limit:)``) and recompresses
    /// stored pages (see ``Archive/compactBlobs(limit:)``): a few hosts and a few dozen pages at a time on a thread of
    /// its own, until nothing waits or a poll is under way; then gives the pages that freed back to the file system.
    fileprivate func compactWhileIdle() async {
        let archive = self.archive
        var dictionariesDue = true
        repeat {
            do {
                if dictionariesDue {
                    dictionariesDue = try await onOwnThread { try archive.buildDictionaries(limit: 4) } > 0
                }
                let taken = try await onOwnThread { try archive.compactBlobs(limit: 32) }
                guard taken > 0 || dictionariesDue else { return }
                let waiting = try archive.blobsAwaitingCompaction()
                if waiting == 0 {
                    _ = try await onOwnThread { try archive.reclaimFreePages() }
                }
                hub.publish(.compacted(waiting: waiting))
            } catch {
                logger.error("recompressing stored pages failed: \(error)")
                return
            }
        } while poller.polling == 0 && !Task.isCancelled
    }

    /// Makes the poll loop look for due feeds now.
    func wakePoller() { pollTrigger.fire() }

    fileprivate func waitForPoll(until date: Date) async {
        await pollTrigger.wait(upTo: .seconds(max(0, date.timeIntervalSinceNow)))
    }

    fileprivate func syncPeers() async -> Date {
        let settings = current
        let peers = await syncer.peers
        if !peers.isEmpty { _ = await syncer.syncAll(scheduled: true) }
        let next = Date().addingTimeInterval(peers.compactMap(\.interval).min() ?? settings.syncInterval)
        return min(next, await syncer.nextRetry ?? next)
    }

    /// A peer made a signed request: if it had been failing, pull from it now.
    fileprivate func contact(from node: String) async {
        if await syncer.peerIsBack(node: node) { syncTrigger.fire() }
    }

    fileprivate func waitForSync(until date: Date) async {
        await syncTrigger.wait(upTo: .seconds(max(0, date.timeIntervalSinceNow)))
    }
}

/// Once a stop is asked, stops the poller and the fetcher: no new fetch starts, transfers in flight end, and what
/// was fetched is committed. A poll of hundreds of articles would otherwise hold the stop up for minutes, past
/// systemd's `TimeoutStopSec`.
private struct FetchStopper: Service {
    let daemon: Daemon

    func run() async throws {
        try? await gracefulShutdown()
        daemon.poller.stop()
        daemon.fetcher.stop()
    }
}

/// Signs, once, the extractions made before extractions were signed whose texts this node makes again (see
/// ``Daemon/signLegacyExtractions(stopping:)``), on a thread of its own: it runs the extractor over their pages. A stop
/// ends it between pages; it goes on at the next start.
private struct LegacyExtractionSigner: Service {
    let daemon: Daemon

    func run() async throws {
        let stopping = Mutex(false)
        await withGracefulShutdownHandler {
            await withCheckedContinuation { continuation in
                Thread {
                    do {
                        if let signed = try daemon.signLegacyExtractions(stopping: { stopping.withLock { $0 } }) {
                            daemon.logger.notice("checked older extractions", metadata: ["signed": "\(signed)"])
                            daemon.hub.publish(.olderExtractionsSigned(signed))
                        }
                    } catch {
                        daemon.logger.error("cannot sign older extractions", metadata: ["error": "\(error)"])
                    }
                    continuation.resume()
                }.start()
            }
        } onGracefulShutdown: {
            stopping.withLock { $0 = true }
        }
        // Done: a service that ended before the daemon stops would stop it.
        try? await gracefulShutdown()
    }
}

/// Reloads the configuration on SIGHUP.
private struct HangupReloader: Service {
    let daemon: Daemon
    let load: @Sendable () throws -> NewsdConfig

    func run() async throws {
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        await cancelWhenGracefulShutdown {
            for await _ in hangups {
                do {
                    try daemon.reload(try load())
                } catch {
                    daemon.logFailedReload(error)
                }
            }
        }
    }
}

extension Daemon {
    fileprivate func logFailedReload(_ error: any Error) {
        logger.error("configuration not reloaded, the old one stays: \(error)")
    }
}

/// Polls due feeds until shutdown.
private struct PollLoop: Service {
    let daemon: Daemon

    func run() async throws {
        try await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                let next = try await daemon.pollDueFeeds()
                await daemon.waitForPoll(until: next)
            }
        }
    }
}

/// Revisits the articles due, within the day's budget, until shutdown: at least every ten minutes, sooner when the next
/// one is due sooner.
private struct RevisitLoop: Service {
    let daemon: Daemon

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                var next = Date().addingTimeInterval(600)
                do {
                    let round = try await daemon.poller.revisitDue(budget: daemon.current.revisitBudget)
                    if round.revisited > 0 {
                        daemon.logger.info(
                            "revisited", metadata: ["articles": "\(round.revisited)", "changed": "\(round.changed)"])
                    }
                    if let due = round.next { next = min(next, due) }
                } catch {
                    daemon.logger.error("cannot revisit", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: .seconds(max(1, next.timeIntervalSinceNow)))
            }
        }
    }
}

/// Asks the time-stamping authorities for tokens over new captures every `timestamp_interval`, and at once when a
/// poll succeeds while a request had failed (the link is back), until shutdown.
private struct TimestampLoop: Service {
    let daemon: Daemon
    /// The daemon's events, subscribed to before the daemon started.
    let events: AsyncStream<DaemonEvent>

    func run() async throws {
        let timestamper = daemon.timestamper
        let listener = Task {
            for await event in events {
                if case .polled(let feed) = event, feed.lastResult != "error", timestamper.isWaitingForLink {
                    timestamper.trigger.fire()
                }
            }
        }
        defer { listener.cancel() }
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                let next = await timestamper.round(daemon.current, onlyDue: true).next
                await timestamper.trigger.wait(upTo: .seconds(max(1, next.timeIntervalSinceNow)))
            }
        }
    }
}

/// Reads what search ranks by and files texts stored before events into events at start; recompresses stored pages
/// at start and whenever polling stops, until shutdown.
private struct CompactLoop: Service {
    let daemon: Daemon
    /// The daemon's events, subscribed to before the daemon started.
    let events: AsyncStream<DaemonEvent>

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await daemon.prepareSearch()
            await daemon.fileUnfiledEvents()
            await daemon.compactWhileIdle()
            for await event in events {
                if case .polled = event { await daemon.compactWhileIdle() }
            }
        }
    }
}

/// Pulls from peers on their interval until shutdown.
private struct SyncLoop: Service {
    let daemon: Daemon

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                let next = await daemon.syncPeers()
                await daemon.waitForSync(until: next)
            }
        }
    }
}

/// Tracks when the listeners are up (the web interface's: up, or found unable to listen).
final class Readiness: Sendable {
    private struct State {
        var control = false
        var web = false
        var sync: Int?? = .none
        var waiters: [CheckedContinuation<Int?, Never>] = []
    }

    private let state = Mutex(State())

    func controlBound() { update { $0.control = true } }

    func syncBound(port: Int?) { update { $0.sync = .some(port) } }

    /// The web interface listens, or will not (it is off, or cannot listen).
    func webSettled() { update { $0.web = true } }

    /// Run ended (or failed before both listeners were up): whoever waits stops waiting, with no port if the sync
    /// listener never came up.
    func abandon() {
        update { state in
            state.control = true
            state.web = true
            if state.sync == nil { state.sync = .some(nil) }
        }
    }

    func wait() async -> Int? {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> Int?? in
                guard state.control, state.web, let port = state.sync else {
                    state.waiters.append(continuation)
                    return .none
                }
                return .some(port)
            }
            if let port = ready { continuation.resume(returning: port) }
        }
    }

    private func update(_ change: (inout State) -> Void) {
        let (waiters, port) = state.withLock { state -> ([CheckedContinuation<Int?, Never>], Int?) in
            change(&state)
            guard state.control, state.web, let port = state.sync else { return ([], nil) }
            defer { state.waiters.removeAll() }
            return (state.waiters, port)
        }
        for waiter in waiters { waiter.resume(returning: port) }
    }
}
