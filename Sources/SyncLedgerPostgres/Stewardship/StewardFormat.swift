/// How `syncledger steward` presents its results in a terminal. Pure
/// functions of the rows the queries return, so they are tested without a
/// database; the `--json` forms are ``Listing/jsonLines(extra:)`` and
/// ``StewardQueries/History/jsonLines()``.
public enum StewardFormat {
    /// Short headers for the tables (the JSON keys keep the schema's names).
    public static let headers: [String: String] = [
        "ledger_id": "entry", "target_table": "table", "target_id": "record", "external_key": "key",
        "ledger_aspect": "aspect", "aspect_key": "field", "source_system_key": "source", "ledger_status": "status",
        "current_value": "current", "proposed_value": "proposed", "previous_value": "previous", "is_applied": "applied",
        "has_conflict": "conflict", "certified_by": "certified_by", "pending_entries": "pending",
        "ledger_entries": "entries", "ledger_value": "owner_value", "from_status": "from", "to_status": "to",
        "event_id": "event", "first_seen_at": "first_seen", "last_seen_at": "last_seen", "record_keys": "record",
        "hold_reason": "reason", "owner_source": "owner",
    ]

    /// The queue columns a terminal shows by default.
    public static let queueDefaultColumns = [
        "ledger_id", "record_keys", "aspect_key", "source_system_key", "state", "hold_reason", "current_value",
        "proposed_value", "has_conflict", "age",
    ]

    /// The queue's counts per state and reason, e.g.
    ///
    ///     200012 pending: held 12 (authority 9, confidence 3); applied 200000 (not_auto_certified 200000)
    public static func queueCounts(_ queue: StewardQueries.Queue) -> String {
        var parts: [String] = []
        for state in StewardQueries.QueueFilter.State.allCases {
            let rows = queue.counts.rows.indices.filter { queue.counts.value("state", row: $0) == state.rawValue }
            guard !rows.isEmpty else { continue }
            let total = rows.reduce(0) { $0 + (Int(queue.counts.value("entries", row: $1) ?? "") ?? 0) }
            let reasons = rows.map { "\(queue.counts.value("hold_reason", row: $0) ?? "?") \(queue.counts.value("entries", row: $0) ?? "0")" }
            parts.append("\(state.rawValue) \(total) (\(reasons.joined(separator: ", ")))")
        }
        return parts.isEmpty ? "0 pending" : "\(queue.total) pending: " + parts.joined(separator: "; ")
    }

    /// A decision batch's result: `batch 7: 200000 entries certified`, then
    /// what was passed over or only approved.
    public static func batchText(_ outcome: StewardQueries.BatchOutcome) -> String {
        let done = outcome.action.toStatus.lowercased()
        var line = "batch \(outcome.batchID): \(outcome.decided) \(outcome.decided == 1 ? "entry" : "entries") \(done)"
        if outcome.approved > 0 { line += ", \(outcome.approved) approved (four eyes: a second steward certifies them)" }
        if outcome.passedOver > 0 {
            line += ", \(outcome.passedOver) passed over (decided meanwhile, in conflict, or your own approval or proposal)"
        }
        return line
    }

    /// ``batchText(_:)`` as one JSON object.
    public static func batchJSON(_ outcome: StewardQueries.BatchOutcome) -> String {
        "{\"batch_id\": \(outcome.batchID), \"action\": \(JSONText.quoted(outcome.action.rawValue)), "
            + "\"decided\": \(outcome.decided), \"approved\": \(outcome.approved), \"passed_over\": \(outcome.passedOver)}"
    }

    /// A line after each chunk of a batch.
    public static func batchProgress(_ outcome: StewardQueries.BatchOutcome) -> String {
        "batch \(outcome.batchID): \(outcome.decided + outcome.approved + outcome.passedOver) decided or passed over so far"
    }

