import Logging
import PostgresNIO
import SyncLedgerCore

/// The database's side of checking a submitted file's values before anything
/// is submitted (``ValueCheckBatch``): which fields a code list governs, and
/// one round trip per batch of values to `integration.check_values`
/// (`sql/code/85_intake.sql`), which maps and casts them as the worker will,
/// set-based. Reads no table the submitting login may not read: both
/// functions are granted to `syncledger_upstream` and answer only for the
/// values they are given.
struct ValueChecker: Sendable {
    let client: PostgresClient
    let source: String
    let table: String
    let logger: Logger

    /// The code list of each field of the table that a policy maps through one.
    func codeLists() async throws -> [String: String] {
        let rows = try await client.collect(
            "SELECT field, code_list FROM integration.intake_code_lists(\(table))", as: (String, String).self, logger: logger)
        return Dictionary(rows, uniquingKeysWith: { first, _ in first })
    }

    /// The bad values of `batch`: the database's refusals (one round trip,
    /// when the batch holds values to check) and the batch's own, each with
    /// its line and column, in file order.
    func check(_ batch: ValueCheckBatch) async throws -> [BadValue] {
        guard batch.count > 0 else { return batch.badValues(from: []) }
        let payload = batch.payload
        let rows = try await client.withOpenConnection { conn in
            try await conn.checkedRows(
                """
                SELECT field, ord, unmapped_in, cast_error
                  FROM integration.check_values(\(source), \(table), \(payload)::jsonb)
                """, logger: logger)
        }
        let refused = try rows.map { row in
            let columns = row.makeRandomAccess()
            return RefusedValue(
                field: try columns["field"].decode(String.self), ordinal: Int(try columns["ord"].decode(Int32.self)),
                unmappedIn: try columns["unmapped_in"].decode(String?.self), castError: try columns["cast_error"].decode(String?.self))
        }
        return batch.badValues(from: refused)
    }
}
