import Logging
import PostgresNIO
import SyncLedgerCore

/// What `syncledger verify` checks: the provenance invariant
/// (`integration.provenance_violations()`, SPEC §2) and the ledger's hash
/// chain and history (`integration.verify_ledger()`, SPEC §6), with the
/// anchor to keep outside the database (`integration.ledger_anchor()`).
public struct Verification: Sendable {
    /// Governed values the ledger does not explain (`violation` is
    /// `mismatch` or `orphan`).
    public var violations: Listing
    /// Findings of the chain check (`finding` is `content`, `order`, `link`,
    /// `absence` or `state`), each naming the entry.
    public var findings: Listing
    /// `records`, `elements` and `anchor`: a digest over every record's chain
    /// head; record it elsewhere and compare later.
    public var anchor: Listing
    /// Findings of the Merkle log against the ledger (`integration.verify_log()`):
    /// `finding` (`log`) and `detail`.
    public var log: Listing
    /// With a checkpoint: nil when today's log extends it (a consistency
    /// proof), else what is wrong.
    public var consistency: String?

    /// Whether nothing was found.
    public var isClean: Bool { violations.rows.isEmpty && findings.rows.isEmpty && log.rows.isEmpty && consistency == nil }

    /// The first finding, named for a person: what kind of tampering it points at.
    public var firstFinding: String? {
        if let consistency { return consistency }
        if let kind = findings.value("finding") {
            let named =
                switch kind {
                case "state": "moved owner or clock: an entry's state is not what its hashed history says"
                case "content": "rewritten history: an entry or event no longer matches its row hash"
                case "order": "re-ordered or deleted elements in a record's chain"
                case "link": "a chain link that does not recompute (elements re-ordered, rewritten or removed)"
                case "absence": "truncated tail: the newest elements of a record's chain are missing"
                default: kind
                }
            return "\(named) (\(findings.value("target_table") ?? "") \(findings.value("target_id") ?? ""), ledger entry "
                + "\(findings.value("ledger_id") ?? "-")): \(findings.value("detail") ?? "")"
        }
        if let violation = violations.value("violation") {
            return "\(violation == "orphan" ? "a governed value with no ledger entry" : "a value that is not its owner's") "
                + "(\(violations.value("target_table") ?? "") \(violations.value("target_id") ?? "") \(violations.value("aspect_key") ?? ""))"
        }
        if let detail = log.value("detail") { return "the Merkle log: \(detail)" }
        return nil
    }

    /// Runs the checks on one connection, in one read-only transaction (one
    /// snapshot); with `checkpoint`, also proves that the log extends it.
    public static func run(on client: PostgresClient, checkpoint: Checkpoint? = nil, logger: Logger) async throws -> Verification {
        try await client.transaction(.readOnlySnapshot, logger: logger) { conn in
            let violations = try await Listing.query(
                """
                SELECT violation, target_table, target_id, aspect_key, current_value, expected_value, ledger_id
                  FROM integration.provenance_violations()
                """, on: conn, logger: logger)
            let findings = try await Listing.query(
                "SELECT finding, target_table, target_id, ledger_id, event_id, detail FROM integration.verify_ledger()",
                on: conn, logger: logger)
            let anchor = try await Listing.query(
                "SELECT records, elements, anchor FROM integration.ledger_anchor()", on: conn, logger: logger)
            let log = try await Listing.query("SELECT finding, detail FROM integration.verify_log()", on: conn, logger: logger)
            var consistency: String?
            if let checkpoint {
                consistency = try await LedgerProofs.consistency(with: checkpoint, on: conn, logger: logger)
            }
            return Verification(
                violations: violations, findings: findings, anchor: anchor,
                log: log.rows.isEmpty ? Listing(columns: [.init("finding"), .init("detail")], rows: []) : log,
                consistency: consistency)
        }
    }
}
