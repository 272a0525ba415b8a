import Foundation
import Logging
import PostgresNIO

/// What `syncledger steward` does, as library calls: read the review queue
/// and a record's history, and certify, reject or revoke ledger entries
/// through the SQL functions of `sql/code/70_stewardship.sql` (which do the
/// checking, locking and writing; nothing here changes ledger state itself).
///
/// Refusals come back as the server's error (a `PSQLError` whose SQLSTATE is
/// one of `SL0xx`, readable with ``PostgresErrors/sqlState(_:)``); what this
/// type checks itself (an unknown external key, an unregistered table) is a
/// ``StewardError``. ``StewardError/describing(_:)`` turns either into words.
public struct StewardQueries: Sendable {
    public let client: PostgresClient
    public let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    // MARK: Review queue

    /// Which pending entries to list, count or decide: the keys of a queue
    /// filter (`integration.queue_filter`), all combined with AND.
    public struct QueueFilter: Sendable, Equatable {
        /// Whether an entry is awaiting a decision or only certification.
        public enum State: String, Sendable, CaseIterable {
            /// Not applied: held for a steward's decision.
            case held
            /// Applied, awaiting certification.
            case applied
        }

        /// Only this target table (schema-qualified, e.g. `core.person`).
        public var table: String?
        /// Only entries from this source system.
        public var source: String?
        /// Only this field (aspect key).
        public var field: String?
        /// Only entries held for this reason (`on_certify`, `authority`,
        /// `confidence`, `not_auto_certified`, `proposal`).
        public var reason: String?
        /// Only held, or only applied, entries.
        public var state: State?
        /// Only entries recorded longer ago than this interval (e.g. `2 days`).
        public var olderThan: String?
        /// At most this many entries are listed, oldest first.
        public var limit: Int

        public init(
            table: String? = nil, source: String? = nil, field: String? = nil, reason: String? = nil, state: State? = nil,
            olderThan: String? = nil, limit: Int = 50
        ) {
            self.table = table
            self.source = source
            self.field = field
            self.reason = reason
            self.state = state
            self.olderThan = olderThan
            self.limit = limit
        }

        /// Whether the filter names anything (a bulk decision needs it to).
        public var isEmpty: Bool { json == "{}" }

        /// The filter as the JSON object `integration.queue_filter` reads.
        public var json: String {
            var pairs: [(String, String)] = []
            if let table { pairs.append(("table", table)) }
            if let field { pairs.append(("field", field)) }
            if let source { pairs.append(("source", source)) }
            if let reason { pairs.append(("reason", reason)) }
            if let state { pairs.append(("state", state.rawValue)) }
            if let olderThan { pairs.append(("older_than", olderThan)) }
            return "{" + pairs.map { "\(JSONText.quoted($0.0)): \(JSONText.quoted($0.1))" }.joined(separator: ", ") + "}"
        }
    }

    /// A page of the review queue.
    public struct Queue: Sendable, Equatable {
        /// The entries, oldest first: the columns of `integration.review_queue`
        /// (``queueColumns``), `age` as text.
        public var entries: Listing
        /// How many pending entries match the filter in all.
        public var total: Int
        /// The matching entries per `state` and `hold_reason`, with `entries`.
        public var counts: Listing
    }

    /// The columns of ``Queue/entries``, in order.
    public static let queueColumns = [
        "ledger_id", "target_table", "target_id", "record_keys", "ledger_aspect", "aspect_key", "source_system_key", "state",
        "hold_reason", "reason", "current_value", "proposed_value", "previous_value", "owner_source", "is_applied",
        "has_conflict", "job_id", "sync_item_id", "source_timestamp", "recorded_at", "age", "notes",
    ]

