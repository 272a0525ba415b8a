import Logging
import PostgresNIO

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

    /// Whether nothing was found.
    public var isClean: Bool { violations.rows.isEmpty && findings.rows.isEmpty }

    /// Runs both checks on one connection, in one read-only transaction (one snapshot).
    public static func run(on client: PostgresClient, logger: Logger) async throws -> Verification {
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
            return Verification(violations: violations, findings: findings, anchor: anchor)
        }
    }
}
