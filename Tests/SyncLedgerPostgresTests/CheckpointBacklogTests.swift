import Foundation
import PostgresNIO
import SyncLedgerCore
import SyncLedgerPostgres
import SyncLedgerTestSupport
import Testing

/// A backlog of links is checkpointed in bounded calls of whole
/// transactions, each a valid checkpoint, until the log has caught up: the
/// first checkpoint of a large ledger never runs into a statement timeout.
@Suite("Checkpoints take a backlog in bounded calls")
struct CheckpointBacklogTests {
    @Test func aBacklogIsTakenInWholeTransactionsAndEachStepIsAValidCheckpoint() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            // Three jobs, each its own transactions: links of several transactions.
            for round in 1...3 {
                try await db.submit(items: (1...4).map { .set("E\($0)", "family_name", "Family \($0)-\(round)") })
                try await db.runWorker()
            }
            let links = try await db.int("SELECT count(*) FROM integration.ledger_link")
            let transactions = try await db.int("SELECT count(DISTINCT txid) FROM integration.ledger_link")
            #expect(transactions >= 3)

            // The horizon is the cluster's: wait until every transaction that
            // wrote links is older than the oldest one still running (another
            // test's transaction may hold it back for a moment).
            for _ in 0..<600 {
                let passed = try await db.int(
                    "SELECT (pg_snapshot_xmin(pg_current_snapshot()) > (SELECT max(txid) FROM integration.ledger_link))::int")
                if passed == 1 { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            // One link at a time at most: the first transaction whole, then stop.
            let first = try await db.rows("SELECT tree_size::text, links_added::text, complete::text FROM integration.checkpoint(1)")
            let firstTransaction = try await db.int(
                "SELECT count(*) FROM integration.ledger_link WHERE txid = (SELECT min(txid) FROM integration.ledger_link)")
            #expect(first == [["\(firstTransaction)", "\(firstTransaction)", "false"]])
            let step = try await Self.latest(db)
            #expect(step.treeSize == firstTransaction)

            // The command's way: repeated until complete, every link in the log.
            let proofs = LedgerProofs(client: db.client, logger: db.logger)
            let caughtUp = try await Self.until(links, proofs)
            #expect(caughtUp.treeSize == links)
            // The ledger extends the partial checkpoint, and the full one.
            for checkpoint in [step, caughtUp] {
                let report = try await Verification.run(on: db.client, checkpoint: checkpoint, logger: db.logger)
                #expect(report.isClean, "\(report.firstFinding ?? "")")
            }
        }
    }

    /// The newest checkpoint recorded, as a checkpoint to verify against.
    static func latest(_ db: TestDatabase) async throws -> Checkpoint {
        let row = try await db.rows(
            """
            SELECT tree_size::text, encode(root, 'hex'),
                   to_char(taken_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), current_database()
              FROM integration.merkle_checkpoint ORDER BY tree_size DESC LIMIT 1
            """)[0]
        return Checkpoint(
            treeSize: Int(row[0] ?? "") ?? -1, root: Digest(hex: row[1] ?? "")!, time: RFC3339Time.date(from: row[2] ?? "")!,
            origin: row[3])
    }

    /// Checkpoints until the log holds `links` (a transaction of another
    /// test still running holds the horizon back for a moment).
    static func until(_ links: Int, _ proofs: LedgerProofs) async throws -> Checkpoint {
        var checkpoint = try await proofs.checkpoint()
        let deadline = ContinuousClock.now + .seconds(60)
        while checkpoint.treeSize < links && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
            checkpoint = try await proofs.checkpoint()
        }
        return checkpoint
    }
}
