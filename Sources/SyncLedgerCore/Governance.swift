import Foundation

/// The governance decision for one item (SPEC §2 step 4), before anything is
/// written.
public enum GovernanceDecision: Sendable, Equatable {
    /// The same source already said something newer about this aspect.
    case skipOutOfOrder(NewerStatement)
    /// The target already holds this value; `refreshOwner` when this source
    /// owns it, so its staleness clock (`confirmed_at`) is refreshed.
    case skipUnchanged(refreshOwner: Bool)
    /// The value would be held, and the same source's held entry for this
    /// aspect already proposes it: that entry is refreshed instead of adding
    /// another.
    case skipHeldDuplicate(HeldEntry)
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

/// One item's value and provenance, as governance sees it.
public struct Statement: Sendable, Equatable {
    /// The canonical new value of the column (`nil` clears).
    public var value: String?
    /// The value as the ledger records it (the same, except for the record
    /// aspect, where the ledger says `deleted` for an active column `false`).
    public var ledgerValue: String?
    /// Whether it equals the aspect's current value, compared on the column's
    /// type (PostgreSQL's answer for the value as loaded).
    public var equalsCurrent: Bool
    /// The value map's confidence for it (1 without a code list).
    public var confidence: Double
    public var source: String
    /// When the source changed the value, if it said.
    public var timestamp: Date?
    public var position: SubmissionPosition

    public init(
        value: String?, ledgerValue: String?? = nil, equalsCurrent: Bool, confidence: Double = 1, source: String,
        timestamp: Date? = nil, position: SubmissionPosition
    ) {
        self.value = value
        self.ledgerValue = ledgerValue ?? value
        self.equalsCurrent = equalsCurrent
        self.confidence = confidence
        self.source = source
        self.timestamp = timestamp
        self.position = position
    }
}

/// The governance rules, applied in the order of SPEC §2 step 4: out of order,
/// unchanged, authority, confidence, commit mode; a value that would be held
/// again while the same source's identical entry waits folds into it.
public enum Governor {
    /// Decides what happens to a statement about an aspect in `state` under `policy`.
    public static func decide(_ statement: Statement, state: AspectState, policy: CommitPolicy) -> GovernanceDecision {
        let source = statement.source
        if let newer = state.marks[source]?.newer(than: statement.timestamp, at: statement.position) {
            return .skipOutOfOrder(newer)
        }
        if statement.equalsCurrent {
            return .skipUnchanged(refreshOwner: state.owner?.source == source)
        }
        let reason: HoldReason
        if let owner = state.owner, owner.source != source, !owner.isStale,
            Authority.outranks(owner.source, source, in: policy.authoritativeSources)
        {
            reason = .outranked(owner: owner.source)
        } else if let minimum = policy.minConfidence, statement.confidence < minimum {
            reason = .lowConfidence(confidence: statement.confidence, minimum: minimum)
        } else if policy.commitMode == .onCertify {
            reason = .certificationRequired
        } else {
            return .apply(certify: policy.autoCertify)
        }
        // It would wait for a steward: if the same source's entry already
        // waits with this value, that one is refreshed instead.
        if let held = state.held[source]?.first(where: { $0.value == statement.ledgerValue }) {
            return .skipHeldDuplicate(held)
        }
        return .hold(reason)
    }
}
