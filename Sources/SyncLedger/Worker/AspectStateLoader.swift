import Foundation
import Logging
import PostgresNIO
import SyncLedgerCore

/// Loads what governance needs for a chunk's aspects: the targets' current
/// values (locking the rows, in id order, until the chunk commits) and, from
/// the ledger, each aspect's current owner and the latest `source_timestamp`
/// the job's source sent for it. One statement per target table plus one for
/// the ledger, whatever the chunk size.
struct AspectStateLoader {
    var source: String
    var catalog: Catalog
    var logger: Logger

    /// `columns[table][id]` lists the columns read for that record.
    func load(_ aspects: Set<AspectKey>, columnsOf: [AspectKey: String], on conn: PostgresConnection) async throws -> [AspectKey: AspectState] {
        var states: [AspectKey: AspectState] = [:]
        guard !aspects.isEmpty else { return states }

        // Current values, one statement per table.
        let byTable = Dictionary(grouping: aspects, by: \.table)
        for (table, keys) in byTable.sorted(by: { $0.key < $1.key }) {
            guard let info = catalog.tables[table] else { continue }
            let columns = Array(Set(keys.compactMap { columnsOf[$0] })).sorted()
            let ids = Array(Set(keys.map(\.targetID))).sorted { $0.uuidString < $1.uuidString }
            let idColumn = SQLName.quote(info.idColumn)
            let valueList = columns.map { "coalesce(\(SQLName.quote($0))::text, '')" }.joined(separator: ", ")
            let nullList = columns.map { "\(SQLName.quote($0)) IS NULL" }.joined(separator: ", ")
            let rows = try await conn.checkedQuery(
                """
                SELECT \(unescaped: idColumn)::uuid, ARRAY[\(unescaped: valueList)]::text[], ARRAY[\(unescaped: nullList)]::bool[]
                  FROM \(unescaped: SQLName.qualified(table))
                 WHERE \(unescaped: idColumn) = ANY(\(ids)::uuid[])
                 ORDER BY \(unescaped: idColumn)
                   FOR NO KEY UPDATE
                """, logger: logger)
            var values: [UUID: [String?]] = [:]
            for try await (id, row, nulls) in rows.decode((UUID, [String], [Bool]).self) {
                values[id] = zip(row, nulls).map { value, isNull in isNull ? nil : value }
            }
            for key in keys {
                guard let column = columnsOf[key], let index = columns.firstIndex(of: column) else { continue }
                states[key, default: AspectState()].currentValue = values[key.targetID]?[index] ?? nil
            }
        }

        // Owners and latest source timestamps from the ledger, one statement.
        let keys = Array(aspects)
        let rows = try await conn.checkedQuery(
            """
            SELECT k.t, k.id, k.a, o.ledger_id, o.source_system_key, coalesce(o.confirmed_at, o.applied_at, o.recorded_at),
                   (SELECT max(l.source_timestamp) FROM integration.ledger l
                     WHERE l.target_table = k.t AND l.target_id = k.id AND l.aspect_key = k.a
                       AND l.source_system_key = \(source))
              FROM unnest(\(keys.map(\.table)), \(keys.map(\.targetID))::uuid[], \(keys.map(\.aspectKey))) AS k(t, id, a)
              LEFT JOIN LATERAL (
                SELECT l.ledger_id, l.source_system_key, l.confirmed_at, l.applied_at, l.recorded_at
                  FROM integration.ledger l
                 WHERE l.target_table = k.t AND l.target_id = k.id AND l.aspect_key = k.a
                   AND l.is_applied AND l.ledger_status IN ('Pending', 'Certified')
                 ORDER BY l.applied_at DESC NULLS LAST, l.ledger_id DESC
                 LIMIT 1
              ) o ON true
            """, logger: logger)
        for try await (table, id, aspect, ledgerID, ownerSource, confirmedAt, latest)
            in rows.decode((String, UUID, String, Int64?, String?, Date?, Date?).self)
        {
            let key = AspectKey(table: table, targetID: id, aspectKey: aspect)
            if let ledgerID, let ownerSource, let confirmedAt {
                states[key, default: AspectState()].owner = ValueOwner(source: ownerSource, ledgerID: ledgerID, confirmedAt: confirmedAt)
            }
            states[key, default: AspectState()].latestSourceTimestamp = latest
        }
        return states
    }
}
