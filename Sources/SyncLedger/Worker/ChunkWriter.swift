import Foundation
import Logging
import PostgresNIO
import SyncLedgerCore

/// Writes a chunk's decision set-based: one UPDATE per target table, then one
/// statement that inserts the ledger rows, their policy events, refreshes
/// confirmations and records every item's result. NULLs travel as parallel
/// arrays of flags, since postgres-nio binds arrays of non-optional elements.
struct ChunkWriter {
    var jobID: Int64
    var source: String
    var catalog: Catalog
    var logger: Logger

    static let noUUID = UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))

    /// Writes target columns; values are cast by PostgreSQL to each column's type.
    func writeTargets(_ writes: [TargetWrite], on conn: PostgresConnection) async throws {
        for (table, tableWrites) in Dictionary(grouping: writes, by: \.table).sorted(by: { $0.key < $1.key }) {
            guard let info = catalog.tables[table] else { continue }
            let columns = Array(Set(tableWrites.map(\.column))).sorted()
            let byRecord = Dictionary(grouping: tableWrites, by: \.targetID).sorted { $0.key.uuidString < $1.key.uuidString }
            let ids = byRecord.map(\.key)
            var bindings = PostgresBindings()
            bindings.append(ids)
            var assignments: [String] = []
            var unnestColumns = ["id"]
            for (n, column) in columns.enumerated() {
                var present: [Bool] = []
                var isNull: [Bool] = []
                var values: [String] = []
                for (_, recordWrites) in byRecord {
                    let write = recordWrites.last(where: { $0.column == column })
                    present.append(write != nil)
                    isNull.append(write?.value == nil)
                    values.append(write?.value ?? "")
                }
                bindings.append(present)
                bindings.append(isNull)
                bindings.append(values)
                let type = info.columns[column]?.sqlType ?? "text"
                let quoted = SQLName.quote(column)
                assignments.append(
                    "\(quoted) = CASE WHEN v.p\(n) THEN (CASE WHEN v.n\(n) THEN NULL ELSE v.v\(n) END)::\(type) ELSE t.\(quoted) END")
                unnestColumns += ["p\(n)", "n\(n)", "v\(n)"]
            }
            var placeholders = ["$1::uuid[]"]
            for n in columns.indices { placeholders += ["$\(2 + 3 * n)::bool[]", "$\(3 + 3 * n)::bool[]", "$\(4 + 3 * n)::text[]"] }
            let sql = """
                UPDATE \(SQLName.qualified(table)) AS t
                   SET \(assignments.joined(separator: ", "))
                  FROM unnest(\(placeholders.joined(separator: ", "))) AS v(\(unnestColumns.joined(separator: ", ")))
                 WHERE t.\(SQLName.quote(info.idColumn)) = v.id
                """
            try await conn.run(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger)
        }
    }

    /// Inserts ledger rows and policy events, refreshes confirmations, and
    /// records item results. Returns the ledger ids of applied values, for
    /// outbound fan-out.
    func writeResults(_ decision: ChunkDecision, failures: [(Int64, String)], on conn: PostgresConnection) async throws -> [Int64] {
        let ledger = decision.ledger
        var itemIDs: [Int64] = []
        var statuses: [String] = []
        var messages: [String] = []
        var targetIDs: [UUID] = []
        for outcome in decision.outcomes {
            itemIDs.append(outcome.itemID)
            statuses.append(outcome.status.rawValue)
            messages.append(outcome.message ?? "")
            targetIDs.append(outcome.targetID ?? Self.noUUID)
        }
        for (itemID, message) in failures {
            itemIDs.append(itemID)
            statuses.append(ItemStatus.failed.rawValue)
            messages.append(message)
            targetIDs.append(Self.noUUID)
        }
        let rows = try await conn.checkedQuery(
            """
            WITH new_ledger AS (
              INSERT INTO integration.ledger
                (target_table, target_id, ledger_aspect, aspect_key, source_system_key, ledger_status, value, previous_value,
                 is_applied, applied_at, sync_item_id, job_id, source_timestamp, confirmed_at, certified_at)
              SELECT d.t, d.id, d.aspect, d.akey, \(source), d.status,
                     CASE WHEN d.vn THEN NULL ELSE d.v END, CASE WHEN d.pn THEN NULL ELSE d.p END,
                     d.applied, CASE WHEN d.applied THEN now() END, nullif(d.item, 0), \(jobID),
                     CASE WHEN d.tsn THEN NULL ELSE d.ts END,
                     CASE WHEN d.applied THEN now() END, CASE WHEN d.status = 'Certified' THEN now() END
                FROM unnest(\(ledger.map(\.table)), \(ledger.map(\.targetID))::uuid[], \(ledger.map(\.aspect.rawValue)),
                            \(ledger.map(\.aspectKey)), \(ledger.map(\.status.rawValue)),
                            \(ledger.map { $0.value ?? "" }), \(ledger.map { $0.value == nil }),
                            \(ledger.map { $0.previousValue ?? "" }), \(ledger.map { $0.previousValue == nil }),
                            \(ledger.map(\.isApplied)), \(ledger.map { $0.itemID ?? 0 })::int8[],
                            \(ledger.map { $0.sourceTimestamp ?? Date(timeIntervalSince1970: 0) })::timestamptz[],
                            \(ledger.map { $0.sourceTimestamp == nil }))
                     WITH ORDINALITY AS d(t, id, aspect, akey, status, v, vn, p, pn, applied, item, ts, tsn, ord)
               ORDER BY d.ord
              RETURNING ledger_id, sync_item_id, ledger_status, is_applied, ledger_aspect
            ), policy_events AS (
              INSERT INTO integration.ledger_event (ledger_id, from_status, to_status, actor, notes)
              SELECT ledger_id, 'Pending', 'Certified', 'policy', 'certified at ingest by commit policy'
                FROM new_ledger WHERE ledger_status = 'Certified'
            ), confirmations AS (
              UPDATE integration.ledger SET confirmed_at = now() WHERE ledger_id = ANY(\(decision.confirmations)::int8[])
            ), results AS (
              UPDATE integration.sync_item i
                 SET item_status = r.status, process_message = nullif(r.msg, ''),
                     target_id = coalesce(nullif(r.tid, '00000000-0000-0000-0000-000000000000'::uuid), i.target_id),
                     applied_at = CASE WHEN r.status = 'Applied' THEN now() END,
                     ledger_id = nl.ledger_id
                FROM unnest(\(itemIDs)::int8[], \(statuses), \(messages), \(targetIDs)::uuid[]) AS r(id, status, msg, tid)
                LEFT JOIN new_ledger nl ON nl.sync_item_id = r.id
               WHERE i.item_id = r.id AND i.item_status = 'Pending'
              RETURNING i.item_id
            )
            SELECT (SELECT count(*) FROM results)::int8,
                   coalesce((SELECT array_agg(ledger_id) FROM new_ledger
                              WHERE is_applied AND ledger_aspect <> 'Record'), '{}')::int8[]
            """, logger: logger)
        var applied: [Int64] = []
        for try await (_, ids) in rows.decode((Int64, [Int64]).self) { applied = ids }
        return applied
    }
}
