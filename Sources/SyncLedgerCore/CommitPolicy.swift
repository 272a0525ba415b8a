/// A row of `integration.commit_policy`: the governance rule for one field of a
/// target table, or for the record itself when `fieldName` is `nil`.
public struct CommitPolicy: Sendable, Equatable {
    public var targetTable: String
    /// `nil` = the record-level policy (creation, deletion).
    public var fieldName: String?
    public var commitMode: CommitMode
    /// Highest precedence first; empty means every source is equal.
    public var authoritativeSources: [String]
    public var autoCertify: Bool
    public var staleAfterDays: Int?
    public var codeList: String?
    public var minConfidence: Double?

    public init(
        targetTable: String, fieldName: String?, commitMode: CommitMode = .onIngest,
        authoritativeSources: [String] = [], autoCertify: Bool = false, staleAfterDays: Int? = nil,
        codeList: String? = nil, minConfidence: Double? = nil
    ) {
        self.targetTable = targetTable
        self.fieldName = fieldName
        self.commitMode = commitMode
        self.authoritativeSources = authoritativeSources
        self.autoCertify = autoCertify
        self.staleAfterDays = staleAfterDays
        self.codeList = codeList
        self.minConfidence = minConfidence
    }
}

/// All commit policies, looked up by table and field.
public struct PolicyBook: Sendable {
    private struct Key: Hashable {
        var table: String
        var field: String?
    }

    private var policies: [Key: CommitPolicy]

    public init(_ policies: [CommitPolicy] = []) {
        self.policies = Dictionary(
            policies.map { (Key(table: $0.targetTable, field: $0.fieldName), $0) },
            uniquingKeysWith: { _, last in last })
    }

    /// The policy governing `table.field`, if any.
    public func fieldPolicy(table: String, field: String) -> CommitPolicy? {
        policies[Key(table: table, field: field)]
    }

    /// The record-level policy of `table` (creation and deletion), if any.
    public func recordPolicy(table: String) -> CommitPolicy? {
        policies[Key(table: table, field: nil)]
    }
}
