import Foundation
import SyncLedgerTestSupport
import Testing

@testable import SyncLedgerPostgres
@testable import SyncLedgerWorker

/// The heartbeat renews only claims whose slot made progress recently.
@Suite("Claim registry: stalled claims stop being renewed")
struct ClaimRegistryTests {
    @Test func claimsWithoutProgressPastTheLimitAreNotRenewed() {
        let registry = ClaimRegistry()
        let start = ContinuousClock.now
        let (a, b, c) = (UUID(), UUID(), UUID())
        registry.insert(Claim(token: a, jobs: []), at: start)
        registry.insert(Claim(token: b, jobs: []), at: start)
        registry.insert(Claim(token: c, jobs: []), at: start)
        registry.progressed(b, at: start + .seconds(250))
        registry.progressed(c, at: start + .seconds(299))

        let (renew, stalled) = registry.renewable(now: start + .seconds(400), stallLimit: .seconds(300))
        #expect(Set(renew) == [b, c])
        #expect(stalled == [a])
    }

    @Test func progressOfAClaimNoLongerHeldIsIgnored() {
        let registry = ClaimRegistry()
        let start = ContinuousClock.now
        let token = UUID()
        registry.insert(Claim(token: token, jobs: []), at: start)
        registry.remove(token)
        registry.progressed(token, at: start + .seconds(1))
        #expect(registry.all.isEmpty)
        #expect(registry.renewable(now: start + .seconds(2), stallLimit: .seconds(1)) == ([], []))
    }

    @Test func stallLimitIsFiveLeasesAndAtLeastFiveMinutes() {
        var settings = WorkerSettings(workerID: "w")
        settings.leaseSeconds = 60
        #expect(settings.stallLimit == .seconds(300))
        settings.leaseSeconds = 120
        #expect(settings.stallLimit == .seconds(600))
        settings.leaseSeconds = 3
        #expect(settings.stallLimit == .seconds(300))
    }
    static func claim(_ token: UUID, jobs: [Int64]) -> Claim {
        Claim(
            token: token,
            jobs: jobs.map { ClaimedJob(jobID: $0, source: "hr", entityType: nil, attempts: 1, submitSeq: $0, rescuedFrom: nil, lastError: nil) })
    }

    /// A stalled claim is reported once, then never renewed again: it is
    /// abandoned (its slot cancels its work and releases its jobs).
    @Test func aStalledClaimIsAbandonedOnceAndNeverRenewedAgain() {
        let registry = ClaimRegistry()
        let start = ContinuousClock.now
        let token = UUID()
        registry.insert(Self.claim(token, jobs: [7]), at: start)
        #expect(!registry.isAbandoned(token))
        #expect(registry.renewable(now: start + .seconds(301), stallLimit: .seconds(300)) == ([], [token]))
        #expect(registry.isAbandoned(token))
        registry.progressed(token, at: start + .seconds(302))
        #expect(registry.renewable(now: start + .seconds(303), stallLimit: .seconds(300)) == ([], []))
    }

    /// The watchdog sees one slot that waits for the database without an
    /// answer, even while other slots are answered; a slot waiting for work
    /// (idle) does not count.
    @Test func theLongestSilenceIsThatOfASlotWaitingForTheDatabase() {
        let start = ContinuousClock.now
        let registry = ClaimRegistry(now: start)
        registry.slotActive(0, at: start)
        registry.slotActive(1, at: start)
        registry.slotActive(2, at: start)
        registry.slotIdle(2)
        registry.answered(slot: 1, at: start + .seconds(50))
        let silence = registry.longestSilence(now: start + .seconds(60))
        #expect(silence?.slot == 0)
        #expect(silence?.silence == .seconds(60))
        registry.answered(slot: 0, at: start + .seconds(59))
        #expect(registry.longestSilence(now: start + .seconds(60))?.slot == 1)
    }

    /// Progress per job: counted once (items, and those done before this
    /// claim), then chunks add their items; the rate is over the interval
    /// since the previous report. No statement per chunk.
    @Test func progressReportsItemsDoneTotalAndRate() {
        let start = ContinuousClock.now
        let registry = ClaimRegistry(now: start)
        let token = UUID()
        registry.insert(Self.claim(token, jobs: [1]), slot: 0, at: start)
        registry.progressed(token, items: [1: 100], at: start + .seconds(1))
        #expect(registry.uncountedJobs(claimedBefore: start + .seconds(2)).map(\.job) == [1])
        // Counted when 100 of this claim's items were done: 1000 items, 800 pending, so 100 were done before the claim.
        registry.setCount(job: 1, total: 1000, pending: 800, processedBefore: 100)
        #expect(registry.uncountedJobs(claimedBefore: start + .seconds(2)).isEmpty)
        registry.progressed(token, items: [1: 200], at: start + .seconds(3))
        let (progress, load) = registry.report(for: [token], now: start + .seconds(4))
        #expect(progress.count == 1)
        #expect(progress.first?.itemsDone == 400)
        #expect(progress.first?.itemsTotal == 1000)
        #expect(progress.first?.itemsPerSecond == 75)
        #expect(load.busySlots == 1 && load.jobsHeld == 1)
        #expect(registry.itemsRemaining == 600)
        let (next, _) = registry.report(for: [token], now: start + .seconds(6))
        #expect(next.first?.itemsPerSecond == 0)
    }
}
