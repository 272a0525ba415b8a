import Foundation

/// One row of `integration.sync_item` as the worker loads it, with the job
/// fields it inherits.
public struct InboundItem: Sendable, Equatable {
    public var itemID: Int64
    public var jobID: Int64
    /// The job's place in submission order and the item's `seq`.
    public var position: SubmissionPosition
    public var sourceSystem: String
    /// `sync_item.target_table`, or the job's `entity_type` when that is NULL.
    public var targetTable: String?
    public var externalKey: String?
    /// The raw `operation` text; validated by ``ItemPreparer``.
    public var operation: String
    public var fieldName: String?
    public var newValue: String?
    public var sourceTimestamp: Date?
    /// Optional hint: link a new external key to this existing record.
    public var targetIDHint: UUID?

    public init(
        itemID: Int64, jobID: Int64 = 1, position: SubmissionPosition? = nil, sourceSystem: String, targetTable: String?,
        externalKey: String?, operation: String = Operation.set.rawValue, fieldName: String? = nil, newValue: String? = nil,
        sourceTimestamp: Date? = nil, targetIDHint: UUID? = nil
    ) {
        self.itemID = itemID
        self.jobID = jobID
        self.position = position ?? SubmissionPosition(submit: jobID, seq: itemID)
        self.sourceSystem = sourceSystem
        self.targetTable = targetTable
        self.externalKey = externalKey
        self.operation = operation
        self.fieldName = fieldName
        self.newValue = newValue
        self.sourceTimestamp = sourceTimestamp
        self.targetIDHint = targetIDHint
    }

    /// The `seq` within its job.
    public var seq: Int64 { position.seq }
}