    /// Pending ledger entries from `integration.review_queue`, oldest first,
    /// and how many match per state and reason (`integration.queue_counts`).
    /// The page is chosen on the ledger first (`integration.queue_matches`,
    /// the filter's one definition), so the current values (one read of a
    /// target each) are computed for the page only.
    public func queue(_ filter: QueueFilter = QueueFilter()) async throws -> Queue {
        guard filter.limit > 0 else { throw StewardError(message: "the limit must be positive, got \(filter.limit)") }
        if let table = filter.table { try await requireRegistered(table) }
        let limit = Int64(filter.limit)
        let json = filter.json
        let counts = try await Listing.query(
            "SELECT c.state, c.hold_reason, c.entries FROM integration.queue_counts(\(json)::jsonb) c",
            on: client, logger: logger)
        let entries = try await Listing.query(
            """
            WITH f AS (SELECT integration.queue_filter(\(json)::jsonb) AS f),
            page AS (
              SELECT l.ledger_id
                FROM integration.ledger l, f
               WHERE l.ledger_status = 'Pending'
                 AND integration.queue_matches(f.f, l.target_table, l.aspect_key, l.source_system_key, l.is_applied,
                                               l.hold_reason, l.recorded_at)
               ORDER BY l.ledger_id
               LIMIT \(limit))
            SELECT q.ledger_id, q.target_table, q.target_id, q.record_keys, q.ledger_aspect, q.aspect_key,
                   q.source_system_key, q.state, q.hold_reason, q.reason, q.current_value, q.proposed_value,
                   q.previous_value, q.owner_source, q.is_applied, q.has_conflict, q.job_id, q.sync_item_id,
                   q.source_timestamp, q.recorded_at, justify_interval(date_trunc('second', q.age))::text AS age, q.notes
              FROM integration.review_queue q
             WHERE q.ledger_id IN (SELECT page.ledger_id FROM page)
             ORDER BY q.ledger_id
            """, on: client, logger: logger)
        let total = counts.values("entries").reduce(0) { $0 + (Int($1 ?? "") ?? 0) }
        return Queue(
            entries: entries.rows.isEmpty ? Listing(columns: Self.queueColumns.map { Listing.Column($0) }, rows: []) : entries,
            total: total,
            counts: counts.rows.isEmpty
                ? Listing(columns: [.init("state"), .init("hold_reason"), .init("entries", .number)], rows: []) : counts)
    }

    // MARK: Certify, reject, revoke

    /// The three steward actions and the SQL function of each.
    public enum Action: String, Sendable, CaseIterable {
        case certify, reject, revoke

        /// The status an entry must have for the action.
        public var fromStatus: String { self == .revoke ? "Certified" : "Pending" }
        /// The status the action gives it.
        public var toStatus: String {
            switch self {
            case .certify: "Certified"
            case .reject: "Rejected"
            case .revoke: "Revoked"
            }
        }
    }

    /// A ledger entry after a steward action, read in the action's transaction.
    public struct ActionResult: Sendable, Equatable {
        public var action: Action
        /// One row: the entry (``actionColumns``), the event the action
        /// wrote (`from_status`, `to_status`, `actor`, `occurred_at`,
        /// `event_notes`) and `sent_to`, the systems that got an outbound
        /// item from this transaction (comma-separated, NULL for none).
        public var entry: Listing

        public var ledgerID: Int64 { Int64(entry.value("ledger_id") ?? "") ?? 0 }
        public var status: String? { entry.value("ledger_status") }
        public var actor: String? { entry.value("actor") }
        /// The event's notes: the steward's notes, then what happened to the
        /// target (e.g. `target left alone: ... now holds 'x', not this entry's value 'y'`).
        public var eventNotes: String? { entry.value("event_notes") }
        public var sentTo: [String] { entry.value("sent_to")?.split(separator: ",").map(String.init) ?? [] }

        /// True when the action meant to change the target but left it alone
        /// because somebody changed it since (reject and revoke).
        public var targetLeftAlone: Bool { eventNotes?.contains("target left alone") ?? false }
    }

    /// The columns of ``ActionResult/entry``, in order.
    public static let actionColumns = [
        "ledger_id", "target_table", "target_id", "ledger_aspect", "aspect_key", "source_system_key", "ledger_status",
        "value", "previous_value", "is_applied", "applied_at", "certified_by", "certified_at", "from_status", "to_status",
        "actor", "occurred_at", "event_notes", "sent_to",
    ]

