import Testing

@testable import SyncLedger

/// The heartbeat renews only jobs whose slot made progress recently.
@Suite("Lease registry: stalled jobs stop being renewed")
struct LeaseRegistryTests {
    @Test func jobsWithoutProgressPastTheLimitAreNotRenewed() {
        let registry = LeaseRegistry()
        let start = ContinuousClock.now
        registry.insert(1, at: start)
        registry.insert(2, at: start)
        registry.insert(3, at: start)
        registry.progressed(2, at: start + .seconds(250))
        registry.progressed(3, at: start + .seconds(299))

        let (renew, stalled) = registry.renewable(now: start + .seconds(400), stallLimit: .seconds(300))
        #expect(renew == [2, 3])
        #expect(stalled == [1])
    }

    @Test func progressOfAJobNoLongerHeldIsIgnored() {
        let registry = LeaseRegistry()
        let start = ContinuousClock.now
        registry.insert(7, at: start)
        registry.remove(7)
        registry.progressed(7, at: start + .seconds(1))
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
