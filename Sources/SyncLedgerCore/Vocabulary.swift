/// The enumerations of the schema contract (SPEC §1). Raw values are exactly the
/// strings stored in PostgreSQL, where CHECK constraints enforce the same sets.

/// What an inbound item asks for.
public enum Operation: String, Sendable, CaseIterable {
    /// Set a field to `new_value` (NULL clears it).
    case set = "Set"
    /// Set a foreign-key column to the record that `new_value` names by external key.
    case link = "Link"
    /// Clear the table's active column (a soft delete).
    case delete = "Delete"
}

/// The result of processing one item.
public enum ItemStatus: String, Sendable, CaseIterable {
    case pending = "Pending"
    case applied = "Applied"
    case held = "Held"
    case skipped = "Skipped"
    case failed = "Failed"
}

/// The certification state of a ledger entry.
public enum LedgerStatus: String, Sendable, CaseIterable {
    case pending = "Pending"
    case certified = "Certified"
    case rejected = "Rejected"
    case revoked = "Revoked"
}

/// What a ledger entry governs: one field, the record itself, or a relationship.
public enum LedgerAspect: String, Sendable, CaseIterable {
    case field = "Field"
    case record = "Record"
    case relationship = "Relationship"

    /// The `aspect_key` used for the record aspect.
    public static let recordAspectKey = "record"
}

/// When a governed value reaches the target.
public enum CommitMode: String, Sendable, CaseIterable {
    /// Written as soon as the item is processed.
    case onIngest = "OnIngest"
    /// Held until a steward certifies it.
    case onCertify = "OnCertify"
}

/// The lifecycle of a sync job.
public enum JobStatus: String, Sendable, CaseIterable {
    case draft = "Draft"
    case submitted = "Submitted"
    case processing = "Processing"
    case completed = "Completed"
    case completedWithErrors = "CompletedWithErrors"
    case failed = "Failed"
    case cancelled = "Cancelled"
}