    /// `integration.certify`: Pending → Certified, applying a held value
    /// unless the target changed since it was recorded (SL030, unless
    /// `force`). `steward` nil means the app_user mapped to the session's
    /// login role; another user's name is refused (SL023) unless the login is
    /// a member of syncledger_admin.
    public func certify(_ ledgerID: Int64, as steward: String? = nil, notes: String? = nil, force: Bool = false) async throws
        -> ActionResult
    {
        try await perform(.certify, ledgerID) { conn in
            try await conn.query(
                """
                SELECT r.ledger_id FROM integration.certify(\(ledgerID), \(steward), \(notes), \(force)) r
                """, logger: logger)
        }
    }

    /// `integration.reject`: Pending → Rejected; an applied value is rolled
    /// back to the previous one if the target still holds it (otherwise the
    /// event notes say the target was left alone).
    public func reject(_ ledgerID: Int64, as steward: String? = nil, notes: String? = nil, reason: String? = nil)
        async throws -> ActionResult
    {
        try await perform(.reject, ledgerID) { conn in
            try await conn.query(
                "SELECT r.ledger_id FROM integration.reject(\(ledgerID), \(steward), \(notes), \(reason)) r",
                logger: logger)
        }
    }

    /// `integration.revoke`: Certified → Revoked; the target returns to the
    /// latest earlier certified value (NULL when none) if it still holds the
    /// revoked one.
    public func revoke(_ ledgerID: Int64, as steward: String? = nil, notes: String? = nil) async throws -> ActionResult {
        try await perform(.revoke, ledgerID) { conn in
            try await conn.query(
                "SELECT r.ledger_id FROM integration.revoke(\(ledgerID), \(steward), \(notes)) r",
                logger: logger)
        }
    }

    /// Runs one action in a transaction and reads the entry and its newest
    /// event back in the same transaction.
    private func perform(
        _ action: Action, _ ledgerID: Int64,
        _ call: @escaping @Sendable (PostgresConnection) async throws -> PostgresRowSequence
    ) async throws -> ActionResult {
        let logger = logger
        let entry = try await client.transaction(logger: logger) { conn -> Listing in
            for try await _ in try await call(conn) {}
            return try await Listing.query(
                """
                SELECT l.ledger_id, l.target_table, l.target_id, l.ledger_aspect, l.aspect_key, l.source_system_key,
                       l.ledger_status, l.value, l.previous_value, l.is_applied, l.applied_at,
                       u.user_name AS certified_by, l.certified_at,
                       ev.from_status, ev.to_status, ev.actor, ev.occurred_at,
                       nullif(concat_ws('; ', ev.notes, ev.target_note), '') AS event_notes,
                       (SELECT string_agg(j.source_system_key, ',' ORDER BY j.source_system_key)
                          FROM integration.sync_job j
                         WHERE j.direction = 'Outbound'
                           AND j.outbound_txid = pg_current_xact_id()) AS sent_to
                  FROM integration.ledger l
                  LEFT JOIN integration.app_user u ON u.user_id = l.certified_by
                  LEFT JOIN LATERAL (
                        SELECT e.from_status, e.to_status, e.actor, e.occurred_at, e.notes, e.target_note
                          FROM integration.ledger_event e
                         WHERE e.ledger_id = l.ledger_id
                         ORDER BY e.event_id DESC LIMIT 1) ev ON true
                 WHERE l.ledger_id = \(ledgerID)
                """, on: conn, logger: logger)
        }
        return ActionResult(action: action, entry: entry)
    }

    // MARK: History

    /// Whose history to show.
    public enum Subject: Sendable, Equatable {
        /// A target record by table and id.
        case record(table: String, id: UUID)
        /// The record(s) a source system knows by an external key, optionally
        /// in one table only.
        case external(source: String, key: String, table: String?)
    }

