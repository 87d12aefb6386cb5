public import Foundation
import Synchronization

// What every fuzz target shares: built with `-D FUZZING -sanitize=fuzzer` (see fuzz/run), libFuzzer's driver runs
// the target's test over generated inputs; built normally, the target replays inputs given as files, to reproduce a
// crash.

/// The test libFuzzer's callback hands each input to: a C callback captures nothing.
private let test = Mutex<(@Sendable (Data) -> Void)?>(nil)

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
        test.withLock { $0 = body }
        var count = argc
        var arguments = argv
        return runDriver(&count, &arguments) { bytes, size in
            let input = bytes.map { Data(bytes: $0, count: size) } ?? Data()
            test.withLock { $0 }?(input)
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
