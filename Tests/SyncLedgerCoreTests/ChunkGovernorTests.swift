import Foundation
import Testing

@testable import SyncLedgerCore

/// Deciding one item from the database's facts about its aspect (SPEC §2
/// steps 2 to 4, without I/O).
@Suite("ChunkGovernor")
struct ChunkGovernorTests {
    let preparer = Fixtures.preparer()
    let t0 = Date(timeIntervalSince1970: 1_700_000_000)

    func facts(
        target: UUID? = Fixtures.ann, equal: Bool = false, owner: ValueOwner? = nil, held: Int64? = nil,
        marks: SourceOrderMarks = SourceOrderMarks(), castError: String? = nil, keyConflict: Bool = false,
        relatedConflict: Bool = false
    ) -> AspectFacts {
        AspectFacts(
            targetID: target, keyConflict: keyConflict, relatedConflict: relatedConflict, castError: castError, equalsCurrent: equal,
            owner: owner, heldDuplicate: held, marks: marks)
    }

    func decide(_ item: InboundItem, _ facts: AspectFacts) throws -> ItemDecision {
        ChunkGovernor.decide(try preparer.prepared(item), facts: facts)
    }

    // MARK: What the database refused or could not resolve

    @Test func aValueThatDoesNotFitItsColumnFailsNamingColumnAndType() throws {
        let decision = try decide(
            Fixtures.item(field: "birth_date", value: "1985-13-45"), facts(castError: "date/time field value out of range"))
        #expect(decision.verdict.status == .failed)
        #expect(decision.verdict.message == "value '1985-13-45' does not fit core.person.birth_date of type date: date/time field value out of range")
        #expect(decision.marks == nil)
        #expect(decision.confirm == nil)
    }

    @Test func aKeyWhoseHintedRecordHasAnotherIdentifierFails() throws {
        let decision = try decide(Fixtures.item(key: "E-7"), facts(target: nil, keyConflict: true))
        #expect(decision.verdict == .failed(.identifierConflict(externalKey: "E-7", table: Fixtures.person, source: "hr")))
    }

    @Test func aLinkWhoseRelatedRecordCannotBeLinkedFailsNamingTheRelatedKey() throws {
        let decision = try decide(
            Fixtures.item(operation: "Link", field: "employer_id", value: "ORG-1"), facts(relatedConflict: true))
        #expect(decision.verdict == .failed(.identifierConflict(externalKey: "ORG-1", table: Fixtures.organisation, source: "hr")))
    }

    @Test func aDeleteOfAnUnknownKeyHasNothingToDelete() throws {
        let decision = try decide(Fixtures.item(key: "E-404", operation: "Delete", field: nil, value: nil), facts(target: nil))
        #expect(decision.verdict.status == .skipped)
        #expect(decision.verdict.message == "skipped: no core.person record for external key 'E-404' from 'hr'; nothing to delete")
        #expect(decision.marks == nil)
    }

    // MARK: Verdicts and their bookkeeping

    @Test func anAppliedItemRecordsItsStatementInTheMarks() throws {
        let decision = try decide(Fixtures.item(id: 3, value: "Ann", timestamp: t0), facts())
        #expect(decision.verdict == .applied)
        #expect(decision.verdict.message == nil)
        let position = SubmissionPosition(submit: 1, seq: 3)
        #expect(decision.marks == SourceOrderMarks(latestTimestamp: t0, latestTimestampPosition: position, latest: position))
    }

    @Test func anUnchangedValueConfirmsItsOwnersClockAndStillCountsAsTheSourcesNewest() throws {
        let decision = try decide(Fixtures.item(id: 2), facts(equal: true, owner: ValueOwner(source: "hr", ledgerID: 42)))
        #expect(decision.verdict == .skipped(.unchanged))
        #expect(decision.verdict.message == "skipped: unchanged; the target already holds this value")
        #expect(decision.confirm == 42)
        #expect(decision.marks?.latest == SubmissionPosition(submit: 1, seq: 2))
        // Another source's value: nothing to confirm.
        let other = try decide(Fixtures.item(id: 2), facts(equal: true, owner: ValueOwner(source: "payroll", ledgerID: 42)))
        #expect(other.confirm == nil)
    }

    @Test func anOutOfOrderItemChangesNothingNotEvenTheMarks() throws {
        let marks = SourceOrderMarks(latestTimestamp: t0 + 10, latestTimestampPosition: SubmissionPosition(submit: 1, seq: 1))
        let decision = try decide(Fixtures.item(id: 2, value: "Anne", timestamp: t0), facts(marks: marks))
        #expect(decision.verdict.status == .skipped)
        let message = try #require(decision.verdict.message)
        #expect(message.hasPrefix("skipped: out of order; 'hr' already sent a later source_timestamp"))
        #expect(message.hasSuffix("for this field"))
        #expect(decision.marks == nil)
        #expect(decision.confirm == nil)
    }

