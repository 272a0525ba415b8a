import Foundation
import Logging
import PostgresNIO
import SyncLedgerCore

/// SPEC §2 step 2: resolves external keys to target records through the
/// crosswalk, creating records and identifiers for new keys.
///
/// Race-free: the identifier is inserted first with `ON CONFLICT DO NOTHING`,
/// and only the transaction whose insert won creates the record. A concurrent
/// transaction naming the same new key waits on the unique index, finds the
/// winner's identifier afterwards, and uses its record. Keys are inserted in a
/// stable order, so two chunks cannot deadlock on each other's identifiers.
struct RecordResolver {
    var source: String
    var catalog: Catalog
    var logger: Logger

    struct Key: Hashable, Comparable {
        var table: String
        var externalKey: String

        static func < (lhs: Key, rhs: Key) -> Bool { (lhs.table, lhs.externalKey) < (rhs.table, rhs.externalKey) }
    }

    struct Resolution {
        var targets: [Key: UUID] = [:]
        var creations: [RecordCreation] = []
        /// Keys whose identifier could not be created (a hinted record already
        /// carries another identifier from this source).
        var conflicts: Set<Key> = []
    }

    /// Resolves `lookups` (never created) and `creates` (created when new; the
    /// hint, if any, names an existing record to link to instead).
    func resolve(lookups: Set<Key>, creates: [Key: UUID?], on conn: PostgresConnection) async throws -> Resolution {
        var resolution = Resolution()
        let wanted = lookups.union(creates.keys).sorted()
        guard !wanted.isEmpty else { return resolution }

        var known = try await existing(wanted, on: conn)
        let knownIDs = known.values.map(\.identifierID).sorted()
        if !knownIDs.isEmpty {
            // Lock in id order, then touch: concurrent chunks never deadlock here.
            try await conn.run(
                """
                UPDATE integration.identifier i SET last_seen_at = now()
                  FROM (SELECT identifier_id FROM integration.identifier
                         WHERE identifier_id = ANY(\(knownIDs)) ORDER BY identifier_id FOR NO KEY UPDATE) l
                 WHERE i.identifier_id = l.identifier_id
                """, logger: logger)
        }

        let missing = creates.keys.filter { known[$0] == nil }.sorted()
        if !missing.isEmpty {
            let hinted = try await existingHints(missing.compactMap { key in creates[key]!.map { (key.table, $0) } }, on: conn)
            var newIDs: [Key: UUID] = [:]
            var fresh = Set<Key>()
            for key in missing {
                if let hint = creates[key]!, hinted.contains(HintKey(table: key.table, id: hint)) {
                    newIDs[key] = hint
                } else {
                    newIDs[key] = UUID()
                    fresh.insert(key)
                }
            }
            let won = try await insertIdentifiers(missing.map { ($0, newIDs[$0]!) }, on: conn)
            // Records only for identifiers this transaction created, fresh ones only.
            let toCreate = won.filter { fresh.contains($0) }.sorted()
            for (table, keys) in Dictionary(grouping: toCreate, by: \.table).sorted(by: { $0.key < $1.key }) {
                guard let info = catalog.tables[table] else { continue }
                let ids = keys.map { newIDs[$0]! }
                try await conn.run(
                    """
                    INSERT INTO \(unescaped: SQLName.qualified(table)) (\(unescaped: SQLName.quote(info.idColumn)))
                    SELECT unnest(\(ids)::uuid[])
                    """, logger: logger)
                resolution.creations += ids.map { RecordCreation(table: table, targetID: $0, source: source) }
            }
            for key in won { known[key] = (0, newIDs[key]!) }
            let lost = missing.filter { !won.contains($0) }
            if !lost.isEmpty {
                let winners = try await existing(lost, on: conn)
                for key in lost {
                    if let found = winners[key] { known[key] = found } else { resolution.conflicts.insert(key) }
                }
            }
        }
        resolution.targets = known.mapValues(\.targetID)
        return resolution
    }

    private func existing(_ keys: [Key], on conn: PostgresConnection) async throws -> [Key: (identifierID: Int64, targetID: UUID)] {
        let rows = try await conn.checkedQuery(
            """
            SELECT i.target_table, i.external_key, i.identifier_id, i.target_id
              FROM unnest(\(keys.map(\.table)), \(keys.map(\.externalKey))) AS k(t, e)
              JOIN integration.identifier i
                ON i.source_system_key = \(source) AND i.target_table = k.t AND i.external_key = k.e
            """, logger: logger)
        var found: [Key: (Int64, UUID)] = [:]
        for try await (table, key, identifierID, targetID) in rows.decode((String, String, Int64, UUID).self) {
            found[Key(table: table, externalKey: key)] = (identifierID, targetID)
        }
        return found
    }

    private struct HintKey: Hashable {
        var table: String
        var id: UUID
    }

    /// Which hinted records exist.
    private func existingHints(_ hints: [(String, UUID)], on conn: PostgresConnection) async throws -> Set<HintKey> {
        var found = Set<HintKey>()
        for (table, pairs) in Dictionary(grouping: hints, by: \.0) {
            guard let info = catalog.tables[table] else { continue }
            let rows = try await conn.checkedQuery(
                """
                SELECT \(unescaped: SQLName.quote(info.idColumn))::uuid FROM \(unescaped: SQLName.qualified(table))
                 WHERE \(unescaped: SQLName.quote(info.idColumn)) = ANY(\(pairs.map(\.1)))
                """, logger: logger)
            for try await id in rows.decode(UUID.self) { found.insert(HintKey(table: table, id: id)) }
        }
        return found
    }

    /// Inserts identifiers in key order; returns the keys this transaction won.
    private func insertIdentifiers(_ entries: [(Key, UUID)], on conn: PostgresConnection) async throws -> Set<Key> {
        let rows = try await conn.checkedQuery(
            """
            INSERT INTO integration.identifier (source_system_key, target_table, external_key, target_id)
            SELECT \(source), k.t, k.e, k.id
              FROM unnest(\(entries.map(\.0.table)), \(entries.map(\.0.externalKey)), \(entries.map(\.1))::uuid[]) AS k(t, e, id)
             ORDER BY k.t, k.e
            ON CONFLICT DO NOTHING
            RETURNING target_table, external_key
            """, logger: logger)
        var won = Set<Key>()
        for try await (table, key) in rows.decode((String, String).self) { won.insert(Key(table: table, externalKey: key)) }
        return won
    }
}
