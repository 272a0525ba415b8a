import Testing

@testable import SyncLedgerCore

struct CountsCase: Sendable, CustomTestStringConvertible {
    var name: String
    var counts: ItemCounts
    var status: JobStatus?
    var testDescription: String { name }
}

@Suite("JobOutcome: how a job ends")
struct JobOutcomeTests {
    static let cases: [CountsCase] = [
        CountsCase(name: "all failed", counts: ItemCounts(failed: 3), status: .completedWithErrors),
        CountsCase(
            name: "mixed", counts: ItemCounts(applied: 5, held: 1, skipped: 2, failed: 1), status: .completedWithErrors),
        CountsCase(name: "none failed", counts: ItemCounts(applied: 5, held: 1, skipped: 2), status: .completed),
        CountsCase(name: "only held", counts: ItemCounts(held: 4), status: .completed),
        CountsCase(name: "only skipped", counts: ItemCounts(skipped: 4), status: .completed),
        CountsCase(name: "empty", counts: ItemCounts(), status: .completed),
        CountsCase(name: "pending", counts: ItemCounts(applied: 5, pending: 1), status: nil),
        CountsCase(name: "pending and failed", counts: ItemCounts(failed: 2, pending: 1), status: nil),
    ]

    @Test("final status", arguments: cases)
    func finalStatus(_ testCase: CountsCase) {
        #expect(JobOutcome.finalStatus(of: testCase.counts) == testCase.status)
    }

    @Test func countsAddUpByStatus() {
        var counts = ItemCounts()
        for status in [ItemStatus.applied, .applied, .held, .skipped, .failed, .pending, .pending, .pending] {
            counts.add(status)
        }
        #expect(counts == ItemCounts(applied: 2, held: 1, skipped: 1, failed: 1, pending: 3))
        #expect(counts.total == 8)
    }
}
