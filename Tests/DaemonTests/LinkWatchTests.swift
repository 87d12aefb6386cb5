import Testing

@testable import Daemon

/// The rule a sync riding a flapping link follows after each failed try, fed tries as a clock and a link would.
@Suite struct LinkWatchTests {
    @Test func aPeerThatResetsEveryTryAtOnceIsGivenUpAtTheFifthBeforeAnythingMoved() {
        var watch = LinkWatch()
        var now = 0.0
        var pauses: [Double] = []
        var next = watch.next(after: .broken(took: 0.2), at: now, received: 0, jitter: 1)
        while case .again(let pause) = next {
            pauses.append(pause)
            now += pause + 0.2
            next = watch.next(after: .broken(took: 0.2), at: now, received: 0, jitter: 1)
        }
        #expect(pauses == [1, 2, 4, 8])
        #expect(next == .brokenForGood)
    }

    @Test func aTryThatLastedASecondOrMoreIsALinkThatFlapsAndIsWaitedForUpToTwoMinutes() {
        var watch = LinkWatch()
        var now = 0.0
        var tries = 0
        // Quick breaks, each fifth one slow: never five quick ones in a row.
        while case .again(let pause) = watch.next(
            after: .broken(took: tries % 5 == 4 ? 2 : 0.2), at: now, received: 0, jitter: 1)
        {
            tries += 1
            now += pause + 0.5
        }
        #expect(tries > 5)
        #expect(now > Syncer.stalledFor && now <= Syncer.stalledFor + Syncer.flappingBackoff + 0.5)
    }

    @Test func whileBytesMoveTriesComeHalfASecondApartUntilTheWindowEnds() {
        var watch = LinkWatch()
        var received = 0
        var now = 0.0
        var next = LinkWatch.Next.again(after: 0)
        while case .again(let pause) = next {
            #expect(pause == 0.5 || now == 0)
            now += pause + 20
            received += 1000
            next = watch.next(after: .broken(took: 20), at: now, received: received, jitter: 1)
        }
        #expect(next == .brokenForGood)
        #expect(now >= Syncer.flappingWindow)
    }

    @Test func bytesStoppingForTwoMinutesEndTheSync() {
        var watch = LinkWatch()
        #expect(watch.next(after: .broken(took: 5), at: 5, received: 100, jitter: 1) == .again(after: 0.5))
        #expect(watch.next(after: .broken(took: 5), at: 60, received: 100, jitter: 1) == .again(after: 1))
        #expect(watch.next(after: .broken(took: 5), at: 125, received: 100, jitter: 1) == .again(after: 2))
        #expect(watch.next(after: .broken(took: 5), at: 126, received: 100, jitter: 1) == .brokenForGood)
    }

    @Test func aPeerThatCannotBeReachedIsGivenUpAtOnceBeforeAnythingMovedAndAfterFourRefusalsOnce() {
        var first = LinkWatch()
        #expect(first.next(after: .unreachable, at: 1, received: 0, jitter: 1) == .unreachableForGood)

        var watch = LinkWatch()
        #expect(watch.next(after: .broken(took: 3), at: 3, received: 500, jitter: 1) == .again(after: 0.5))
        for refusal in 1...Syncer.refusals {
            guard case .again = watch.next(after: .unreachable, at: 3 + Double(refusal), received: 500, jitter: 1) else {
                Issue.record("gave up at refusal \(refusal)")
                return
            }
        }
        #expect(watch.next(after: .unreachable, at: 10, received: 500, jitter: 1) == .unreachableForGood)
    }

    @Test func jitterScalesThePause() {
        var watch = LinkWatch()
        #expect(watch.next(after: .broken(took: 3), at: 3, received: 0, jitter: 1.5) == .again(after: 1.5))
    }
}
