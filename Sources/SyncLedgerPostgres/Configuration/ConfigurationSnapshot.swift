import Logging
import PostgresNIO
import SyncLedgerCore

/// Everything items are prepared against: registered sources and tables with
/// their real columns, commit policies and value maps, at one configuration
/// version (`integration.config_version`). The worker keeps one and reloads
/// it only when the version moves: every chunk transaction checks it
/// (`prepare_chunk` refuses with SL061), so nothing is ever written with a
/// stale configuration.
package struct ConfigurationSnapshot: Sendable {
    package var version: Int64
    package var catalog: Catalog
    package var policies: PolicyBook
    package var valueMaps: ValueMapBook

    /// Loads the snapshot in one repeatable-read transaction, so the version
    /// matches what is read.
    package static func load(on conn: PostgresConnection, logger: Logger) async throws -> ConfigurationSnapshot {
        try await conn.transaction(.readOnlySnapshot, logger: logger) { conn in try await read(on: conn, logger: logger) }
    }

    private static func read(on conn: PostgresConnection, logger: Logger) async throws -> ConfigurationSnapshot {
        let version = try await conn.checkedRows("SELECT version FROM integration.config_version", logger: logger)
            .decoded(Int64.self).first ?? Int64(0)
        let catalog = try await loadCatalog(on: conn, logger: logger)
        return try await readGovernance(version: version, catalog: catalog, on: conn, logger: logger)
    }

    /// The catalogue alone: registered sources, and registered tables with
    /// their columns as PostgreSQL reports them. Part of every snapshot;
    /// `syncledger submit` checks a file's mapping against it before anything
    /// is written.
    package static func loadCatalog(on conn: PostgresConnection, logger: Logger) async throws -> Catalog {
        var sources: [SourceSystem] = []
        for (key, active) in try await conn.checkedRows(
            "SELECT source_system_key, is_active FROM integration.source_system", logger: logger
        ).decoded((String, Bool).self) {
            sources.append(SourceSystem(key: key, isActive: active))
        }

        // Registered tables with their columns, straight from pg_catalog. A
        // registered table that does not exist comes back with exists = false.
        let tableRows = try await conn.checkedRows(
            """
            SELECT t.target_table, t.id_column, t.active_column, t.is_active, c.oid IS NOT NULL,
                   coalesce(array_agg(a.attname::text ORDER BY a.attnum) FILTER (WHERE a.attnum IS NOT NULL), '{}'),
                   coalesce(array_agg(format_type(a.atttypid, a.atttypmod) ORDER BY a.attnum) FILTER (WHERE a.attnum IS NOT NULL), '{}'),
                   coalesce(array_agg(a.attnotnull ORDER BY a.attnum) FILTER (WHERE a.attnum IS NOT NULL), '{}'),
                   coalesce(array_agg(a.attgenerated <> '' ORDER BY a.attnum) FILTER (WHERE a.attnum IS NOT NULL), '{}'),
                   coalesce(array_agg(coalesce(fk.referenced, '') ORDER BY a.attnum) FILTER (WHERE a.attnum IS NOT NULL), '{}')
              FROM integration.target_table t
              LEFT JOIN pg_namespace n ON n.nspname = split_part(t.target_table, '.', 1)
              LEFT JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = split_part(t.target_table, '.', 2)
                                  AND c.relkind IN ('r', 'p')
              LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
              LEFT JOIN LATERAL (
                SELECT rn.nspname || '.' || rc.relname AS referenced
                  FROM pg_constraint k
                  JOIN pg_class rc ON rc.oid = k.confrelid
                  JOIN pg_namespace rn ON rn.oid = rc.relnamespace
                 WHERE k.conrelid = c.oid AND k.contype = 'f' AND k.conkey = ARRAY[a.attnum]
                 LIMIT 1
              ) fk ON true
             GROUP BY t.target_table, t.id_column, t.active_column, t.is_active, c.oid
            """, logger: logger)
        var tables: [TargetTable] = []
        for (name, idColumn, activeColumn, active, exists, names, types, notNulls, generated, references)
            in try tableRows.decoded((String, String, String?, Bool, Bool, [String], [String], [Bool], [Bool], [String]).self)
        {
            var columns: [Column] = []
            for index in names.indices {
                columns.append(
                    Column(
                        name: names[index], sqlType: types[index], isNotNull: notNulls[index], isGenerated: generated[index],
                        references: references[index].isEmpty ? nil : references[index]))
            }
            tables.append(
                TargetTable(name: name, idColumn: idColumn, activeColumn: activeColumn, isActive: active, exists: exists, columns: columns))
        }

        return Catalog(sources: sources, tables: tables)
    }

    /// Policies and value maps, completing a snapshot.
    private static func readGovernance(version: Int64, catalog: Catalog, on conn: PostgresConnection, logger: Logger) async throws
        -> ConfigurationSnapshot
    {
        var policies: [CommitPolicy] = []
        for (table, field, mode, authorities, autoCertify, staleDays, codeList, minConfidence) in try await conn.checkedRows(
            """
            SELECT target_table, field_name, commit_mode, authoritative_sources, auto_certify, stale_after_days,
                   code_list, min_confidence::float8
              FROM integration.commit_policy
            """, logger: logger
        ).decoded((String, String?, String, [String], Bool, Int32?, String?, Double?).self) {
            policies.append(
                CommitPolicy(
                    targetTable: table, fieldName: field, commitMode: CommitMode(rawValue: mode) ?? .onCertify,
                    authoritativeSources: authorities, autoCertify: autoCertify, staleAfterDays: staleDays.map(Int.init),
                    codeList: codeList, minConfidence: minConfidence))
        }

        var mappings: [ValueMapping] = []
        for (source, codeList, code, canonical, confidence) in try await conn.checkedRows(
            """
            SELECT source_system_key, code_list, source_code, canonical_code_value, confidence::float8
              FROM integration.value_map
            """, logger: logger
        ).decoded((String, String, String, String, Double).self) {
            mappings.append(ValueMapping(sourceSystem: source, codeList: codeList, sourceCode: code, canonicalCode: canonical, confidence: confidence))
        }

        return ConfigurationSnapshot(
            version: version, catalog: catalog, policies: PolicyBook(policies), valueMaps: ValueMapBook(mappings))
    }
}
