import Foundation
import Testing

@testable import SyncLedgerCore

@Suite("Staleness: when an owner's value stops protecting itself")
struct StalenessTests {
    let now = Fixtures.now
    let day = Fixtures.day

    @Test func exactlyStaleAfterDaysOldIsNotStale() {
        #expect(!Staleness.isStale(confirmedAt: now - 30 * day, staleAfterDays: 30, now: now))
    }

    @Test func oneSecondMoreIsStale() {
        #expect(Staleness.isStale(confirmedAt: now - 30 * day - 1, staleAfterDays: 30, now: now))
    }

    @Test func recentlyConfirmedIsFresh() {
        #expect(!Staleness.isStale(confirmedAt: now - day, staleAfterDays: 30, now: now))
        #expect(!Staleness.isStale(confirmedAt: now, staleAfterDays: 30, now: now))
    }

    @Test func nilStaleAfterDaysIsNeverStale() {
        #expect(!Staleness.isStale(confirmedAt: now - 36_500 * day, staleAfterDays: nil, now: now))
        #expect(!Staleness.isStale(confirmedAt: .distantPast, staleAfterDays: nil, now: now))
    }

    @Test func zeroDaysIsStaleAfterAnySecond() {
        #expect(!Staleness.isStale(confirmedAt: now, staleAfterDays: 0, now: now))
        #expect(Staleness.isStale(confirmedAt: now - 1, staleAfterDays: 0, now: now))
    }

    @Test("the threshold scales with the days", arguments: [1, 7, 365])
    func thresholdScales(days: Int) {
        let threshold = Double(days) * day
        #expect(!Staleness.isStale(confirmedAt: now - threshold, staleAfterDays: days, now: now))
        #expect(Staleness.isStale(confirmedAt: now - threshold - 1, staleAfterDays: days, now: now))
    }
}
