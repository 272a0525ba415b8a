import Foundation
import Logging
import PostgresNIO

/// What `syncledger steward suspects|merge|unmerge|dismiss` and `syncledger
/// match --dry-run` do, as library calls on the SQL of
/// `sql/code/45_identity.sql` (SPEC §8): list suspect pairs, merge two
/// records, undo a merge, dismiss a pair, and preview what match rules find
/// among existing records. The functions check, lock and write; nothing here
/// does. Refusals come back as the server's error (SQLSTATEs `SL09x`).
public struct IdentityQueries: Sendable {
    public let client: PostgresClient
    public let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    // MARK: Suspects

    /// Which suspect pairs to list.
    public struct SuspectFilter: Sendable, Equatable {
        /// Only this target table.
        public var table: String?
        /// `open` (default), `merged`, `dismissed`; nil for all.
        public var status: String?
        /// At most this many, oldest first.
        public var limit: Int

        public init(table: String? = nil, status: String? = "open", limit: Int = 50) {
            self.table = table
            self.status = status
            self.limit = limit
        }
    }

    /// A page of suspect pairs and how many match the filter in all.
    public struct Suspects: Sendable, Equatable {
        /// Columns of `integration.suspect_queue` (``suspectColumns``).
        public var pairs: Listing
        public var total: Int
    }

    /// The columns of ``Suspects/pairs``, in order.
    public static let suspectColumns = [
        "suspect_id", "status", "target_table", "target_id", "target_keys", "target_values", "candidate_id", "candidate_keys",
        "candidate_values", "rule_name", "score", "source_system_key", "found_at", "age", "decided_by", "decided_at", "notes",
        "merge_id",
    ]

    /// Suspect pairs from `integration.suspect_queue`, oldest first.
    public func suspects(_ filter: SuspectFilter = SuspectFilter()) async throws -> Suspects {
        guard filter.limit > 0 else { throw StewardError(message: "the limit must be positive, got \(filter.limit)") }
        let limit = Int64(filter.limit)
        let pairs = try await Listing.query(
            """
            SELECT q.suspect_id, q.status, q.target_table, q.target_id, q.target_keys, q.target_values, q.candidate_id,
                   q.candidate_keys, q.candidate_values, q.rule_name, q.score::text AS score, q.source_system_key, q.found_at,
                   justify_interval(date_trunc('second', q.age))::text AS age, q.decided_by, q.decided_at, q.notes, q.merge_id
              FROM integration.suspect_queue q
             WHERE q.suspect_id IN (SELECT s.suspect_id FROM integration.match_suspect s
                                     WHERE (\(filter.table)::text IS NULL OR s.target_table = \(filter.table))
                                       AND (\(filter.status)::text IS NULL OR s.status = \(filter.status))
                                     ORDER BY s.found_at, s.suspect_id LIMIT \(limit))
             ORDER BY q.found_at, q.suspect_id
            """, on: client, logger: logger)
        let total = try await Listing.query(
            """
            SELECT count(*) AS total FROM integration.match_suspect s
             WHERE (\(filter.table)::text IS NULL OR s.target_table = \(filter.table))
               AND (\(filter.status)::text IS NULL OR s.status = \(filter.status))
            """, on: client, logger: logger)
        return Suspects(
            pairs: pairs.rows.isEmpty ? Listing(columns: Self.suspectColumns.map { Listing.Column($0) }, rows: []) : pairs,
            total: Int(total.value("total") ?? "0") ?? 0)
    }

    // MARK: Merge, unmerge, dismiss

    /// The records of a suspect pair: the survivor is the record that was
    /// there first (its candidate), the merged one the record created for
    /// the new key.
    public func pair(ofSuspect suspectID: Int64) async throws -> (survivor: UUID, merged: UUID) {
        let rows = try await Listing.query(
            "SELECT candidate_id, target_id FROM integration.match_suspect WHERE suspect_id = \(suspectID)", on: client,
            logger: logger)
        guard let survivor = rows.value("candidate_id").flatMap(UUID.init(uuidString:)),
            let merged = rows.value("target_id").flatMap(UUID.init(uuidString:))
        else {
            throw StewardError(
                sqlState: .suspectNotOpen, message: "suspect pair \(suspectID) not found",
                hint: "`syncledger steward suspects` lists them")
        }
        return (survivor, merged)
    }

    /// `integration.merge`: `merged` into `survivor`. One row: `merge_id`,
    /// `target_table`, `survivor_id`, `merged_id`, `identifiers_moved`,
    /// `values_settled`, `relationships_repointed`, `outbound_items`.
    public func merge(survivor: UUID, merged: UUID, notes: String? = nil, as steward: String? = nil) async throws -> Listing {
        try await Listing.query(
            "SELECT * FROM integration.merge(\(survivor), \(merged), \(notes), \(steward))", on: client, logger: logger)
    }

    /// `integration.unmerge`: undoes a merge. One row: `merge_id`,
    /// `target_table`, `survivor_id`, `merged_id`, `identifiers_restored`,
    /// `values_restored`, `relationships_restored`, `outbound_items`.
    public func unmerge(_ mergeID: Int64, notes: String? = nil, as steward: String? = nil) async throws -> Listing {
        try await Listing.query(
            "SELECT * FROM integration.unmerge(\(mergeID), \(notes), \(steward))", on: client, logger: logger)
    }

    /// `integration.dismiss_suspect`: the pair is not one record. One row:
    /// `suspect_id`, `status`, `decided_by`, `decided_at`.
    public func dismiss(_ suspectID: Int64, notes: String? = nil, as steward: String? = nil) async throws -> Listing {
        try await Listing.query(
            "SELECT * FROM integration.dismiss_suspect(\(suspectID), \(notes), \(steward))", on: client, logger: logger)
    }

    // MARK: Dry run

    /// The columns of ``preview(table:rules:samples:)``'s rows, in order.
    public static let previewColumns = [
        "rule_name", "method", "min_score", "action", "is_active", "records_keyed", "pairs", "records_in_pairs", "would_link",
        "would_suspect", "samples",
    ]

    /// `integration.match_preview`: per rule (the table's active ones, or
    /// those named), what it finds among the existing records, with samples
    /// (a JSON array in `samples`). Changes nothing.
    public func preview(table: String, rules: [String]? = nil, samples: Int = 5) async throws -> Listing {
        guard samples >= 0 else { throw StewardError(message: "the number of samples cannot be negative, got \(samples)") }
        let found = try await Listing.query(
            "SELECT 1 AS registered FROM integration.target_table WHERE target_table = \(table)", on: client, logger: logger)
        if found.rows.isEmpty {
            throw StewardError(
                message: "\(table) is not a registered target table",
                hint: "name it schema-qualified as in integration.target_table, e.g. core.person")
        }
        let preview = try await Listing.query(
            """
            SELECT p.rule_name, p.method, p.min_score::text AS min_score, p.action, p.is_active, p.records_keyed, p.pairs,
                   p.records_in_pairs, p.would_link, p.would_suspect, p.samples
              FROM integration.match_preview(\(table), \(rules)::text[], \(Int32(clamping: samples))) p
            """, on: client, logger: logger)
        return preview.rows.isEmpty ? Listing(columns: Self.previewColumns.map { Listing.Column($0) }, rows: []) : preview
    }
}