    /// A record's provenance: for each record the subject names, its
    /// identifiers, current values, ledger entries and their events.
    public struct History: Sendable, Equatable {
        /// `target_table`, `target_id` of each record (one, unless an external
        /// key without a table matches records of several tables).
        public var records: Listing
        /// The crosswalk rows of those records: `target_table`, `target_id`,
        /// `source_system_key`, `external_key`, `first_seen_at`, `last_seen_at`.
        public var identifiers: Listing
        /// `integration.field_provenance` for those records (and the field).
        public var current: Listing
        /// Ledger entries, oldest first (``historyEntryColumns``).
        public var entries: Listing
        /// Their events, in order (``historyEventColumns``).
        public var events: Listing

        /// JSON Lines: one object per ledger entry, with an `events` array of
        /// its events (each without the repeated `ledger_id`).
        public func jsonLines() -> String {
            let eventFields = events.columns.map(\.name).filter { $0 != "ledger_id" }
            return entries.jsonLines { row in
                let own = events.filter("ledger_id", equals: entries.rows[row][0]).selecting(eventFields)
                return [("events", own.jsonArray())]
            }
        }
    }

    /// The columns of ``History/entries``, in order.
    public static let historyEntryColumns = [
        "ledger_id", "target_table", "target_id", "ledger_aspect", "aspect_key", "source_system_key", "ledger_status",
        "value", "previous_value", "is_applied", "applied_at", "recorded_at", "source_timestamp", "confirmed_at",
        "certified_by", "certified_at", "birth_status", "job_id", "sync_item_id", "notes",
    ]

    /// The columns of ``History/events``, in order.
    public static let historyEventColumns = [
        "event_id", "ledger_id", "aspect_key", "source_system_key", "from_status", "to_status", "actor", "occurred_at", "notes",
    ]

    /// The history of a record, or of one field of it (`field`). Throws a
    /// ``StewardError`` when the table is not registered or no record has
    /// the external key.
    public func history(_ subject: Subject, field: String? = nil) async throws -> History {
        let records = try await records(subject)
        let tables = records.values("target_table").map { $0 ?? "" }
        let ids = records.values("target_id").map { UUID(uuidString: $0 ?? "") ?? UUID() }

        let identifiers = try await Listing.query(
            """
            SELECT i.target_table, i.target_id, i.source_system_key, i.external_key, i.first_seen_at, i.last_seen_at
              FROM integration.identifier i
              JOIN unnest(\(tables)::text[], \(ids)::uuid[]) r(target_table, target_id)
                ON r.target_table = i.target_table AND r.target_id = i.target_id
             ORDER BY i.target_table, i.target_id, i.source_system_key
            """, on: client, logger: logger)
        let current = try await Listing.query(
            """
            SELECT p.target_table, p.target_id, p.ledger_aspect, p.aspect_key, p.current_value, p.ledger_id,
                   p.ledger_value, p.source_system_key, p.ledger_status, p.certified_by, p.certified_at, p.applied_at,
                   p.pending_entries, p.ledger_entries
              FROM integration.field_provenance p
              JOIN unnest(\(tables)::text[], \(ids)::uuid[]) r(target_table, target_id)
                ON r.target_table = p.target_table AND r.target_id = p.target_id
             WHERE (\(field)::text IS NULL OR p.aspect_key = \(field))
             ORDER BY p.target_table, p.target_id, p.aspect_key
            """, on: client, logger: logger)
        let entries = try await Listing.query(
            """
            SELECT l.ledger_id, l.target_table, l.target_id, l.ledger_aspect, l.aspect_key, l.source_system_key,
                   l.ledger_status, l.value, l.previous_value, l.is_applied, l.applied_at, l.recorded_at,
                   l.source_timestamp, l.confirmed_at, u.user_name AS certified_by, l.certified_at, l.birth_status,
                   l.job_id, l.sync_item_id, l.notes
              FROM integration.ledger l
              JOIN unnest(\(tables)::text[], \(ids)::uuid[]) r(target_table, target_id)
                ON r.target_table = l.target_table AND r.target_id = l.target_id
              LEFT JOIN integration.app_user u ON u.user_id = l.certified_by
             WHERE (\(field)::text IS NULL OR l.aspect_key = \(field))
             ORDER BY l.ledger_id
            """, on: client, logger: logger)
        let events = try await Listing.query(
            """
            SELECT e.event_id, e.ledger_id, l.aspect_key, l.source_system_key, e.from_status,
                   CASE e.kind WHEN 'approval' THEN 'Approved' ELSE e.to_status END AS to_status, e.actor,
                   e.occurred_at, nullif(concat_ws('; ', e.notes, e.target_note), '') AS notes
              FROM integration.ledger_event e
              JOIN integration.ledger l ON l.ledger_id = e.ledger_id
              JOIN unnest(\(tables)::text[], \(ids)::uuid[]) r(target_table, target_id)
                ON r.target_table = l.target_table AND r.target_id = l.target_id
             WHERE (\(field)::text IS NULL OR l.aspect_key = \(field))
             ORDER BY e.event_id
            """, on: client, logger: logger)
        func named(_ listing: Listing, _ columns: [String]) -> Listing {
            listing.rows.isEmpty ? Listing(columns: columns.map { Listing.Column($0) }, rows: []) : listing
        }
        return History(
            records: records,
            identifiers: named(
                identifiers, ["target_table", "target_id", "source_system_key", "external_key", "first_seen_at", "last_seen_at"]),
            current: named(
                current,
                [
                    "target_table", "target_id", "ledger_aspect", "aspect_key", "current_value", "ledger_id", "ledger_value",
                    "source_system_key", "ledger_status", "certified_by", "certified_at", "applied_at", "pending_entries",
                    "ledger_entries",
                ]),
            entries: named(entries, Self.historyEntryColumns),
            events: named(events, Self.historyEventColumns))
    }

