import Foundation
import Testing

@testable import SyncLedgerCore

/// The governance rules of SPEC §2 step 4, decided for one value.
@Suite("Governor")
struct GovernorTests {
    /// OnIngest, auto-certified, hr before payroll, stale after 30 days.
    static let policy = CommitPolicy(
        targetTable: Fixtures.person, fieldName: "given_name", commitMode: .onIngest,
        authoritativeSources: ["hr", "payroll"], autoCertify: true, staleAfterDays: 30)

    static func owner(_ source: String, stale: Bool = false, ledgerID: Int64 = 10) -> ValueOwner {
        ValueOwner(source: source, ledgerID: ledgerID, isStale: stale)
    }

    /// A statement from payroll (submission 10, seq 5) about an aspect the
    /// database described in `facts`.
    static func decide(
        confidence: Double = 1, source: String = "payroll", timestamp: Date? = nil, position: SubmissionPosition = GovernorTests.here,
        facts: AspectFacts = GovernorTests.facts(), policy: CommitPolicy = GovernorTests.policy
    ) -> GovernanceDecision {
        Governor.decide(
            Statement(source: source, confidence: confidence, timestamp: timestamp, position: position), facts: facts, policy: policy)
    }

    /// What the database would say: equal to the current value or not, its
    /// owner, this source's held duplicate and marks.
    static func facts(
        equal: Bool = false, owner: ValueOwner? = nil, held: Int64? = nil, marks: SourceOrderMarks = SourceOrderMarks()
    ) -> AspectFacts {
        AspectFacts(targetID: UUID(), equalsCurrent: equal, owner: owner, heldDuplicate: held, marks: marks)
    }

    static let t0 = Date(timeIntervalSince1970: 1_700_000_000)
    static let here = SubmissionPosition(submit: 10, seq: 5)
    static let before = SubmissionPosition(submit: 10, seq: 4)
    static let after = SubmissionPosition(submit: 11, seq: 1)

    static func marked(_ marks: SourceOrderMarks) -> AspectFacts { facts(marks: marks) }

    // MARK: Out of order

    @Test func earlierTimestampThanTheLatestIsOutOfOrder() {
        let state = Self.marked(SourceOrderMarks(latestTimestamp: Self.t0, latestTimestampPosition: Self.before, latest: Self.before))
        #expect(Self.decide(timestamp: Self.t0 - 1, facts: state) == .skipOutOfOrder(.timestamp(Self.t0)))
    }

    @Test func equalTimestampFallsBackToTheSubmissionOrder() {
        let earlier = Self.marked(SourceOrderMarks(latestTimestamp: Self.t0, latestTimestampPosition: Self.before, latest: Self.before))
        #expect(Self.decide(timestamp: Self.t0, facts: earlier) == .apply)
        let later = Self.marked(SourceOrderMarks(latestTimestamp: Self.t0, latestTimestampPosition: Self.after, latest: Self.after))
        #expect(Self.decide(timestamp: Self.t0, facts: later) == .skipOutOfOrder(.position(Self.after)))
    }

    @Test func laterTimestampWinsOverALaterSubmission() {
        // Both carry timestamps: the timestamp decides, not the submission.
        let state = Self.marked(SourceOrderMarks(latestTimestamp: Self.t0, latestTimestampPosition: Self.after, latest: Self.after))
        #expect(Self.decide(timestamp: Self.t0 + 1, facts: state) == .apply)
    }

    @Test func withoutTimestampsTheLaterSubmissionWins() {
        let state = Self.marked(SourceOrderMarks(latest: Self.after, latestWithoutTimestamp: Self.after))
        #expect(Self.decide(timestamp: nil, facts: state) == .skipOutOfOrder(.position(Self.after)))
        let older = Self.marked(SourceOrderMarks(latest: Self.before, latestWithoutTimestamp: Self.before))
        #expect(Self.decide(timestamp: nil, facts: older) == .apply)
    }

    @Test func aStatementWithoutTimestampIsComparedByPositionWithTimedOnes() {
        // A later timed statement is newer than an untimed one...
        let timedLater = Self.marked(SourceOrderMarks(latestTimestamp: Self.t0, latestTimestampPosition: Self.after, latest: Self.after))
        #expect(Self.decide(timestamp: nil, facts: timedLater) == .skipOutOfOrder(.position(Self.after)))
        // ... and a later untimed statement is newer than a timed one, whatever its timestamp.
        let untimedLater = Self.marked(SourceOrderMarks(latest: Self.after, latestWithoutTimestamp: Self.after))
        #expect(Self.decide(timestamp: Self.t0 + 100, facts: untimedLater) == .skipOutOfOrder(.position(Self.after)))
    }

