import Logging
import PostgresNIO
import SyncLedgerCore

/// SPEC §2 step 5, done before governance: every non-text value is cast by
/// PostgreSQL to its column's type, held values included, so a steward never
/// certifies a value that cannot be written. One statement per (table, column)
/// in the chunk; a bad value fails only its own item.
struct CastChecker {
    var logger: Logger

    /// Replaces each checked value with PostgreSQL's canonical text for it, or
    /// turns the item into a failure naming the column and type.
    func check(_ items: [PreparedItem], on conn: PostgresConnection) async throws -> [Result<PreparedItem, ItemFailure>] {
        var results = items.map { Result<PreparedItem, ItemFailure>.success($0) }
        struct Group: Hashable {
            var table: String
            var column: String
        }
        var groups: [Group: [Int]] = [:]
        for (index, item) in items.enumerated() {
            if let (column, _) = item.valueNeedingCastCheck {
                groups[Group(table: item.table, column: column.name), default: []].append(index)
            }
        }
        for (group, indices) in groups.sorted(by: { ($0.key.table, $0.key.column) < ($1.key.table, $1.key.column) }) {
            let values = indices.map { items[$0].valueNeedingCastCheck!.value }
            let rows = try await conn.checkedQuery(
                """
                SELECT ord, canonical, error
                  FROM integration.check_values(\(SQLName.qualified(group.table))::regclass, \(group.column), \(values))
                """, logger: logger)
            for try await (ord, canonical, error) in rows.decode((Int32, String?, String?).self) {
                let index = indices[Int(ord) - 1]
                let item = items[index]
                if let canonical {
                    results[index] = .success(item.withCanonicalValue(canonical))
                } else if let (column, value) = item.valueNeedingCastCheck {
                    results[index] = .failure(
                        .uncastableValue(
                            value: value, field: column.name, table: item.table, sqlType: column.sqlType, reason: error ?? "cast failed"))
                }
            }
        }
        return results
    }
}
