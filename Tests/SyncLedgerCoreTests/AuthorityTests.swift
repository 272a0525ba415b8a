import Testing

@testable import SyncLedgerCore

@Suite("Authority: source precedence")
struct AuthorityTests {
    let list = ["hr", "payroll"]

    @Test("rank is the position in authoritative_sources", arguments: [("hr", 0), ("payroll", 1)])
    func rankIsPosition(source: String, rank: Int) {
        #expect(Authority.rank(of: source, in: list) == rank)
    }

    @Test func unlistedSourceRanksAfterAllListed() {
        #expect(Authority.rank(of: "crm", in: list) == 2)
        #expect(Authority.outranks("payroll", "crm", in: list))
        #expect(Authority.outranks("hr", "crm", in: list))
        #expect(!Authority.outranks("crm", "payroll", in: list))
    }

    @Test func twoUnlistedSourcesAreEqual() {
        #expect(Authority.rank(of: "crm", in: list) == Authority.rank(of: "legacy", in: list))
        #expect(!Authority.outranks("crm", "legacy", in: list))
        #expect(!Authority.outranks("legacy", "crm", in: list))
    }

    @Test func emptyListMakesEverySourceEqual() {
        #expect(Authority.rank(of: "hr", in: []) == Authority.rank(of: "payroll", in: []))
        #expect(!Authority.outranks("hr", "payroll", in: []))
        #expect(!Authority.outranks("payroll", "hr", in: []))
    }

    @Test func higherPrecedenceOutranksLower() {
        #expect(Authority.outranks("hr", "payroll", in: list))
        #expect(!Authority.outranks("payroll", "hr", in: list))
        #expect(Authority.outranks("payroll", "hr", in: ["payroll", "hr"]))
    }

    @Test func aSourceNeverOutranksItself() {
        #expect(!Authority.outranks("hr", "hr", in: list))
        #expect(!Authority.outranks("crm", "crm", in: list))
    }

    @Test func namesMatchExactly() {
        #expect(Authority.rank(of: "HR", in: list) == 2)
    }
}
