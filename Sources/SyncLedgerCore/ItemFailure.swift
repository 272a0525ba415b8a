/// Why an item failed. Each case renders the message stored in
/// `sync_item.process_message`: it names the problem and, where there is one,
/// what to do about it. Quoted input is shortened so a hostile value never
/// floods a message.
public enum ItemFailure: Error, Sendable, Equatable, CustomStringConvertible {
    case unknownSourceSystem(String)
    case inactiveSourceSystem(String)
    case missingTargetTable
    case protectedTable(String)
    case unregisteredTable(String)
    case inactiveTable(String)
    case missingTable(String)
    case missingExternalKey
    case externalKeyTooLong(bytes: Int, limit: Int)
    case unknownOperation(String)
    case missingFieldName(Operation)
    case unknownField(field: String, table: String)
    case idColumn(field: String, table: String)
    case generatedColumn(field: String, table: String)
    case activeColumn(field: String, table: String)
    case notNullColumn(field: String, table: String)
    case notARelationship(field: String, table: String)
    case unregisteredRelationship(field: String, table: String, references: String)
    case deleteNotSupported(table: String)
    case valueTooLarge(field: String, table: String, bytes: Int, limit: Int)
    case invalidCharacter(field: String, table: String)
    case noFieldPolicy(table: String, field: String)
    case noRecordPolicy(table: String)
    case unmappedCode(code: String, codeList: String, source: String)
    case uncastableValue(value: String, field: String, table: String, sqlType: String, reason: String)
    case identifierConflict(externalKey: String, table: String, source: String)
    case rejectedByDatabase(String)

    public var description: String {
        switch self {
        case .unknownSourceSystem(let key):
            return "unknown source system \(Quote.short(key)): register it in integration.source_system"
        case .inactiveSourceSystem(let key):
            return "source system \(Quote.short(key)) is inactive"
        case .missingTargetTable:
            return "no target table: set sync_item.target_table or the job's entity_type"
        case .protectedTable(let table):
            return "\(Quote.short(table)) is not a target: syncledger never writes the integration schema or system catalogs"
        case .unregisteredTable(let table):
            return "target table \(Quote.short(table)) is not registered in integration.target_table"
        case .inactiveTable(let table):
            return "target table \(table) is inactive"
        case .missingTable(let table):
            return "target table \(table) is registered but does not exist in the database"
        case .missingExternalKey:
            return "missing external_key: every item needs the source's key for its record"
        case .externalKeyTooLong(let bytes, let limit):
            return "external key is \(bytes) bytes; the crosswalk accepts at most \(limit)"
        case .unknownOperation(let op):
            return "unknown operation \(Quote.short(op)): use Set, Link or Delete"
        case .missingFieldName(let op):
            return "missing field_name: a \(op.rawValue) item names the column it changes"
        case .unknownField(let field, let table):
            return "unknown field \(Quote.short(field)) on \(table)"
        case .idColumn(let field, let table):
            return "field \(Quote.short(field)) is the id column of \(table) and cannot be set"
        case .generatedColumn(let field, let table):
            return "field \(Quote.short(field)) on \(table) is a generated column and cannot be set"
        case .activeColumn(let field, let table):
            return "field \(Quote.short(field)) is the active column of \(table): send a Delete item to deactivate the record"
        case .notNullColumn(let field, let table):
            return "field \(Quote.short(field)) on \(table) is NOT NULL: a NULL value cannot clear it"
        case .notARelationship(let field, let table):
            return "field \(Quote.short(field)) on \(table) is not a single-column foreign key: Link needs one"
        case .unregisteredRelationship(let field, let table, let references):
            return "field \(Quote.short(field)) on \(table) references \(references), which is not a registered target table"
        case .deleteNotSupported(let table):
            return "Delete refused: \(table) has no active_column in integration.target_table"
        case .valueTooLarge(let field, let table, let bytes, let limit):
            return "value for \(table).\(Quote.bare(field)) is \(bytes) bytes; the maximum is \(limit) (SYNCLEDGER_MAX_VALUE_BYTES)"
        case .invalidCharacter(let field, let table):
            return "value for \(table).\(Quote.bare(field)) contains a NUL character, which PostgreSQL text cannot hold"
        case .noFieldPolicy(let table, let field):
            return "no commit policy governs \(table).\(Quote.bare(field)): add one to integration.commit_policy"
        case .noRecordPolicy(let table):
            return "no record-level commit policy (field_name NULL) governs \(table): Delete refused"
        case .unmappedCode(let code, let codeList, let source):
            return "no mapping for \(Quote.short(code)) in code list \(Quote.short(codeList)) from source \(Quote.short(source)): add it to integration.value_map, then call integration.requeue_failed(job_id)"
        case .uncastableValue(let value, let field, let table, let sqlType, let reason):
            return "value \(Quote.short(value)) does not fit \(table).\(Quote.bare(field)) of type \(sqlType): \(reason)"
        case .identifierConflict(let key, let table, let source):
            return "cannot link external key \(Quote.short(key)) from \(Quote.short(source)): the hinted \(table) record already carries another identifier from that source"
        case .rejectedByDatabase(let message):
            return "rejected by the database: \(message)"
        }
    }
}

/// Quoting of user-supplied text inside messages.
enum Quote {
    static let limit = 60

    /// `'value'`, shortened to ``limit`` characters.
    static func short(_ text: String) -> String {
        "'\(bare(text))'"
    }

    /// The text shortened to ``limit`` characters, with an ellipsis when cut.
    static func bare(_ text: String) -> String {
        text.count > limit ? String(text.prefix(limit)) + "…" : text
    }
}
