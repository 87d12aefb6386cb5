import Archive
import Daemon
import Foundation
import NewsCore
import Testing

@Suite(.timeLimit(.minutes(5))) struct PollScheduleTests {
    let schedule = PollSchedule(pollInterval: 900, maxInterval: 4 * 3600)
    let now = Date(timeIntervalSince1970: 1_795_338_000)  // Sunday 2026-11-22 09:00 GMT

    private func feed(interval: Double? = nil, hints: FeedHints = FeedHints()) -> Feed {
        Feed(
            id: 1, url: "https://x.example/rss", location: "https://x.example/rss", origin: "config",
            settings: FeedConfig(url: URL(string: "https://x.example/rss")!, interval: interval), errorCount: 0, hints: hints)
    }

    @Test func theIntervalFollowsThePublishingRhythmWithinBounds() {
        let hourly = (0..<10).map { now.addingTimeInterval(Double(-$0) * 3600) }
        #expect(schedule.adaptiveInterval(entryDates: hourly) == 1800)
        let everyMinute = (0..<10).map { now.addingTimeInterval(Double(-$0) * 60) }
        #expect(schedule.adaptiveInterval(entryDates: everyMinute) == 900)
        let weekly = (0..<10).map { now.addingTimeInterval(Double(-$0) * 7 * 86400) }
        #expect(schedule.adaptiveInterval(entryDates: weekly) == 14400.0)
        #expect(schedule.adaptiveInterval(entryDates: Array(hourly.prefix(2))) == nil)
    }

    @Test func serverHintsStretchTheIntervalAndAFixedOneIsKept() {
        let base = feed(hints: FeedHints(adaptiveInterval: 1800))
        #expect(schedule.next(after: now, feed: base, responseHeaders: [:], jitter: 1) == now.addingTimeInterval(1800))
        let ttl = feed(hints: FeedHints(ttl: 60, adaptiveInterval: 1800))
        #expect(schedule.next(after: now, feed: ttl, responseHeaders: [:], jitter: 1) == now.addingTimeInterval(3600))
        let cached = schedule.next(after: now, feed: base, responseHeaders: ["cache-control": "public, max-age=7200"], jitter: 1)
        #expect(cached == now.addingTimeInterval(7200))
        let expires = schedule.next(
            after: now, feed: base,
            responseHeaders: ["date": "Sun, 22 Nov 2026 09:00:00 GMT", "expires": "Sun, 22 Nov 2026 12:00:00 GMT"], jitter: 1)
        #expect(expires == now.addingTimeInterval(3 * 3600))
        // Clamped: a year of max-age still polls within the ceiling.
        let clamped = schedule.next(after: now, feed: base, responseHeaders: ["cache-control": "max-age=31536000"], jitter: 1)
        #expect(clamped == now.addingTimeInterval(4 * 3600))
        let fixed = schedule.next(
            after: now, feed: feed(interval: 300), responseHeaders: ["cache-control": "max-age=7200"], jitter: 1)
        #expect(fixed == now.addingTimeInterval(300))
    }

    @Test func skipHoursAndDaysMoveThePoll() {
        // 09:00 + 30 min falls in skipped hours 9 and 10: moved to 11:00.
        let hours = feed(hints: FeedHints(skipHours: [9, 10], adaptiveInterval: 1800))
        #expect(schedule.next(after: now, feed: hours, responseHeaders: [:], jitter: 1) == now.addingTimeInterval(2 * 3600))
        // Sunday skipped: moved to Monday 00:00 GMT.
        let days = feed(hints: FeedHints(skipDays: ["sunday"], adaptiveInterval: 1800))
        #expect(
            schedule.next(after: now, feed: days, responseHeaders: [:], jitter: 1) == Date(timeIntervalSince1970: 1_795_392_000))
    }

    @Test func failuresBackOffToSixHoursAndRetryAfterWins() {
        #expect(schedule.next(afterFailure: 1, at: now, retryAfter: nil, jitter: 1) == now.addingTimeInterval(60))
        #expect(schedule.next(afterFailure: 4, at: now, retryAfter: nil, jitter: 1) == now.addingTimeInterval(480))
        #expect(schedule.next(afterFailure: 40, at: now, retryAfter: nil, jitter: 1) == now.addingTimeInterval(6 * 3600))
        #expect(schedule.next(afterFailure: 1, at: now, retryAfter: 600, jitter: 1) == now.addingTimeInterval(600))
        #expect(schedule.next(afterFailure: 1, at: now, retryAfter: 1e9, jitter: 1) == now.addingTimeInterval(86400))
        #expect(PollSchedule.retryAfter("120", now: now) == 120)
        #expect(PollSchedule.retryAfter("Sun, 22 Nov 2026 10:00:00 GMT", now: now) == 3600)
        #expect(PollSchedule.retryAfter("soon", now: now) == nil)
    }
}
