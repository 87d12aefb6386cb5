import CCurl
import Foundation
import Synchronization

/// The one thread that drives every transfer through a libcurl multi handle.
///
/// Transfers are submitted from any thread; the loop adds them to the multi handle, runs them all
/// concurrently with `curl_multi_poll`, and resumes each transfer's continuation when it finishes.
/// Blocking network I/O therefore never occupies Swift's cooperative threads.
final class TransferLoop: Sendable {
    /// The process-wide loop, started on first use.
    static let shared = TransferLoop()

    private let queue = Mutex<[Transfer]>([])
    private nonisolated(unsafe) let multi: UnsafeMutableRawPointer

    private init() {
        Fetcher.initialiseCurl()
        guard let multi = curl_multi_init() else { fatalError("libcurl could not create a multi handle") }
        self.multi = multi
        let thread = Thread { [self] in run() }
        thread.name = "newsd-curl"
        thread.start()
    }

    /// Hands `transfer` to the loop thread.
    func submit(_ transfer: Transfer) {
        queue.withLock { $0.append(transfer) }
        curl_multi_wakeup(multi)
    }

    private func run() {
        var active: [UnsafeMutableRawPointer: Transfer] = [:]
        while true {
            for transfer in queue.withLock({ queue in
                defer { queue.removeAll() }; return queue
            }) {
                guard let handle = curl_easy_init() else {
                    transfer.continuation.resume(
                        returning: .failure(.transport(code: -1, message: "libcurl could not start a transfer")))
                    continue
                }
                if let error = transfer.configure(handle) {
                    curl_easy_cleanup(handle)
                    transfer.continuation.resume(returning: .failure(error))
                    continue
                }
                active[handle] = transfer
                curl_multi_add_handle(multi, handle)
            }
            var running: Int32 = 0
            curl_multi_perform(multi, &running)
            var remaining: Int32 = 0
            while let message = curl_multi_info_read(multi, &remaining) {
                guard message.pointee.msg == CURLMSG_DONE, let handle = message.pointee.easy_handle else { continue }
                let code = message.pointee.data.result
                curl_multi_remove_handle(multi, handle)
                if let transfer = active.removeValue(forKey: handle) {
                    transfer.continuation.resume(returning: transfer.result(handle, code: code))
                }
                curl_easy_cleanup(handle)
            }
            curl_multi_poll(multi, nil, 0, 1000, nil)
        }
    }
}
