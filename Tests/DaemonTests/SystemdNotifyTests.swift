import Foundation
import GRDB
import NewsdTesting
import Testing

/// A datagram socket standing in for systemd's notification socket.
private final class NotifySocket: @unchecked Sendable {
    let path: String
    private let descriptor: Int32

    init(path: String) throws {
        self.path = path
        descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard descriptor >= 0, bound == 0 else { throw POSIXError(.EADDRINUSE) }
        var timeout = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(descriptor) }

    /// Every message received within `seconds`.
    func drain(seconds: Double) async -> [String] {
        await withCheckedContinuation { continuation in
            Thread { [self] in
                var seen: [String] = []
                var buffer = [UInt8](repeating: 0, count: 4096)
                let end = Date().addingTimeInterval(seconds)
                while Date() < end {
                    let count = recv(descriptor, &buffer, buffer.count, 0)
                    if count > 0 { seen.append(String(decoding: buffer[0..<count], as: UTF8.self)) }
                }
                continuation.resume(returning: seen)
            }.start()
        }
    }

    /// Messages received until one contains `text`, or `nil` after `attempts` seconds without it.
    func wait(for text: String, attempts: Int = 30) async -> [String]? {
        await withCheckedContinuation { continuation in
            Thread { [self] in
                var seen: [String] = []
                var buffer = [UInt8](repeating: 0, count: 4096)
                var quiet = 0
                while quiet < attempts {
                    let count = recv(descriptor, &buffer, buffer.count, 0)
                    guard count > 0 else {
                        quiet += 1
                        continue
                    }
                    let message = String(decoding: buffer[0..<count], as: UTF8.self)
                    seen.append(message)
                    if message.contains(text) { return continuation.resume(returning: seen) }
                }
                continuation.resume(returning: nil)
            }.start()
        }
    }
}

@Suite(.timeLimit(.minutes(5))) struct SystemdNotifyTests {
    @Test func newsdSaysReadyKeepsTheWatchdogFedAndSaysStopping() async throws {
        let newsd = try #require(builtExecutable("newsd"))
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let notify = try NotifySocket(path: directory.appendingPathComponent("notify").path)
        let config = directory.appendingPathComponent("newsd.toml")
        try "data_dir = \"data\"\nlisten = \"\"\n".write(to: config, atomically: true, encoding: .utf8)
        let daemon = try ChildProcess(
            newsd, ["--config", config.path], environment: ["NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "200000"])

        let ready = try #require(await notify.wait(for: "READY=1"))
        #expect(ready.last?.contains("STATUS=0 feeds (0 failing), 0 articles, 0 captures") == true, "\(ready)")
        #expect(await notify.wait(for: "WATCHDOG=1") != nil)

        // A writer that cannot write (another process holds the archive's write lock) stops the pings; once it can
        // again, they come back.
        var holding = Configuration()
        holding.allowsUnsafeTransactions = true
        let archive = try DatabaseQueue(
            path: directory.appendingPathComponent("data/archive.sqlite").path, configuration: holding)
        try await archive.writeWithoutTransaction { try $0.execute(sql: "BEGIN IMMEDIATE") }
        _ = await notify.drain(seconds: 1)
        let whileLocked = await notify.drain(seconds: 2)
        #expect(!whileLocked.contains { $0.contains("WATCHDOG=1") }, "\(whileLocked)")
        try await archive.writeWithoutTransaction { try $0.execute(sql: "ROLLBACK") }
        #expect(await notify.wait(for: "WATCHDOG=1", attempts: 15) != nil)
        try archive.close()

        daemon.signal(SIGTERM)
        #expect(await notify.wait(for: "STOPPING=1") != nil)
        #expect(await daemon.waitForExit() == 0)
    }
}
