import Foundation
import Testing

@testable import SyncLedgerCore

/// The governance rules of SPEC §2 step 4, decided for one value.
@Suite("Governor")
struct GovernorTests {
    static let now = Fixtures.now
    static let day = Fixtures.day

    /// OnIngest, auto-certified, hr before payroll, stale after 30 days.
    static let policy = CommitPolicy(
        targetTable: Fixtures.person, fieldName: "given_name", commitMode: .onIngest,
        authoritativeSources: ["hr", "payroll"], autoCertify: true, staleAfterDays: 30)

    static func owner(_ source: String, confirmedDaysAgo days: Double = 1, ledgerID: Int64? = 10) -> ValueOwner {
        ValueOwner(source: source, ledgerID: ledgerID, confirmedAt: now - days * day)
    }

    static func decide(
        value: String? = "Anne", confidence: Double = 1, source: String = "payroll", timestamp: Date? = nil,
        state: AspectState = AspectState(currentValue: "Ann"), policy: CommitPolicy = GovernorTests.policy
    ) -> GovernanceDecision {
        Governor.decide(
            value: value, confidence: confidence, source: source, sourceTimestamp: timestamp, state: state,
            policy: policy,
            now: now)
    }

    static let t0 = Date(timeIntervalSince1970: 1_700_000_000)

    // MARK: Out of order

    @Test func earlierTimestampThanTheLatestIsOutOfOrder() {
        let state = AspectState(currentValue: "Ann", latestSourceTimestamp: Self.t0)
        #expect(Self.decide(timestamp: Self.t0 - 1, state: state) == .skipOutOfOrder(latest: Self.t0))
    }

    @Test func equalTimestampIsNotOutOfOrder() {
        let state = AspectState(currentValue: "Ann", latestSourceTimestamp: Self.t0)
        #expect(Self.decide(timestamp: Self.t0, state: state) == .apply(certify: true))
    }

    @Test func laterTimestampIsNotOutOfOrder() {
        let state = AspectState(currentValue: "Ann", latestSourceTimestamp: Self.t0)
        #expect(Self.decide(timestamp: Self.t0 + 1, state: state) == .apply(certify: true))
    }

    @Test func itemWithoutTimestampIsNeverOutOfOrder() {
        let state = AspectState(currentValue: "Ann", latestSourceTimestamp: Self.t0)
        #expect(Self.decide(timestamp: nil, state: state) == .apply(certify: true))
    }

    @Test func firstTimestampForTheAspectIsNotOutOfOrder() {
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
        let state = AspectState(currentValue: "Ann", owner: Self.owner("hr", confirmedDaysAgo: 31))
        #expect(Self.decide(source: "payroll", state: state) == .apply(certify: true))
    }

    @Test func ownerExactlyStaleAfterDaysOldStillHolds() {
        let state = AspectState(currentValue: "Ann", owner: Self.owner("hr", confirmedDaysAgo: 30))
        #expect(Self.decide(source: "payroll", state: state) == .hold(.outranked(owner: "hr")))
    }

    @Test func ownerOneSecondPastStaleAfterDaysNoLongerHolds() {
        let owner = ValueOwner(source: "hr", ledgerID: 10, confirmedAt: Self.now - 30 * Self.day - 1)
        let state = AspectState(currentValue: "Ann", owner: owner)
        #expect(Self.decide(source: "payroll", state: state) == .apply(certify: true))
    }

    @Test func ownerNeverGoesStaleWithoutStaleAfterDays() {
        var policy = Self.policy
        policy.staleAfterDays = nil
        let state = AspectState(currentValue: "Ann", owner: Self.owner("hr", confirmedDaysAgo: 3650))
        #expect(Self.decide(source: "payroll", state: state, policy: policy) == .hold(.outranked(owner: "hr")))
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
        let state = AspectState(currentValue: "Ann", owner: Self.owner("payroll"), latestSourceTimestamp: Self.t0)
        #expect(Self.decide(value: "Ann", timestamp: Self.t0 - 1, state: state) == .skipOutOfOrder(latest: Self.t0))
    }

    @Test func outOfOrderBeforeAuthority() {
        let state = AspectState(currentValue: "Ann", owner: Self.owner("hr"), latestSourceTimestamp: Self.t0)
        #expect(
            Self.decide(source: "payroll", timestamp: Self.t0 - 1, state: state) == .skipOutOfOrder(latest: Self.t0))
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

    // MARK: Hold messages

    @Test func holdReasonsExplainThemselves() {
        #expect(HoldReason.outranked(owner: "hr").description.contains("'hr' outranks this source and is not stale"))
        #expect(
            HoldReason.lowConfidence(confidence: 0.5, minimum: 0.8).description
                .contains("mapping confidence 0.5 is below the policy minimum 0.8"))
        #expect(HoldReason.certificationRequired.description.contains("OnCertify; a steward must certify"))
    }
}