    /// The records a subject names: `target_table`, `target_id` of each (one,
    /// unless an external key without a table names records of several
    /// tables). Throws a ``StewardError`` when the table is not registered or
    /// no record has the external key.
    public func records(_ subject: Subject) async throws -> Listing {
        let records: Listing
        switch subject {
        case .record(let table, let id):
            try await requireRegistered(table)
            records = Listing(columns: [.init("target_table"), .init("target_id")], rows: [[table, id.uuidString.lowercased()]])
        case .external(let source, let key, let table):
            if let table { try await requireRegistered(table) }
            records = try await Listing.query(
                """
                SELECT i.target_table, i.target_id FROM integration.identifier i
                 WHERE i.source_system_key = \(source) AND i.external_key = \(key)
                   AND (\(table)::text IS NULL OR i.target_table = \(table))
                 ORDER BY i.target_table
                """, on: client, logger: logger)
            guard !records.rows.isEmpty else {
                let known = try await Listing.query(
                    "SELECT 1 AS known FROM integration.source_system WHERE source_system_key = \(source)", on: client, logger: logger)
                if known.rows.isEmpty {
                    throw StewardError(message: "unknown source system '\(source)'", hint: "source systems are listed in integration.source_system")
                }
                throw StewardError(
                    message: "no record\(table.map { " in \($0)" } ?? "") has \(source) key '\(key)'",
                    hint: "check the key and source, or name the record with --table and --id")
            }
        }
        return records
    }

    /// The one record a subject names in `table`, or a ``StewardError``.
    public func record(_ subject: Subject, in table: String) async throws -> UUID {
        let subject: Subject =
            switch subject {
            case .record: subject
            case .external(let source, let key, _): .external(source: source, key: key, table: table)
            }
        let found = try await records(subject)
        guard let id = found.value("target_id").flatMap(UUID.init(uuidString:)) else {
            throw StewardError(message: "no record in \(table) for \(subject)")
        }
        return id
    }

    /// Refuses a table that is not a registered target table, naming it.
    func requireRegistered(_ table: String) async throws {
        let found = try await Listing.query(
            "SELECT 1 AS registered FROM integration.target_table WHERE target_table = \(table)", on: client, logger: logger)
        if found.rows.isEmpty {
            throw StewardError(
                message: "\(table) is not a registered target table",
                hint: "name it schema-qualified as in integration.target_table, e.g. core.person")
        }
    }
}
