import Foundation
import PostgresNIO
import SyncLedgerCore

/// The records that cross into `integration.prepare_chunk` and
/// `integration.apply_chunk`: JSON objects whose keys are the names the SQL
/// reads with `jsonb_to_recordset` (documented there), and the rows that come
/// back, read by column name.
enum ChunkJSON {
    static func encode<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .withoutEscapingSlashes
        return encoder
    }()
}

/// A time as PostgreSQL reads it back exactly: RFC 3339, to the microsecond.
struct Timestamp: Encodable, Sendable {
    var date: Date
    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(RFC3339Time.string(from: date))
    }
}

/// One item as `prepare_chunk` takes it.
struct PrepareRecord: Encodable, Sendable {
    var n: Int
    var source: String
    var table: String
    var key: String
    var hint: UUID?
    var creates: Bool
    var relatedTable: String?
    var relatedKey: String?
    var column: String
    var aspect: String
    var aspectKey: String
    var value: String?

    enum CodingKeys: String, CodingKey {
        case n, source, table, key, hint, creates, column, aspect, value
        case relatedTable = "related_table", relatedKey = "related_key", aspectKey = "aspect_key"
    }

    init(n: Int, item: PreparedItem) {
        self.n = n
        source = item.source
        table = item.table
        key = item.externalKey
        hint = item.targetIDHint
        creates = item.createsRecord
        if case .link(_, let relatedTable, let relatedKey?) = item.change {
            self.relatedTable = relatedTable
            self.relatedKey = relatedKey
        }
        column = item.column
        aspect = item.aspect.rawValue
        aspectKey = item.aspectKey
        value = item.proposedValue
    }
}

/// One row of `prepare_chunk`: the facts of one item's aspect.
struct PreparedRow: Sendable {
    var n: Int32
    var targetID: UUID?
    var created: Bool
    var relatedID: UUID?
    var relatedCreated: Bool
    /// In the ledger's form.
    var value: String?
    var currentValue: String?
    var facts: AspectFacts

    init(_ row: PostgresRow) throws {
        let c = row.makeRandomAccess()
        n = try c["n"].decode(Int32.self)
        targetID = try c["target_id"].decode(UUID?.self)
        created = try c["created"].decode(Bool.self)
        relatedID = try c["related_id"].decode(UUID?.self)
        relatedCreated = try c["related_created"].decode(Bool.self)
        value = try c["value"].decode(String?.self)
        currentValue = try c["current_value"].decode(String?.self)
        let owner: ValueOwner? =
            if let ledgerID = try c["owner_ledger"].decode(Int64?.self) {
                ValueOwner(
                    source: try c["owner_source"].decode(String.self), ledgerID: ledgerID,
                    isStale: try c["owner_stale"].decode(Bool?.self) ?? false)
            } else { nil }
        func position(_ submit: String, _ seq: String) throws -> SubmissionPosition? {
            guard let submit = try c[submit].decode(Int64?.self), let seq = try c[seq].decode(Int64?.self) else { return nil }
            return SubmissionPosition(submit: submit, seq: seq)
        }
        let marks = SourceOrderMarks(
            latestTimestamp: try c["ts_max"].decode(Date?.self), latestTimestampPosition: try position("ts_submit", "ts_seq"),
            latest: try position("any_submit", "any_seq"), latestWithoutTimestamp: try position("nots_submit", "nots_seq"))
        facts = AspectFacts(
            targetID: targetID, keyConflict: try c["key_conflict"].decode(Bool.self),
            relatedConflict: try c["related_conflict"].decode(Bool.self), castError: try c["cast_error"].decode(String?.self),
            equalsCurrent: try c["equals_current"].decode(Bool.self), owner: owner,
            heldDuplicate: try c["held_duplicate"].decode(Int64?.self), marks: marks)
    }