    @Test func firstStatementForTheAspectIsNotOutOfOrder() {
        #expect(Self.decide(timestamp: Self.t0) == .apply)
    }

    // MARK: Unchanged

    @Test func equalToTheCurrentValueIsUnchanged() {
        #expect(Self.decide(facts: Self.facts(equal: true)) == .skipUnchanged(confirm: nil))
    }

    @Test func unchangedConfirmsTheOwnerOnlyWhenThisSourceOwnsIt() {
        #expect(Self.decide(source: "payroll", facts: Self.facts(equal: true, owner: Self.owner("payroll", ledgerID: 42)))
            == .skipUnchanged(confirm: 42))
        #expect(Self.decide(source: "payroll", facts: Self.facts(equal: true, owner: Self.owner("hr"))) == .skipUnchanged(confirm: nil))
    }

    @Test func equalityIsWhatTheDatabaseSaysNotTheText() {
        // 1.0 and 1.00 differ as text but are equal numerics: the database
        // compares on the column's type and says so; the core never looks
        // at the values.
        #expect(Self.decide(facts: Self.facts(equal: true)) == .skipUnchanged(confirm: nil))
        #expect(Self.decide(facts: Self.facts(equal: false)) == .apply)
    }

    // MARK: Authority

    @Test func higherPrecedenceFreshOwnerHoldsTheValue() {
        let state = Self.facts(owner: Self.owner("hr"))
        #expect(Self.decide(source: "payroll", facts: state) == .hold(.outranked(owner: "hr")))
    }

    @Test func lowerPrecedenceOwnerDoesNotHold() {
        let state = Self.facts(owner: Self.owner("payroll"))
        #expect(Self.decide(source: "hr", facts: state) == .apply)
    }

    @Test func sameSourceMayChangeItsOwnValue() {
        let state = Self.facts(owner: Self.owner("hr"))
        #expect(Self.decide(source: "hr", facts: state) == .apply)
    }

    @Test func noOwnerNoHold() {
        #expect(Self.decide(source: "crm") == .apply)
    }

    @Test func unlistedChallengerIsHeldByAnyListedOwner() {
        let state = Self.facts(owner: Self.owner("payroll"))
        #expect(Self.decide(source: "crm", facts: state) == .hold(.outranked(owner: "payroll")))
    }

    @Test func unlistedOwnerDoesNotHoldAListedChallenger() {
        let state = Self.facts(owner: Self.owner("crm"))
        #expect(Self.decide(source: "payroll", facts: state) == .apply)
    }

    @Test func twoUnlistedSourcesAreEqual() {
        let state = Self.facts(owner: Self.owner("crm"))
        #expect(Self.decide(source: "legacy", facts: state) == .apply)
    }

    @Test func emptyAuthorityListMakesAllSourcesEqual() {
        var policy = Self.policy
        policy.authoritativeSources = []
        let state = Self.facts(owner: Self.owner("hr"))
        #expect(Self.decide(source: "payroll", facts: state, policy: policy) == .apply)
    }

    @Test func staleOwnerDoesNotHold() {
        let state = Self.facts(owner: Self.owner("hr", stale: true))
        #expect(Self.decide(source: "payroll", facts: state) == .apply)
    }

    // MARK: Confidence

    @Test func confidenceExactlyAtTheMinimumIsNotHeld() {
        var policy = Self.policy
        policy.minConfidence = 0.8
        #expect(Self.decide(confidence: 0.8, policy: policy) == .apply)
    }

    @Test func confidenceJustBelowTheMinimumIsHeld() {
        var policy = Self.policy
        policy.minConfidence = 0.8
        #expect(Self.decide(confidence: 0.79, policy: policy) == .hold(.lowConfidence(confidence: 0.79, minimum: 0.8)))
    }

    @Test func noMinimumAcceptsAnyConfidence() {
        #expect(Self.decide(confidence: 0, policy: Self.policy) == .apply)
    }

    // MARK: Commit mode

    @Test func onCertifyHolds() {
        var policy = Self.policy
        policy.commitMode = .onCertify
        #expect(Self.decide(policy: policy) == .hold(.certificationRequired))
    }

    @Test func onCertifyHoldsEvenWithAutoCertify() {
        var policy = Self.policy
        policy.commitMode = .onCertify
        policy.autoCertify = true
        #expect(Self.decide(policy: policy) == .hold(.certificationRequired))
    }

    @Test("OnIngest applies, with or without auto_certify (the database certifies by the policy)", arguments: [true, false])
    func onIngestApplies(autoCertify: Bool) {
        var policy = Self.policy
        policy.autoCertify = autoCertify
        #expect(Self.decide(policy: policy) == .apply)
    }

    // MARK: Precedence of the rules

    @Test func outOfOrderBeforeUnchanged() {
        var state = Self.marked(SourceOrderMarks(latestTimestamp: Self.t0, latestTimestampPosition: Self.before, latest: Self.before))
        state.owner = Self.owner("payroll")
        state.equalsCurrent = true
        #expect(Self.decide(timestamp: Self.t0 - 1, facts: state) == .skipOutOfOrder(.timestamp(Self.t0)))
    }

    @Test func outOfOrderBeforeAuthority() {
        var state = Self.marked(SourceOrderMarks(latestTimestamp: Self.t0, latestTimestampPosition: Self.before, latest: Self.before))
        state.owner = Self.owner("hr")
        #expect(
            Self.decide(source: "payroll", timestamp: Self.t0 - 1, facts: state) == .skipOutOfOrder(.timestamp(Self.t0)))
    }

    @Test func unchangedBeforeAuthority() {
        let state = Self.facts(equal: true, owner: Self.owner("hr"))
        #expect(Self.decide(source: "payroll", facts: state) == .skipUnchanged(confirm: nil))
    }

    @Test func unchangedBeforeConfidence() {
        var policy = Self.policy
        policy.minConfidence = 0.8
        #expect(
            Self.decide(confidence: 0.1, facts: Self.facts(equal: true), policy: policy) == .skipUnchanged(confirm: nil))
    }

    @Test func unchangedBeforeCommitMode() {
        var policy = Self.policy
        policy.commitMode = .onCertify
        #expect(
            Self.decide(facts: Self.facts(equal: true), policy: policy) == .skipUnchanged(confirm: nil))
    }

    @Test func authorityBeforeConfidence() {
        var policy = Self.policy
        policy.minConfidence = 0.8
        let state = Self.facts(owner: Self.owner("hr"))
        #expect(
            Self.decide(confidence: 0.1, source: "payroll", facts: state, policy: policy)
                == .hold(.outranked(owner: "hr")))
    }

    @Test func authorityBeforeCommitMode() {
        var policy = Self.policy
        policy.commitMode = .onCertify
        let state = Self.facts(owner: Self.owner("hr"))
        #expect(Self.decide(source: "payroll", facts: state, policy: policy) == .hold(.outranked(owner: "hr")))
    }

    @Test func confidenceBeforeCommitMode() {
        var policy = Self.policy
        policy.commitMode = .onCertify
        policy.minConfidence = 0.8
        #expect(Self.decide(confidence: 0.5, policy: policy) == .hold(.lowConfidence(confidence: 0.5, minimum: 0.8)))
    }

    // MARK: Held duplicates

    @Test func aValueTheSameSourceAlreadyHoldsFoldsIntoThatEntry() {
        let state = Self.facts(owner: Self.owner("hr"), held: 77)
        #expect(Self.decide(source: "payroll", facts: state) == .skipHeldDuplicate(77))
    }

    @Test func withoutAnEqualHeldEntryTheValueIsHeld() {
        #expect(Self.decide(source: "payroll", facts: Self.facts(owner: Self.owner("hr"))) == .hold(.outranked(owner: "hr")))
    }

    @Test func aHeldValueThatWouldNowApplyIsAppliedNotFolded() {
        // The owner went stale: the re-sent value is no longer outranked.
        let state = Self.facts(owner: Self.owner("hr", stale: true), held: 77)
        #expect(Self.decide(source: "payroll", facts: state) == .apply)
    }

    @Test func unchangedBeforeHeldDuplicate() {
        #expect(Self.decide(facts: Self.facts(equal: true, held: 77)) == .skipUnchanged(confirm: nil))
    }

    // MARK: Hold messages

    @Test func holdReasonsExplainThemselves() {
        #expect(HoldReason.outranked(owner: "hr").description.contains("'hr' outranks this source and is not stale"))
        #expect(
            HoldReason.lowConfidence(confidence: 0.5, minimum: 0.8).description
                .contains("mapping confidence 0.5 is below the policy minimum 0.8"))
        #expect(HoldReason.certificationRequired.description.contains("OnCertify; a steward must certify"))
        #expect([HoldReason.outranked(owner: "hr"), .lowConfidence(confidence: 0.5, minimum: 0.8), .certificationRequired].map(\.code)
            == ["authority", "confidence", "on_certify"])
    }
}
