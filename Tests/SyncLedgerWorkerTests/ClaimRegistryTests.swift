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
}
