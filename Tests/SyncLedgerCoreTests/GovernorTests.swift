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

    static func owner(_ source: String, stale: Bool = false, ledgerID: Int64? = 10) -> ValueOwner {
        ValueOwner(source: source, ledgerID: ledgerID, isStale: stale)
    }

    /// A statement from payroll (submission 10, seq 5), compared with the
    /// current value as PostgreSQL would compare canonical text.
    static func decide(
        value: String? = "Anne", confidence: Double = 1, source: String = "payroll", timestamp: Date? = nil,
        position: SubmissionPosition = GovernorTests.here,
        state: AspectState = AspectState(currentValue: "Ann"), policy: CommitPolicy = GovernorTests.policy
    ) -> GovernanceDecision {
        Governor.decide(
            Statement(
                value: value, equalsCurrent: value == state.currentValue, confidence: confidence, source: source,
                timestamp: timestamp, position: position),
            state: state, policy: policy)
    }

    static let t0 = Date(timeIntervalSince1970: 1_700_000_000)
    static let here = SubmissionPosition(submit: 10, seq: 5)
    static let before = SubmissionPosition(submit: 10, seq: 4)
    static let after = SubmissionPosition(submit: 11, seq: 1)

    static func marked(_ marks: SourceOrderMarks, for source: String = "payroll") -> AspectState {
        AspectState(currentValue: "Ann", marks: [source: marks])
    }

    // MARK: Out of order

    @Test func earlierTimestampThanTheLatestIsOutOfOrder() {
        let state = Self.marked(SourceOrderMarks(latestTimestamp: Self.t0, latestTimestampPosition: Self.before, latest: Self.before))
        #expect(Self.decide(timestamp: Self.t0 - 1, state: state) == .skipOutOfOrder(.timestamp(Self.t0)))
    }

    @Test func equalTimestampFallsBackToTheSubmissionOrder() {
        let earlier = Self.marked(SourceOrderMarks(latestTimestamp: Self.t0, latestTimestampPosition: Self.before, latest: Self.before))
        #expect(Self.decide(timestamp: Self.t0, state: earlier) == .apply(certify: true))
        let later = Self.marked(SourceOrderMarks(latestTimestamp: Self.t0, latestTimestampPosition: Self.after, latest: Self.after))
        #expect(Self.decide(timestamp: Self.t0, state: later) == .skipOutOfOrder(.position(Self.after)))
    }

    @Test func laterTimestampWinsOverALaterSubmission() {
        // Both carry timestamps: the timestamp decides, not the submission.
        let state = Self.marked(SourceOrderMarks(latestTimestamp: Self.t0, latestTimestampPosition: Self.after, latest: Self.after))
        #expect(Self.decide(timestamp: Self.t0 + 1, state: state) == .apply(certify: true))
    }

    @Test func withoutTimestampsTheLaterSubmissionWins() {
        let state = Self.marked(SourceOrderMarks(latest: Self.after, latestWithoutTimestamp: Self.after))
        #expect(Self.decide(timestamp: nil, state: state) == .skipOutOfOrder(.position(Self.after)))
        let older = Self.marked(SourceOrderMarks(latest: Self.before, latestWithoutTimestamp: Self.before))
        #expect(Self.decide(timestamp: nil, state: older) == .apply(certify: true))
    }

    @Test func aStatementWithoutTimestampIsComparedByPositionWithTimedOnes() {
        // A later timed statement is newer than an untimed one...
        let timedLater = Self.marked(SourceOrderMarks(latestTimestamp: Self.t0, latestTimestampPosition: Self.after, latest: Self.after))
        #expect(Self.decide(timestamp: nil, state: timedLater) == .skipOutOfOrder(.position(Self.after)))
        // ... and a later untimed statement is newer than a timed one, whatever its timestamp.
        let untimedLater = Self.marked(SourceOrderMarks(latest: Self.after, latestWithoutTimestamp: Self.after))
        #expect(Self.decide(timestamp: Self.t0 + 100, state: untimedLater) == .skipOutOfOrder(.position(Self.after)))
    }

    @Test func anotherSourcesStatementsDoNotCount() {
        let state = Self.marked(SourceOrderMarks(latest: Self.after, latestWithoutTimestamp: Self.after), for: "hr")
        #expect(Self.decide(source: "payroll", state: state) == .apply(certify: true))
    }

    @Test func firstStatementForTheAspectIsNotOutOfOrder() {
        #expect(Self.decide(timestamp: Self.t0, state: AspectState(currentValue: "Ann")) == .apply(certify: true))
    }

    // MARK: Unchanged

    @Test func sameValueIsUnchanged() {
        #expect(
            Self.decide(value: "Ann", state: AspectState(currentValue: "Ann")) == .skipUnchanged(refreshOwner: false))
    }

    @Test func unchangedRefreshesTheOwnerOnlyWhenThisSourceOwnsIt() {
        let ownedByPayroll = AspectState(currentValue: "Ann", owner: Self.owner("payroll"))
        #expect(
            Self.decide(value: "Ann", source: "payroll", state: ownedByPayroll) == .skipUnchanged(refreshOwner: true))
        let ownedByHR = AspectState(currentValue: "Ann", owner: Self.owner("hr"))
        #expect(Self.decide(value: "Ann", source: "payroll", state: ownedByHR) == .skipUnchanged(refreshOwner: false))
    }

    @Test func comparisonIsExact() {
        #expect(Self.decide(value: "ann", state: AspectState(currentValue: "Ann")) == .apply(certify: true))
        #expect(Self.decide(value: "Ann ", state: AspectState(currentValue: "Ann")) == .apply(certify: true))
    }

    // MARK: NULL values

    @Test func nullClearsAField() {
        #expect(Self.decide(value: nil, state: AspectState(currentValue: "Ann")) == .apply(certify: true))
    }

    @Test func nullOverNullIsUnchanged() {
        #expect(Self.decide(value: nil, state: AspectState(currentValue: nil)) == .skipUnchanged(refreshOwner: false))
    }

    @Test func valueOverNullIsAChange() {
        #expect(Self.decide(value: "Ann", state: AspectState(currentValue: nil)) == .apply(certify: true))
    }

    @Test func emptyStringIsNotNull() {
        #expect(Self.decide(value: "", state: AspectState(currentValue: nil)) == .apply(certify: true))
        #expect(Self.decide(value: nil, state: AspectState(currentValue: "")) == .apply(certify: true))
    }

    // MARK: Authority

    @Test func higherPrecedenceFreshOwnerHoldsTheValue() {
        let state = AspectState(currentValue: "Ann", owner: Self.owner("hr"))
        #expect(Self.decide(source: "payroll", state: state) == .hold(.outranked(owner: "hr")))
    }

    @Test func lowerPrecedenceOwnerDoesNotHold() {
        let state = AspectState(currentValue: "Ann", owner: Self.owner("payroll"))
        #expect(Self.decide(source: "hr", state: state) == .apply(certify: true))
    }

    @Test func sameSourceMayChangeItsOwnValue() {
        let state = AspectState(currentValue: "Ann", owner: Self.owner("hr"))
        #expect(Self.decide(source: "hr", state: state) == .apply(certify: true))
    }

    @Test func noOwnerNoHold() {
        #expect(Self.decide(source: "crm", state: AspectState(currentValue: "Ann")) == .apply(certify: true))
    }

    @Test func unlistedChallengerIsHeldByAnyListedOwner() {
        let state = AspectState(currentValue: "Ann", owner: Self.owner("payroll"))
        #expect(Self.decide(source: "crm", state: state) == .hold(.outranked(owner: "payroll")))
    }

    @Test func unlistedOwnerDoesNotHoldAListedChallenger() {
        let state = AspectState(currentValue: "Ann", owner: Self.owner("crm"))
        #expect(Self.decide(source: "payroll", state: state) == .apply(certify: true))
    }

    @Test func twoUnlistedSourcesAreEqual() {
        let state = AspectState(currentValue: "Ann", owner: Self.owner("crm"))
        #expect(Self.decide(source: "legacy", state: state) == .apply(certify: true))
    }

    @Test func emptyAuthorityListMakesAllSourcesEqual() {
        var policy = Self.policy
        policy.authoritativeSources = []
        let state = AspectState(currentValue: "Ann", owner: Self.owner("hr"))
        #expect(Self.decide(source: "payroll", state: state, policy: policy) == .apply(certify: true))
    }

    @Test func staleOwnerDoesNotHold() {
        let state = AspectState(currentValue: "Ann", owner: Self.owner("hr", stale: true))
        #expect(Self.decide(source: "payroll", state: state) == .apply(certify: true))
    }

    // MARK: Confidence

    @Test func confidenceExactlyAtTheMinimumIsNotHeld() {
        var policy = Self.policy
        policy.minConfidence = 0.8
        #expect(Self.decide(confidence: 0.8, policy: policy) == .apply(certify: true))
    }

    @Test func confidenceJustBelowTheMinimumIsHeld() {
        var policy = Self.policy
        policy.minConfidence = 0.8
        #expect(Self.decide(confidence: 0.79, policy: policy) == .hold(.lowConfidence(confidence: 0.79, minimum: 0.8)))
    }

    @Test func noMinimumAcceptsAnyConfidence() {
        #expect(Self.decide(confidence: 0, policy: Self.policy) == .apply(certify: true))
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

    @Test("OnIngest applies, certified only with auto_certify", arguments: [true, false])
    func onIngestApplies(autoCertify: Bool) {
        var policy = Self.policy
        policy.autoCertify = autoCertify
        #expect(Self.decide(policy: policy) == .apply(certify: autoCertify))
    }

    // MARK: Precedence of the rules

    @Test func outOfOrderBeforeUnchanged() {
        var state = Self.marked(SourceOrderMarks(latestTimestamp: Self.t0, latestTimestampPosition: Self.before, latest: Self.before))
        state.owner = Self.owner("payroll")
        #expect(Self.decide(value: "Ann", timestamp: Self.t0 - 1, state: state) == .skipOutOfOrder(.timestamp(Self.t0)))
    }

    @Test func outOfOrderBeforeAuthority() {
        var state = Self.marked(SourceOrderMarks(latestTimestamp: Self.t0, latestTimestampPosition: Self.before, latest: Self.before))
        state.owner = Self.owner("hr")
        #expect(
            Self.decide(source: "payroll", timestamp: Self.t0 - 1, state: state) == .skipOutOfOrder(.timestamp(Self.t0)))
    }

    @Test func unchangedBeforeAuthority() {
        let state = AspectState(currentValue: "Ann", owner: Self.owner("hr"))
        #expect(Self.decide(value: "Ann", source: "payroll", state: state) == .skipUnchanged(refreshOwner: false))
    }

    @Test func unchangedBeforeConfidence() {
        var policy = Self.policy
        policy.minConfidence = 0.8
        #expect(
            Self.decide(value: "Ann", confidence: 0.1, state: AspectState(currentValue: "Ann"), policy: policy)
                == .skipUnchanged(refreshOwner: false))
    }

    @Test func unchangedBeforeCommitMode() {
        var policy = Self.policy
        policy.commitMode = .onCertify
        #expect(
            Self.decide(value: "Ann", state: AspectState(currentValue: "Ann"), policy: policy)
                == .skipUnchanged(refreshOwner: false))
    }

    @Test func authorityBeforeConfidence() {
        var policy = Self.policy
        policy.minConfidence = 0.8
        let state = AspectState(currentValue: "Ann", owner: Self.owner("hr"))
        #expect(
            Self.decide(confidence: 0.1, source: "payroll", state: state, policy: policy)
                == .hold(.outranked(owner: "hr")))
    }

    @Test func authorityBeforeCommitMode() {
        var policy = Self.policy
        policy.commitMode = .onCertify
        let state = AspectState(currentValue: "Ann", owner: Self.owner("hr"))
        #expect(Self.decide(source: "payroll", state: state, policy: policy) == .hold(.outranked(owner: "hr")))
    }

    @Test func confidenceBeforeCommitMode() {
        var policy = Self.policy
        policy.commitMode = .onCertify
        policy.minConfidence = 0.8
        #expect(Self.decide(confidence: 0.5, policy: policy) == .hold(.lowConfidence(confidence: 0.5, minimum: 0.8)))
    }

    // MARK: Held duplicates

    @Test func aValueTheSameSourceAlreadyHoldsFoldsIntoThatEntry() {
        let held = HeldEntry(ledgerID: 77, value: "Anne")
        let state = AspectState(currentValue: "Ann", owner: Self.owner("hr"), held: ["payroll": [held]])
        #expect(Self.decide(value: "Anne", source: "payroll", state: state) == .skipHeldDuplicate(held))
    }

    @Test func anotherValueOrAnotherSourcesHeldEntryDoesNotFold() {
        let state = AspectState(
            currentValue: "Ann", owner: Self.owner("hr"), held: ["payroll": [HeldEntry(ledgerID: 77, value: "Annie")]])
        #expect(Self.decide(value: "Anne", source: "payroll", state: state) == .hold(.outranked(owner: "hr")))
        let others = AspectState(currentValue: "Ann", held: ["crm": [HeldEntry(ledgerID: 78, value: "Anne")]])
        #expect(Self.decide(value: "Anne", source: "payroll", state: others) == .apply(certify: true))
    }

    @Test func aHeldValueThatWouldNowApplyIsAppliedNotFolded() {
        // The owner went stale: the re-sent value is no longer outranked.
        let state = AspectState(
            currentValue: "Ann", owner: Self.owner("hr", stale: true), held: ["payroll": [HeldEntry(ledgerID: 77, value: "Anne")]])
        #expect(Self.decide(value: "Anne", source: "payroll", state: state) == .apply(certify: true))
    }

    @Test func unchangedBeforeHeldDuplicate() {
        let state = AspectState(currentValue: "Anne", held: ["payroll": [HeldEntry(ledgerID: 77, value: "Anne")]])
        #expect(Self.decide(value: "Anne", state: state) == .skipUnchanged(refreshOwner: false))
    }

    // MARK: Comparison on the column's type

    @Test func equalityIsWhatTheDatabaseSaysNotTheText() {
        // 1.0 and 1.00 differ as text but are equal numerics: the shell passes
        // PostgreSQL's comparison, and governance trusts it.
        let statement = Statement(value: "1.00", equalsCurrent: true, source: "payroll", position: Self.here)
        #expect(Governor.decide(statement, state: AspectState(currentValue: "1.0"), policy: Self.policy) == .skipUnchanged(refreshOwner: false))
    }

    // MARK: Hold messages

    @Test func holdReasonsExplainThemselves() {
        #expect(HoldReason.outranked(owner: "hr").description.contains("'hr' outranks this source and is not stale"))
        #expect(
            HoldReason.lowConfidence(confidence: 0.5, minimum: 0.8).description
                .contains("mapping confidence 0.5 is below the policy minimum 0.8"))
        #expect(HoldReason.certificationRequired.description.contains("OnCertify; a steward must certify"))
    }
}
