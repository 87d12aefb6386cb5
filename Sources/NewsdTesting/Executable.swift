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
    let out = try Pipe2()
    let err = try Pipe2()
    let stdin = try input.map { _ in try Pipe2() }
    let null = open("/dev/null", O_RDWR | O_CLOEXEC)
    defer { close(null) }
    let pid = try spawn(
        executable, arguments, environment: environment, directory: directory,
        streams: (stdin?.read ?? null, out.write, err.write))
    out.closeWrite()
    err.closeWrite()
    stdin?.closeRead()
    let watchdog = Task { () -> Bool in
        do { try await Task.sleep(for: limit) } catch { return false }
        kill(pid, SIGKILL)
        return true
    }
    if let input, let stdin {
        let writer = stdin.takeWrite()
        Thread {
            try? writer.write(contentsOf: input)
            try? writer.close()
        }.start()
    }
    // Read both pipes to the end before waiting, so a full pipe cannot stall the child.
    async let stdout = readToEnd(out.takeRead())
    async let stderr = readToEnd(err.takeRead())
    let (outData, errData) = await (stdout, stderr)
    let status = await reaped(pid)
    watchdog.cancel()
    let killed = await watchdog.value
    return CommandResult(
        status: killed ? -SIGKILL : status,
        stdout: String(decoding: outData, as: UTF8.self),
        stderr: String(decoding: errData, as: UTF8.self) + (killed ? "\n(killed after \(limit))\n" : ""))
}

/// Starts `executable` with posix_spawn: its standard input, output and error are `streams`, no other descriptor of this
/// process is left open in it, and `environment` is added to this process's.
///
/// Not Foundation's `Process`: its `run()` reads `/proc/self/fd` with a 256-byte copy of each directory entry and now
/// and then reads past the end of glibc's buffer and crashes (swift-corelibs-foundation #5472, after 6.3.1).
private func spawn(
    _ executable: URL, _ arguments: [String], environment: [String: String], directory: URL?,
    streams: (input: Int32, output: Int32, error: Int32)
) throws -> pid_t {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    for (stream, target) in [(streams.input, 0), (streams.output, 1), (streams.error, 2)] as [(Int32, Int32)] {
        posix_spawn_file_actions_adddup2(&actions, stream, target)
    }
    _ = GlibcSpawn.closeFrom?(&actions, 3)
    if let directory {
        guard let changeDirectory = GlibcSpawn.changeDirectory else { throw POSIXError(.ENOSYS) }
        _ = changeDirectory(&actions, directory.path)
    }
    let merged = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let argv = ([executable.path] + arguments).map { strdup($0) } + [nil]
    let envp = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer { (argv + envp).forEach { free($0) } }
    // The child starts with no signal blocked and every signal's default action, whatever this process (a test runner,
    // a daemon in it) blocked or ignored: a Python server that inherited a blocked set hung before its first line and
    // ignored SIGTERM.
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var none = sigset_t()
    var all = sigset_t()
    sigemptyset(&none)
    sigfillset(&all)
    posix_spawnattr_setsigmask(&attributes, &none)
    posix_spawnattr_setsigdefault(&attributes, &all)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    var pid: pid_t = 0
    let failed = posix_spawn(&pid, executable.path, &actions, &attributes, argv, envp)
    guard failed == 0 else { throw POSIXError(POSIXErrorCode(rawValue: failed) ?? .EINVAL) }
    return pid
}

/// File actions of glibc's (2.34 and later) that Swift's Glibc module does not declare, found at run time.
private enum GlibcSpawn {
    typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    typealias ChangeDirectory = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32

    static let closeFrom = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np").map { unsafeBitCast($0, to: CloseFrom.self) }
    static let changeDirectory = dlsym(nil, "posix_spawn_file_actions_addchdir_np").map {
        unsafeBitCast($0, to: ChangeDirectory.self)
    }
}

/// The exit status of child `pid` (or the signal that ended it), waited for on a thread of its own.
private func reaped(_ pid: pid_t) async -> Int32 {
    await withCheckedContinuation { continuation in
        Thread {
            var status: Int32 = 0
            while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
            let signal = status & 0x7F
            continuation.resume(returning: signal == 0 ? (status >> 8) & 0xFF : signal)
        }.start()
    }
}

/// A pipe whose ends close on exec (the child gets copies on 0, 1 or 2) and are closed once taken or dropped.
private final class Pipe2 {
    private(set) var read: Int32 = -1
    private(set) var write: Int32 = -1

    init() throws {
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EMFILE) }
        (read, write) = (ends[0], ends[1])
        // Another spawn between pipe and here may copy the ends; it closes every descriptor past 2 as it starts.
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
    }

    deinit {
        closeRead()
        closeWrite()
    }

    func closeRead() {
        if read >= 0 { close(read) }
        read = -1
    }

    func closeWrite() {
        if write >= 0 { close(write) }
        write = -1
    }

    /// The read end, as a handle that closes it.
    func takeRead() -> FileHandle {
        defer { read = -1 }
        return FileHandle(fileDescriptor: read, closeOnDealloc: true)
    }

    /// The write end, as a handle that closes it.
    func takeWrite() -> FileHandle {
        defer { write = -1 }
        return FileHandle(fileDescriptor: write, closeOnDealloc: true)
    }
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
    /// The process id.
    public let pid: pid_t
    private let lines: AsyncStream<String>
    private let exit: AsyncStream<Int32>
    private let log = Mutex<[String]>([])
    /// Finished when stderr is closed (the process exited, or closed it).
    private let closed: AsyncStream<Void>

    /// Starts `executable` with `arguments`, and `environment` added to this process's.
    public init(_ executable: URL, _ arguments: [String], environment: [String: String] = [:]) throws {
        let err = try Pipe2()
        let null = open("/dev/null", O_RDWR | O_CLOEXEC)
        defer { close(null) }
        pid = try spawn(executable, arguments, environment: environment, directory: nil, streams: (null, null, err.write))
        err.closeWrite()
        let lines = AsyncStream<String>.makeStream()
        self.lines = lines.stream
        let exit = AsyncStream<Int32>.makeStream()
        self.exit = exit.stream
        let closed = AsyncStream<Void>.makeStream()
        self.closed = closed.stream
        let pid = pid
        Task {
            exit.continuation.yield(await reaped(pid))
            exit.continuation.finish()
        }
        // Read on a thread of its own, with blocking reads to the end: a dispatch readability handler on a pipe
        // whose descriptor closes crashed libdispatch's event loop now and then, and sometimes never saw the end.
        let reader = err.takeRead()
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

    /// Sends `signal` to the process.
    public func signal(_ signal: Int32) { kill(pid, signal) }

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
