public import Foundation
import Synchronization

/// A built executable of this package (`newsd`, `newsctl`), found beside the running test bundle.
public func builtExecutable(_ name: String) -> URL? {
    var directory = Bundle.main.bundleURL
    for _ in 0..<4 {
        let candidate = directory.appendingPathComponent(name)
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        directory = directory.deletingLastPathComponent()
    }
    return nil
}

/// The outcome of a finished command.
public struct CommandResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

/// Runs `executable` with `arguments` to completion, with `input` on its standard input, `environment` added to this
/// process's and, if given, in `directory`. A command still running after `limit` is killed (SIGKILL): its result then
/// has status -9 and says so on stderr, and a hung program cannot hang the suite.
public func runCommand(
    _ executable: URL, _ arguments: [String], input: Data? = nil, environment: [String: String] = [:],
    directory: URL? = nil, limit: Duration = .seconds(300)
) async throws -> CommandResult {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    if let directory { process.currentDirectoryURL = directory }
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    let stdin = Pipe()
    process.standardInput = input == nil ? FileHandle.nullDevice : stdin
    let finished = AsyncStream<Int32>.makeStream()
    process.terminationHandler = { finished.continuation.yield($0.terminationStatus) }
    try process.run()
    let pid = process.processIdentifier
    let watchdog = Task { () -> Bool in
        do { try await Task.sleep(for: limit) } catch { return false }
        kill(pid, SIGKILL)
        return true
    }
    if let input {
        let writer = stdin.fileHandleForWriting
        Thread {
            try? writer.write(contentsOf: input)
            try? writer.close()
        }.start()
    }
    // Read both pipes to the end before waiting, so a full pipe cannot stall the child.
    async let stdout = readToEnd(out.fileHandleForReading)
    async let stderr = readToEnd(err.fileHandleForReading)
    let (outData, errData) = await (stdout, stderr)
    var status: Int32 = -1
    for await code in finished.stream {
        status = code
        break
    }
    watchdog.cancel()
    let killed = await watchdog.value
    return CommandResult(
        status: killed ? -SIGKILL : status,
        stdout: String(decoding: outData, as: UTF8.self),
        stderr: String(decoding: errData, as: UTF8.self) + (killed ? "\n(killed after \(limit))\n" : ""))
}

/// Reads `handle` to its end on a thread of its own: a blocking read must never occupy one of the few
/// threads Swift concurrency runs on, or the daemon under test could starve while its client waits.
private func readToEnd(_ handle: FileHandle) async -> Data {
    await withCheckedContinuation { continuation in
        Thread { continuation.resume(returning: handle.readDataToEndOfFile()) }.start()
    }
}

/// A long-running child process whose stderr lines can be awaited. Every line it writes is kept, whether awaited or
/// not; every wait is bounded.
public final class ChildProcess: Sendable {
    private let process: Process
    private let lines: AsyncStream<String>
    private let exit: AsyncStream<Int32>
    private let log = Mutex<[String]>([])
    /// Finished when stderr is closed (the process exited, or closed it).
    private let closed: AsyncStream<Void>

    /// Starts `executable` with `arguments`, and `environment` added to this process's.
    public init(_ executable: URL, _ arguments: [String], environment: [String: String] = [:]) throws {
        process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        let err = Pipe()
        process.standardError = err
        let lines = AsyncStream<String>.makeStream()
        self.lines = lines.stream
        let exit = AsyncStream<Int32>.makeStream()
        self.exit = exit.stream
        let closed = AsyncStream<Void>.makeStream()
        self.closed = closed.stream
        process.terminationHandler = { exit.continuation.yield($0.terminationStatus) }
        try process.run()
        // Read on a thread of its own, with blocking reads to the end: a dispatch readability handler on a pipe
        // whose descriptor closes crashed libdispatch's event loop now and then, and sometimes never saw the end.
        let reader = err.fileHandleForReading
        Thread { [self] in
            var pending = Data()
            while true {
                let chunk = reader.availableData
                if chunk.isEmpty { break }
                pending.append(chunk)
                var complete: [String] = []
                while let newline = pending.firstIndex(of: 0x0A) {
                    complete.append(String(decoding: pending[pending.startIndex..<newline], as: UTF8.self))
                    pending.removeSubrange(pending.startIndex...newline)
                }
                self.log.withLock { $0.append(contentsOf: complete) }
                for line in complete { lines.continuation.yield(line) }
            }
            lines.continuation.finish()
            closed.continuation.finish()
        }.start()
    }

    /// Waits up to `seconds` for a stderr line containing `text`; returns it, or `nil` if the process closed stderr
    /// first or the time ran out.
    public func waitForLine(containing text: String, within seconds: Double = 60) async -> String? {
        await bounded(seconds) { [lines] in
            for await line in lines where line.contains(text) { return line }
            return nil
        } ?? nil
    }

    /// Every stderr line read so far, awaited or not; after ``waitForExit(within:)``, all of them.
    public var stderrLines: [String] { log.withLock { $0 } }

    /// The process id.
    public var pid: Int32 { process.processIdentifier }

    /// Sends `signal` to the process.
    public func signal(_ signal: Int32) { kill(process.processIdentifier, signal) }

    /// Waits up to `seconds` for the process to exit and its stderr to be read to the end, and returns its status; a
    /// process still running then is killed (SIGKILL) and -9 returned.
    public func waitForExit(within seconds: Double = 60) async -> Int32 {
        let status = await bounded(seconds) { [exit, closed] in
            var status: Int32 = -1
            for await code in exit {
                status = code
                break
            }
            for await _ in closed {}
            return status
        }
        guard let status else {
            signal(SIGKILL)
            return -SIGKILL
        }
        return status
    }
}

/// What `body` returns, or `nil` if it takes longer than `seconds`.
private func bounded<T: Sendable>(_ seconds: Double, _ body: @escaping @Sendable () async -> T) async -> T? {
    await withTaskGroup(of: T?.self) { group in
        group.addTask { await body() }
        group.addTask {
            try? await Task.sleep(for: .seconds(seconds))
            return nil
        }
        defer { group.cancelAll() }
        return await group.next() ?? nil
    }
}

/// Runs `body` on a thread of its own and returns what it returns: long synchronous work (filling an archive,
/// generating pages) must not hold one of the few threads Swift concurrency runs on, where the in-process servers and
/// daemons of the tests running beside it answer.
public func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}
