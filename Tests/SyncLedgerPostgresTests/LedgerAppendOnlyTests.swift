import Foundation
import PostgresNIO
import SyncLedgerTestSupport
import Testing

@testable import SyncLedgerPostgres

@Suite("The ledger is append-only, superusers included")
struct LedgerAppendOnlyTests {
    /// A database with a few ledger rows and events.
    static func withLedger(_ label: String = #function, _ body: @Sendable @escaping (TestDatabase) async throws -> Void) async throws {
        try await TestDatabase.with(label) { db in
            try await db.exec(Scenario.standard)
            try await db.submit(items: [.set("E1", "given_name", "Ada"), .set("E1", "birth_date", "1990-1-2")])
            try await db.runWorker()
            #expect(try await db.text("SELECT rolsuper::text FROM pg_roles WHERE rolname = current_user") == "true")
            try await body(db)
        }
    }

    /// Counts of ledger rows and events.
    static func counts(_ db: TestDatabase) async throws -> [Int] {
        [
            try await db.int("SELECT count(*) FROM integration.ledger"),
            try await db.int("SELECT count(*) FROM integration.ledger_event"),
        ]
    }

    @Test func deleteAndTruncateAreRefusedNamingTheLedger() async throws {
        try await Self.withLedger { db in
            // The held birth date, certified by a steward: an event.
            _ = try await db.stewardship.certify(try await db.entryID("birth_date"), as: "alice")
            let before = try await Self.counts(db)
            #expect(before == [3, 1])
            for statement: PostgresQuery in [
                "DELETE FROM integration.ledger",
                "DELETE FROM integration.ledger WHERE false",
                "TRUNCATE integration.ledger CASCADE",
            ] {
                await expectRefusal("SL001", "integration.ledger is append-only") {
                    try await db.client.query(statement, logger: db.logger)
                }
            }
            await expectRefusal("SL001", "DELETE is refused") {
                try await db.client.query("DELETE FROM integration.ledger", logger: db.logger)
            }
            await expectRefusal("SL001", "integration.ledger_event is append-only") {
                try await db.client.query("DELETE FROM integration.ledger_event", logger: db.logger)
            }
            await expectRefusal("SL001", "integration.ledger_event is append-only: UPDATE is refused") {
                try await db.client.query("UPDATE integration.ledger_event SET actor = 'mallory'", logger: db.logger)
            }
            // Replication mode does not switch the refusal off.
            await expectRefusal("SL001", "integration.ledger is append-only") {
                try await db.client.transaction(logger: db.logger) { conn in
                    try await conn.query("SET LOCAL session_replication_role = replica", logger: db.logger)
                    try await conn.query("DELETE FROM integration.ledger", logger: db.logger)
                }
            }
            #expect(try await Self.counts(db) == before)
            #expect(try await db.provenanceViolations().isEmpty)
        }
    }

    /// Only code running as the ledger's owner (the SECURITY DEFINER steward
    /// and worker functions) may change a ledger row; a role that holds UPDATE
    /// on the table is refused, whatever it sets, and even the owner changes
    /// only the columns that record what happened later, forward.
    @Test func updatesByAnyoneButTheFunctionsOwnerAreRefused() async throws {
        try await Self.withLedger { db in
            let held = try await db.entryID("birth_date")
            let owned = try await db.entryID("given_name")
            let name = "updater_\(UUID().uuidString.prefix(8).lowercased())"
            try await db.exec(
                """
                CREATE ROLE \(name) LOGIN;
                GRANT USAGE ON SCHEMA integration TO \(name);
                GRANT SELECT, UPDATE ON integration.ledger TO \(name);
                """)
            var login = db.url
            login.username = name
            try await Database.withClient(login, maximumConnections: 1, logger: db.logger) { client in
                for statement: PostgresQuery in [
                    "UPDATE integration.ledger SET ledger_status = 'Certified' WHERE ledger_id = \(held)",
                    "UPDATE integration.ledger SET confirmed_at = now() + interval '10 years' WHERE ledger_id = \(owned)",
                ] {
                    // The placeholder setting that once opened the guard opens nothing.
                    await expectRefusal("SL001", "integration.ledger is append-only: UPDATE is refused") {
                        try await client.transaction(logger: db.logger) { conn in
                            try await conn.query("SELECT set_config('integration.ledger_writer', 'steward', true)", logger: db.logger)
                            try await conn.query(statement, logger: db.logger)
                        }
                    }
                }
            }
            try await db.exec("DROP OWNED BY \(name); DROP ROLE \(name)")

            // The owner: history columns never change ...
            await expectRefusal("SL002", "UPDATE of value is refused") {
                try await db.client.query("UPDATE integration.ledger SET value = 'x' WHERE ledger_id = \(held)", logger: db.logger)
            }
            // ... and statuses move only forward.
            _ = try await db.stewardship.reject(held, as: "alice")
            await expectRefusal("SL003", "status transition Rejected → Pending is refused") {
                try await db.client.query(
                    "UPDATE integration.ledger SET ledger_status = 'Pending' WHERE ledger_id = \(held)", logger: db.logger)
            }
            #expect(try await db.entry(held) == ["Rejected", "false", nil])
            #expect(try await db.provenanceViolations().isEmpty)
            #expect(try await db.int("SELECT count(*) FROM integration.verify_ledger()") == 0)
        }
    }
}
