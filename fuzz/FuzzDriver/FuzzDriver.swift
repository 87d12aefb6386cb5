public import Foundation
import Synchronization

// What every fuzz target shares: built with `-D FUZZING -sanitize=fuzzer` (see fuzz/run), libFuzzer's driver runs
// the target's test over generated inputs; built normally, the target replays inputs given as files, to reproduce a
// crash.

/// The test libFuzzer's callback hands each input to: a C callback captures nothing. Boxed, since a function value read
/// out of a `Mutex` gains a reabstraction thunk on every read (see `SyncGate`).
private let test = Mutex<Test?>(nil)

private final class Test: Sendable {
    let run: @Sendable (Data) -> Void

    init(_ run: @escaping @Sendable (Data) -> Void) { self.run = run }
}

#if FUZZING
    @_silgen_name("LLVMFuzzerRunDriver")
    private func runDriver(
        _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
        _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
    ) -> CInt

    /// Hands control to libFuzzer, which calls `body` with each input; call it from the target's entry point.
    public func fuzz(
        _ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ body: @escaping @Sendable (Data) -> Void
    ) -> CInt {
        test.withLock { $0 = Test(body) }
        var count = argc
        var arguments = argv
        return runDriver(&count, &arguments) { bytes, size in
            let input = bytes.map { Data(bytes: $0, count: size) } ?? Data()
            test.withLock { $0 }?.run(input)
            return 0
        }
    }
#endif

/// Calls `body` with the contents of each file named on the command line, saying `ok` after each.
public func replay(_ body: (Data) -> Void) throws {
    for path in CommandLine.arguments.dropFirst() {
        body(try Data(contentsOf: URL(fileURLWithPath: path)))
        print("ok \(path)")
    }
}