    /// The review queue as a table, with a line saying how many are shown.
    /// `wide`: every column, values whole.
    public static func queueTable(_ queue: StewardQueries.Queue, wide: Bool = false) -> String {
        if queue.entries.rows.isEmpty { return "no pending entries" }
        let table = queue.entries.renderTable(
            columns: wide ? nil : queueDefaultColumns, headers: headers, maxWidth: wide ? nil : 32)
        let shown = queue.entries.rows.count
        let footer =
            shown < queue.total
            ? "\(shown) of \(queue.total) matching entries (oldest first; --limit shows more)"
            : "\(shown) matching \(shown == 1 ? "entry" : "entries")"
        return table + "\n" + footer
    }

    /// A value as a terminal shows it: quoted, NULL as NULL, cut at `maxWidth`.
    public static func quoted(_ value: String?, maxWidth: Int? = 60) -> String {
        guard let value else { return "NULL" }
        let flat = value.replacingOccurrences(of: "\n", with: "⏎")
        if let maxWidth, flat.count > maxWidth { return "'" + String(flat.prefix(maxWidth - 1)) + "…'" }
        return "'" + flat + "'"
    }

    /// The result of certify, reject or revoke in a few lines:
    ///
    ///     ledger entry 42: Pending → Certified by alice
    ///       core.person 3f2a… birth_date from hr: '1990-01-02' (previous NULL), applied
    ///       notes: checked the passport
    ///       sent to: crm, payroll
    public static func actionText(_ result: StewardQueries.ActionResult, wide: Bool = false) -> String {
        let entry = result.entry
        guard !entry.rows.isEmpty else { return "ledger entry: no row read back" }
        let width: Int? = wide ? nil : 60
        func v(_ column: String) -> String { entry.value(column) ?? "NULL" }
        var lines = [
            "ledger entry \(v("ledger_id")): \(v("from_status")) → \(v("to_status")) by \(v("actor"))",
            "  \(v("target_table")) \(v("target_id")) \(v("aspect_key")) from \(v("source_system_key")): "
                + "\(quoted(entry.value("value"), maxWidth: width)) (previous \(quoted(entry.value("previous_value"), maxWidth: width)))"
                + applied(status: entry.value("ledger_status"), isApplied: entry.value("is_applied") == "true"),
        ]
        if let notes = result.eventNotes { lines.append("  notes: \(notes)") }
        if !result.sentTo.isEmpty { lines.append("  sent to: \(result.sentTo.joined(separator: ", "))") }
        return lines.joined(separator: "\n")
    }

    /// How an entry's application reads after an action.
    static func applied(status: String?, isApplied: Bool) -> String {
        switch (status, isApplied) {
        case ("Rejected", true), ("Revoked", true): ", had been applied"
        case (_, true): ", applied"
        default: ", not applied"
        }
    }

    /// A record's history as sections: identifiers, current values, ledger
    /// entries, events. `wide`: every column, values whole.
    public static func historyText(_ history: StewardQueries.History, wide: Bool = false) -> String {
        let several = history.records.rows.count > 1
        let record = several ? ["target_table", "target_id"] : []
        let title = history.records.rows.map { "\($0[0] ?? "") \($0[1] ?? "")" }.joined(separator: ", ")
        func table(_ listing: Listing, _ columns: [String], maxWidth: Int) -> String {
            listing.renderTable(columns: wide ? nil : columns, headers: headers, maxWidth: wide ? nil : maxWidth)
        }
        return [
            "== \(several ? "Records" : "Record") \(title)",
            "",
            "== Identifiers",
            table(
                history.identifiers, record + ["source_system_key", "external_key", "first_seen_at", "last_seen_at"], maxWidth: 40),
            "",
            "== Current values",
            table(
                history.current,
                record + [
                    "aspect_key", "current_value", "ledger_id", "source_system_key", "ledger_status", "certified_by", "certified_at",
                    "pending_entries",
                ], maxWidth: 32),
            "",
            "== Ledger entries",
            table(
                history.entries,
                record + [
                    "ledger_id", "aspect_key", "source_system_key", "ledger_status", "value", "previous_value", "is_applied",
                    "recorded_at", "certified_by",
                ], maxWidth: 32),
            "",
            "== Events",
            table(
                history.events, ["event_id", "ledger_id", "aspect_key", "from_status", "to_status", "actor", "occurred_at", "notes"],
                maxWidth: 80),
        ].joined(separator: "\n")
    }
}