    @Test func aHeldItemSaysWhyAndRecordsItsStatement() throws {
        let decision = try decide(
            Fixtures.item(source: "payroll", value: "Anne"), facts(owner: ValueOwner(source: "hr", ledgerID: 5)))
        #expect(decision.verdict == .held(.outranked(owner: "hr")))
        #expect(decision.verdict.message == "held: the current value from 'hr' outranks this source and is not stale")
        #expect(decision.marks != nil)
    }

    @Test func aValueThatWouldWaitAgainConfirmsTheWaitingEntryInstead() throws {
        let decision = try decide(
            Fixtures.item(source: "payroll", value: "Anne"), facts(owner: ValueOwner(source: "hr", ledgerID: 5), held: 77))
        #expect(decision.verdict == .skipped(.heldDuplicate(ledgerID: 77, source: "payroll")))
        #expect(decision.confirm == 77)
        #expect(decision.verdict.message?.contains("ledger entry 77 from 'payroll' already proposes this value") == true)
    }

    @Test func lowConfidenceMappingIsHeld() throws {
        // hr's 'D' maps to divorced with confidence 0.5; the policy wants 0.8.
        let decision = try decide(Fixtures.item(field: "marital_status", value: "D"), facts())
        #expect(decision.verdict == .held(.lowConfidence(confidence: 0.5, minimum: 0.8)))
    }

    @Test func anOnCertifyFieldIsHeldForCertification() throws {
        let decision = try decide(Fixtures.item(table: Fixtures.organisation, field: "name", value: "Acme"), facts(target: Fixtures.acme))
        #expect(decision.verdict == .held(.certificationRequired))
    }

    @Test func statusesFollowVerdicts() {
        #expect(ItemVerdict.applied.status == .applied)
        #expect(ItemVerdict.held(.certificationRequired).status == .held)
        #expect(ItemVerdict.skipped(.unchanged).status == .skipped)
        #expect(ItemVerdict.failed(.missingExternalKey).status == .failed)
    }
}

/// Rounds: never two items of one aspect decided on the same facts.
@Suite("RoundPlanner")
struct RoundPlannerTests {
    static func identity(_ key: String, _ aspect: String = "given_name", source: String = "hr") -> RoundPlanner.Identity {
        RoundPlanner.Identity(table: Fixtures.person, source: source, externalKey: key, aspectKey: aspect)
    }

    static func aspect(_ id: UUID, _ name: String = "given_name") -> AspectKey {
        AspectKey(table: Fixtures.person, targetID: id, aspectKey: name)
    }

    @Test func itemsOfDistinctAspectsAreOneRound() {
        var planner = RoundPlanner(identities: [Self.identity("E1"), Self.identity("E1", "family_name"), Self.identity("E2")])
        #expect(planner.nextRound() == [0, 1, 2])
        #expect(planner.isDone)
    }

    @Test func anAspectNamedTwiceTakesTwoRoundsInOrder() {
        var planner = RoundPlanner(identities: [Self.identity("E1"), Self.identity("E2"), Self.identity("E1"), Self.identity("E1")])
        #expect(planner.nextRound() == [0, 1])
        #expect(planner.nextRound() == [2])
        #expect(planner.nextRound() == [3])
        #expect(planner.isDone)
    }

    @Test func twoKeysOfOneRecordAreSeparatedOnceResolved() {
        // hr's E1 and payroll's P1 are one person; C is hr's E1 again, later.
        let one = UUID()
        var planner = RoundPlanner(identities: [
            Self.identity("E1"), Self.identity("P1", source: "payroll"), Self.identity("E1"), Self.identity("E9"),
        ])
        let first = planner.nextRound()
        #expect(first == [0, 1, 3])
        #expect(planner.settle(first, aspects: [0: Self.aspect(one), 1: Self.aspect(one), 3: Self.aspect(UUID())]) == [0, 3])
        // P1 waited one round; it comes before hr's second E1 in processing order.
        let second = planner.nextRound()
        #expect(second == [1, 2])
        #expect(planner.settle(second, aspects: [1: Self.aspect(one), 2: Self.aspect(one)]) == [1])
        #expect(planner.nextRound() == [2])
        #expect(planner.isDone)
    }

    @Test func unresolvedItemsAreNeverHeldBack() {
        var planner = RoundPlanner(identities: [Self.identity("E1"), Self.identity("E2")])
        let round = planner.nextRound()
        #expect(planner.settle(round, aspects: [:]) == [0, 1])
        #expect(planner.isDone)
    }
}
