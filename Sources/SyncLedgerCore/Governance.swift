import Foundation

/// The governance decision for one item (SPEC §2 step 4), before anything is
/// written.
public enum GovernanceDecision: Sendable, Equatable {
    /// The same source already said something newer about this aspect.
    case skipOutOfOrder(NewerStatement)
    /// The target already holds this value. `confirm` is the owning entry
    /// whose staleness clock (`confirmed_at`) moves, when this source owns it.
    case skipUnchanged(confirm: Int64?)
    /// The value would be held, and this ledger entry of the same source
    /// already waits with it: that entry's clock moves instead of adding another.
    case skipHeldDuplicate(Int64)
    /// Recorded as a `Pending` ledger entry, not applied.
    case hold(HoldReason)
    /// Written now. Whether the entry is certified at once is the policy's
    /// `auto_certify`, which the database applies when it records the entry.
    case apply
}

/// Why a value waits for a steward.
public enum HoldReason: Sendable, Equatable, CustomStringConvertible {
    /// The current value comes from a source of higher precedence and is not stale.
    case outranked(owner: String)
    /// The value map's confidence is below the policy's minimum.
    case lowConfidence(confidence: Double, minimum: Double)
    /// The policy is OnCertify.
    case certificationRequired

    /// The code `integration.review_queue` shows (`hold_reason`).
    public var code: String {
        switch self {
        case .outranked: "authority"
        case .lowConfidence: "confidence"
        case .certificationRequired: "on_certify"
        }
    }

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

/// Who says what about an aspect, and when: the part of an item governance
/// weighs besides the database's facts.
public struct Statement: Sendable, Equatable {
    public var source: String
    /// The value map's confidence for the value (1 without a code list).
    public var confidence: Double
    /// When the source changed the value, if it said.
    public var timestamp: Date?
    public var position: SubmissionPosition

    public init(source: String, confidence: Double = 1, timestamp: Date? = nil, position: SubmissionPosition) {
        self.source = source
        self.confidence = confidence
        self.timestamp = timestamp
        self.position = position
    }
}

/// The governance rules, applied in the order of SPEC §2 step 4: out of
/// order, unchanged, authority, confidence, commit mode; a value that would
/// be held again while the same source's equal entry waits folds into it.
public enum Governor {
    /// Decides a statement about an aspect the database described in `facts`, under `policy`.
    public static func decide(_ statement: Statement, facts: AspectFacts, policy: CommitPolicy) -> GovernanceDecision {
        let source = statement.source
        if let newer = facts.marks.newer(than: statement.timestamp, at: statement.position) {
            return .skipOutOfOrder(newer)
        }
        if facts.equalsCurrent {
            return .skipUnchanged(confirm: facts.owner.flatMap { $0.source == source ? $0.ledgerID : nil })
        }
        let reason: HoldReason
        if let owner = facts.owner, owner.source != source, !owner.isStale,
            Authority.outranks(owner.source, source, in: policy.authoritativeSources)
        {
            reason = .outranked(owner: owner.source)
        } else if let minimum = policy.minConfidence, statement.confidence < minimum {
            reason = .lowConfidence(confidence: statement.confidence, minimum: minimum)
        } else if policy.commitMode == .onCertify {
            reason = .certificationRequired
        } else {
            return .apply
        }
        // It would wait for a steward: if the same source's entry already
        // waits with this value, that one is confirmed instead.
        if let held = facts.heldDuplicate { return .skipHeldDuplicate(held) }
        return .hold(reason)
    }
}