    /// The records this row says the round created, for their Record entries.
    func creations(of item: PreparedItem) -> [CreationRecord] {
        var creations: [CreationRecord] = []
        if created, let targetID {
            creations.append(CreationRecord(table: item.table, targetID: targetID, source: item.source, jobID: item.jobID))
        }
        if relatedCreated, let relatedID, case .link(_, let relatedTable, _) = item.change {
            creations.append(CreationRecord(table: relatedTable, targetID: relatedID, source: item.source, jobID: item.jobID))
        }
        return creations
    }
}

/// A record the round created, as `apply_chunk` takes it.
struct CreationRecord: Encodable, Sendable {
    var table: String
    var targetID: UUID
    var source: String
    var jobID: Int64

    enum CodingKeys: String, CodingKey {
        case table, source
        case targetID = "target_id", jobID = "job_id"
    }
}

/// A source's order marks, as `apply_chunk` stores them.
struct MarksRecord: Encodable, Sendable {
    var tsMax: Timestamp?
    var tsSubmit: Int64?
    var tsSeq: Int64?
    var anySubmit: Int64?
    var anySeq: Int64?
    var notsSubmit: Int64?
    var notsSeq: Int64?

    enum CodingKeys: String, CodingKey {
        case tsMax = "ts_max", tsSubmit = "ts_submit", tsSeq = "ts_seq", anySubmit = "any_submit", anySeq = "any_seq"
        case notsSubmit = "nots_submit", notsSeq = "nots_seq"
    }

    init(_ marks: SourceOrderMarks) {
        tsMax = marks.latestTimestamp.map(Timestamp.init)
        tsSubmit = marks.latestTimestampPosition?.submit
        tsSeq = marks.latestTimestampPosition?.seq
        anySubmit = marks.latest?.submit
        anySeq = marks.latest?.seq
        notsSubmit = marks.latestWithoutTimestamp?.submit
        notsSeq = marks.latestWithoutTimestamp?.seq
    }
}

/// One item's decision, as `apply_chunk` takes it.
struct ApplyRecord: Encodable, Sendable {
    var itemID: Int64
    var jobID: Int64
    var source: String?
    var sourceTimestamp: Timestamp?
    var verdict: String
    var message: String?
    var table: String?
    var targetID: UUID?
    var aspect: String?
    var aspectKey: String?
    var column: String?
    var value: String?
    var previous: String?
    var confirm: Int64?
    var marks: MarksRecord?
    /// Why a held item waits (``HoldReason/code``).
    var holdReason: String?
    /// What the database said in full about an item it refused (``DatabaseRefusal``).
    var refusal: DatabaseRefusal.Record?

    enum CodingKeys: String, CodingKey {
        case source, verdict, message, table, aspect, column, value, previous, confirm, marks, refusal
        case itemID = "item_id", jobID = "job_id", sourceTimestamp = "source_timestamp", targetID = "target_id",
            aspectKey = "aspect_key", holdReason = "hold_reason"
    }

    /// An item decided on the facts of `row`.
    init(_ item: PreparedItem, row: PreparedRow, decision: ItemDecision) {
        itemID = item.itemID
        jobID = item.jobID
        source = item.source
        sourceTimestamp = item.sourceTimestamp.map(Timestamp.init)
        verdict = Self.verdict(decision.verdict.status)
        message = decision.verdict.message
        table = item.table
        targetID = row.targetID
        aspect = item.aspect.rawValue
        aspectKey = item.aspectKey
        column = item.column
        value = row.value
        previous = row.currentValue
        confirm = decision.confirm
        marks = decision.marks.map(MarksRecord.init)
        if case .held(let reason) = decision.verdict { holdReason = reason.code }
    }

    /// An item that failed before the database was asked.
    init(failed item: InboundItem, failure: ItemFailure, refusal: DatabaseRefusal.Record? = nil) {
        itemID = item.itemID
        jobID = item.jobID
        verdict = Self.verdict(.failed)
        message = failure.description
        self.refusal = refusal
    }

    private static func verdict(_ status: ItemStatus) -> String {
        switch status {
        case .applied: "applied"
        case .held: "held"
        case .skipped: "skipped"
        case .failed, .pending: "failed"
        }
    }
}
