import Foundation

/// The governance decision for one item (SPEC §2 step 4), before anything is
/// written.
public enum GovernanceDecision: Sendable, Equatable {
    /// A later entry from the same source already exists.
    case skipOutOfOrder(latest: Date)
    /// The target already holds this value; `refreshOwner` when this source owns
    /// it, so its `confirmed_at` is refreshed.
    case skipUnchanged(refreshOwner: Bool)
    /// Recorded as a `Pending` ledger entry, not applied.
    case hold(HoldReason)
    /// Written now; `certify` when the policy auto-certifies.
    case apply(certify: Bool)
}

/// Why a value was held for a steward.
public enum HoldReason: Sendable, Equatable, CustomStringConvertible {
    case outranked(owner: String)
    case lowConfidence(confidence: Double, minimum: Double)
    case certificationRequired

    public var description: String {
        switch self {
        case .outranked(let owner):
            "held: the current value from \(Quote.short(owner)) outranks this source and is not stale"
        case .lowConfidence(let confidence, let minimum):
            "held: mapping confidence \(confidence) is below the policy minimum \(minimum)"
        case .certificationRequired:
            "held: the policy is OnCertify; a steward must certify the value"
        }
    }
}

/// The governance rules, applied in the order of SPEC §2 step 4: out of order,
/// unchanged, authority, confidence, commit mode.
public enum Governor {
    /// Decides what happens to a value.
    ///
    /// - Parameters:
    ///   - value: the canonical new value (`nil` clears).
    ///   - confidence: the value map's confidence for it (1 without a code list).
    ///   - source: the item's source system.
    ///   - sourceTimestamp: when the source changed the value, if it said.
    ///   - state: the aspect as it stands.
    ///   - policy: the field's (or record's) commit policy.
    ///   - now: the database's clock for this chunk.
    public static func decide(
        value: String?, confidence: Double, source: String, sourceTimestamp: Date?,
        state: AspectState, policy: CommitPolicy, now: Date
    ) -> GovernanceDecision {
        if let timestamp = sourceTimestamp, let latest = state.latestSourceTimestamp, latest > timestamp {
            return .skipOutOfOrder(latest: latest)
        }
        if value == state.currentValue {
            return .skipUnchanged(refreshOwner: state.owner?.source == source)
        }
        if let owner = state.owner, owner.source != source,
            Authority.outranks(owner.source, source, in: policy.authoritativeSources),
            !Staleness.isStale(confirmedAt: owner.confirmedAt, staleAfterDays: policy.staleAfterDays, now: now)
        {
            return .hold(.outranked(owner: owner.source))
        }
        if let minimum = policy.minConfidence, confidence < minimum {
            return .hold(.lowConfidence(confidence: confidence, minimum: minimum))
        }
        switch policy.commitMode {
        case .onCertify: return .hold(.certificationRequired)
        case .onIngest: return .apply(certify: policy.autoCertify)
        }
    }
}
