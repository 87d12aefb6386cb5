import CCurl
import Foundation
import Synchronization

/// The thread that drives a fetcher's transfers through one libcurl multi handle.
///
/// Transfers are submitted from any thread; the loop starts each when its host's politeness delay
/// allows, runs them concurrently with `curl_multi_poll` (libcurl queues those beyond the connection
/// caps), and resumes each transfer's caller when it finishes.
final class TransferLoop: Sendable {
    private struct Inbox {
        var submitted: [Transfer] = []
        var stopping = false
    }

    private let inbox = Mutex(Inbox())
    private nonisolated(unsafe) let multi: UnsafeMutableRawPointer
    private let politeness: Duration

    init(options: FetcherOptions) {
        guard let multi = curl_multi_init() else { fatalError("libcurl could not create a multi handle") }
        self.multi = multi
        politeness = .milliseconds(Int(options.politeness * 1000))
        newsd_curl_multi_setopt_long(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, options.maxConnections)
        newsd_curl_multi_setopt_long(multi, CURLMOPT_MAX_HOST_CONNECTIONS, options.maxPerHost)
        let thread = Thread { [self] in run() }
        thread.name = "newsd-curl"
        thread.start()
    }

    /// Hands `transfer` to the loop thread.
    func submit(_ transfer: Transfer) {
        let accepted = inbox.withLock { inbox -> Bool in
            guard !inbox.stopping else { return false }
            inbox.submitted.append(transfer)
            return true
        }
        guard accepted else { return transfer.finish(.failure(.cancelled)) }
        curl_multi_wakeup(multi)
    }

    /// Ends the loop: transfers still queued or running fail with `cancelled`.
    func stop() {
        inbox.withLock { $0.stopping = true }
        curl_multi_wakeup(multi)
    }

    private func run() {
        let clock = ContinuousClock()
        var active: [UnsafeMutableRawPointer: Transfer] = [:]
        var waiting: [Transfer] = []
        var nextStart: [String: ContinuousClock.Instant] = [:]
        while true {
            let (submitted, stopping) = inbox.withLock { inbox in
                defer { inbox.submitted.removeAll() }
                return (inbox.submitted, inbox.stopping)
            }
            if stopping {
                for (handle, transfer) in active {
                    curl_multi_remove_handle(multi, handle)
                    curl_easy_cleanup(handle)
                    transfer.finish(.failure(.cancelled))
                }
                for transfer in waiting + submitted { transfer.finish(.failure(.cancelled)) }
                curl_multi_cleanup(multi)
                return
            }
            // Start what is due; a host's next request waits for its politeness delay.
            let now = clock.now
            var later: [Transfer] = []
            for transfer in waiting + submitted {
                if let host = transfer.politenessKey {
                    if let due = nextStart[host], due > now {
                        later.append(transfer)
                        continue
                    }
                    nextStart[host] = now + politeness
                }
                start(transfer, active: &active)
            }
            waiting = later
            if nextStart.count > 1024 { nextStart = nextStart.filter { $0.value > now } }

            var running: Int32 = 0
            curl_multi_perform(multi, &running)
            var remaining: Int32 = 0
            while let message = curl_multi_info_read(multi, &remaining) {
                guard message.pointee.msg == CURLMSG_DONE, let handle = message.pointee.easy_handle else { continue }
                let code = message.pointee.data.result
                curl_multi_remove_handle(multi, handle)
                if let transfer = active.removeValue(forKey: handle) {
                    transfer.finish(transfer.result(handle, code: code))
                }
                curl_easy_cleanup(handle)
            }
            var timeout = 1000
            if !waiting.isEmpty {
                let soonest = waiting.compactMap { $0.politenessKey.flatMap { nextStart[$0] } }.min() ?? now
                let wait = (soonest - clock.now) / .milliseconds(1)
                timeout = max(1, min(timeout, Int(wait.rounded(.up))))
            }
            curl_multi_poll(multi, nil, 0, Int32(timeout), nil)
        }
    }

    private func start(_ transfer: Transfer, active: inout [UnsafeMutableRawPointer: Transfer]) {
        guard let handle = curl_easy_init() else {
            return transfer.finish(.failure(.transport(code: -1, message: "libcurl could not start a transfer")))
        }
        if let error = transfer.configure(handle) {
            curl_easy_cleanup(handle)
            return transfer.finish(.failure(error))
        }
        active[handle] = transfer
        curl_multi_add_handle(multi, handle)
    }
}
