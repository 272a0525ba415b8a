import Foundation
import PostgresNIO
import SyncLedgerCore
import SyncLedgerTestSupport
import Testing

@testable import SyncLedgerPostgres

/// SPEC §6 "Proofs against an outside copy": a checkpoint taken before the
/// tampering, kept outside the database, and `verify --checkpoint` after it.
/// Each case tampers as a superuser would, triggers off, and must be found
/// and named; legitimate work after the checkpoint must verify clean.
@Suite("Proofs: tampering against a checkpoint kept outside")
struct ProofTamperTests {
    /// Some history: hr creates five people, names and emails; birth dates
    /// held and certified by a steward; payroll overwrites an email; a
    /// revocation; then a checkpoint.
    static func history(_ db: TestDatabase) async throws -> Checkpoint {
        try await db.exec(Scenario.standard)
        try await db.exec("UPDATE integration.commit_policy SET authoritative_sources = '{}' WHERE field_name = 'family_name'")
        var items: [TestDatabase.Item] = []
        for n in 1...5 {
            items += [
                .set("E\(n)", "given_name", "Given \(n)"), .set("E\(n)", "family_name", "Family \(n)"),
                .set("E\(n)", "email", "e\(n)@example.org"), .set("E\(n)", "birth_date", "1980-01-0\(n)"),
            ]
        }
        try await db.submit(items: items)
        try await db.runWorker()
        for n in 1...5 {
            _ = try await db.stewardship.certify(try await db.entryID("birth_date", key: "E\(n)"), as: "alice", notes: "seen")
        }
        try await db.submit(items: (1...5).map { .set("E\($0)", "family_name", "Family \($0)-b") })
        try await db.runWorker()
        try await db.link("P1", source: "payroll", to: try await db.recordID("E1"), field: "email", value: "p1@example.org")
        _ = try await db.stewardship.certify(try await db.entryID("email", from: "payroll"), as: "bob")
        _ = try await db.stewardship.revoke(try await db.entryID("email", from: "payroll"), as: "alice", notes: "wrong person")
        let links = try await db.int("SELECT count(*) FROM integration.ledger_link")
        let checkpoint = try await Self.checkpoint(db, after: links - 1)
        #expect(checkpoint.treeSize == links)
        let clean = try await Verification.run(on: db.client, checkpoint: checkpoint, logger: db.logger)
        #expect(clean.isClean, "\(clean.firstFinding ?? "")")
        return checkpoint
    }

    /// A checkpoint that includes everything committed so far: a checkpoint
    /// appends only the links of transactions older than every transaction
    /// still running in the cluster (another test's, say), so it is taken
    /// again until the log has grown past `size`.
    static func checkpoint(_ db: TestDatabase, after size: Int) async throws -> Checkpoint {
        let proofs = LedgerProofs(client: db.client, logger: db.logger)
        var checkpoint = try await proofs.checkpoint()
        let deadline = ContinuousClock.now + .seconds(60)
        while checkpoint.treeSize <= size && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
            checkpoint = try await proofs.checkpoint()
        }
        return checkpoint
    }

    /// One tampering: SQL run as the superuser, triggers off, and the words
    /// the first finding must contain.
    struct Tamper: Sendable, CustomTestStringConvertible {
        var name: String
        var sql: String
        var finding: String
        var testDescription: String { name }
    }

    static let person = "(SELECT target_id FROM integration.identifier WHERE source_system_key = 'hr' AND external_key = 'E2')"

    static let cases: [Tamper] = [
        Tamper(
            name: "apply_seq swap: an older entry made the owner",
            sql: """
                UPDATE integration.ledger SET apply_seq = 1000000
                 WHERE ledger_id = (SELECT min(ledger_id) FROM integration.ledger WHERE target_id = \(person) AND aspect_key = 'family_name');
                UPDATE core.person SET family_name = 'Family 2' WHERE id = \(person);
                """, finding: "moved owner or clock"),
        Tamper(
            name: "is_applied flip: the owner unapplied",
            sql: """
                UPDATE integration.ledger SET is_applied = false
                 WHERE ledger_id = (SELECT max(ledger_id) FROM integration.ledger WHERE target_id = \(person) AND aspect_key = 'family_name');
                UPDATE core.person SET family_name = 'Family 2' WHERE id = \(person);
                """, finding: "moved owner or clock"),
        Tamper(
            name: "confirmed_at moved: the staleness clock reset",
            sql: """
                UPDATE integration.ledger SET confirmed_at = confirmed_at + interval '400 days'
                 WHERE ledger_id = (SELECT max(ledger_id) FROM integration.ledger WHERE target_id = \(person) AND aspect_key = 'given_name');
                """, finding: "moved owner or clock"),
        Tamper(
            name: "a certification erased, the head rewound, the log rebuilt",
            sql: """
                CREATE TEMP TABLE victim AS
                  SELECT e.event_id, e.ledger_id, e.chain_seq, l.target_table, l.target_id FROM integration.ledger_event e
                    JOIN integration.ledger l USING (ledger_id)
                   WHERE l.target_id = \(person) AND l.aspect_key = 'birth_date' AND e.actor = 'alice';
                DELETE FROM integration.ledger_event WHERE event_id = (SELECT event_id FROM victim);
                UPDATE integration.ledger SET ledger_status = 'Pending', is_applied = false, applied_at = NULL, apply_seq = NULL,
                       certified_at = NULL, certified_by = NULL, confirmed_at = NULL
                 WHERE ledger_id = (SELECT ledger_id FROM victim);
                UPDATE core.person SET birth_date = NULL WHERE id = \(person);
                DELETE FROM integration.ledger_link k USING victim v
                 WHERE k.target_table = v.target_table AND k.target_id = v.target_id AND k.chain_seq >= v.chain_seq;
                -- Every later element of the record goes too, and the head goes back to before the certification.
                DELETE FROM integration.ledger_event e USING integration.ledger l, victim v
                 WHERE e.ledger_id = l.ledger_id AND l.target_id = v.target_id AND e.chain_seq > v.chain_seq;
                UPDATE integration.ledger_chain c SET length = v.chain_seq - 1,
                       head = (SELECT x.chain_hash FROM (SELECT chain_seq, chain_hash FROM integration.ledger WHERE target_id = v.target_id
                                                          UNION ALL
                                                          SELECT e.chain_seq, e.chain_hash FROM integration.ledger_event e
                                                            JOIN integration.ledger l USING (ledger_id) WHERE l.target_id = v.target_id) x
                                WHERE x.chain_seq = v.chain_seq - 1)
                  FROM victim v WHERE c.target_id = v.target_id;
                DELETE FROM integration.ledger l USING victim v WHERE l.target_id = v.target_id AND l.chain_seq > v.chain_seq;
                UPDATE core.person p SET family_name = 'Family 2', given_name = 'Given 2', email = 'e2@example.org' WHERE id = \(person);
                TRUNCATE integration.merkle_leaf, integration.merkle_node, integration.merkle_checkpoint;
                SELECT integration.checkpoint();
                """, finding: "the checkpoint"),
        Tamper(
            name: "a direct INSERT into a target table",
            sql: "INSERT INTO core.person (given_name, salary) VALUES ('Mallory', 99999);",
            finding: "a governed value with no ledger entry"),
        Tamper(
            name: "everything truncated",
            sql: """
                TRUNCATE integration.ledger_event, integration.ledger, integration.ledger_chain, integration.source_order,
                         integration.sync_item, integration.sync_job, integration.ledger_link, integration.merkle_leaf,
                         integration.merkle_node, integration.merkle_checkpoint CASCADE;
                """, finding: "truncated"),
        Tamper(
            name: "the newest entry of a record deleted",
            sql: """
                DELETE FROM integration.ledger_event WHERE ledger_id = (SELECT max(ledger_id) FROM integration.ledger WHERE target_id = \(person));
                DELETE FROM integration.ledger WHERE ledger_id = (SELECT max(ledger_id) FROM integration.ledger WHERE target_id = \(person));
                """, finding: "truncated tail"),
        Tamper(
            name: "a value rewritten and every hash recomputed as docs/proofs.md says",
            sql: """
                UPDATE integration.ledger SET value = 'Forged'
                 WHERE ledger_id = (SELECT min(ledger_id) FROM integration.ledger WHERE target_id = \(person) AND aspect_key = 'given_name');
                UPDATE integration.ledger l SET row_hash = integration.stored_entry_digest(l)
                 WHERE ledger_id = (SELECT min(ledger_id) FROM integration.ledger WHERE target_id = \(person) AND aspect_key = 'given_name');
                UPDATE core.person SET given_name = 'Forged' WHERE id = \(person);
                DO $$
                DECLARE
                  r       record;
                  id      uuid := \(person);
                  prev    bytea := integration.chain_genesis('core.person', \(person));
                  fresh   bytea;
                BEGIN
                  FOR r IN SELECT x.chain_hash AS old, string_agg(x.row_hash, ''::bytea ORDER BY x.chain_seq) AS hashes
                             FROM (SELECT l.chain_seq, l.row_hash, l.chain_hash FROM integration.ledger l WHERE l.target_id = id
                                   UNION ALL
                                   SELECT e.chain_seq, e.row_hash, e.chain_hash FROM integration.ledger_event e
                                     JOIN integration.ledger l USING (ledger_id) WHERE l.target_id = id) x
                            GROUP BY x.chain_hash ORDER BY max(x.chain_seq) LOOP
                    fresh := sha256(prev || r.hashes);
                    UPDATE integration.ledger SET chain_hash = fresh WHERE target_id = id AND chain_hash = r.old;
                    UPDATE integration.ledger_event e SET chain_hash = fresh FROM integration.ledger l
                     WHERE l.ledger_id = e.ledger_id AND l.target_id = id AND e.chain_hash = r.old;
                    UPDATE integration.ledger_link SET link_hash = fresh WHERE target_id = id AND link_hash = r.old;
                    prev := fresh;
                  END LOOP;
                  UPDATE integration.ledger_chain SET head = prev WHERE target_id = id;
                END
                $$;
                TRUNCATE integration.merkle_leaf, integration.merkle_node, integration.merkle_checkpoint;
                SELECT integration.checkpoint();
                """, finding: "rewritten"),
        Tamper(
            name: "two entries' order swapped",
            sql: """
                CREATE TEMP TABLE pair AS
                  SELECT ledger_id, chain_seq FROM integration.ledger WHERE target_id = \(person) ORDER BY ledger_id LIMIT 2 OFFSET 1;
                UPDATE integration.ledger l SET chain_seq = (SELECT p.chain_seq FROM pair p WHERE p.ledger_id <> l.ledger_id)
                 WHERE l.ledger_id IN (SELECT ledger_id FROM pair);
                """, finding: "re-ordered"),
    ]

    @Test(arguments: cases)
    func tamperingIsFoundAgainstTheCheckpoint(_ tamper: Tamper) async throws {
        try await TestDatabase.with("tamper") { db in
            let checkpoint = try await Self.history(db)
            try await db.exec(
                """
                ALTER TABLE integration.ledger DISABLE TRIGGER USER;
                ALTER TABLE integration.ledger_event DISABLE TRIGGER USER;
                """)
            try await db.exec("SET session_replication_role = replica;\n" + tamper.sql + "\nRESET session_replication_role;")
            try await db.exec(
                """
                ALTER TABLE integration.ledger ENABLE TRIGGER USER;
                ALTER TABLE integration.ledger_event ENABLE TRIGGER USER;
                """)
            let result = try await Verification.run(on: db.client, checkpoint: checkpoint, logger: db.logger)
            #expect(!result.isClean, "\(tamper.name): not found")
            #expect(
                result.firstFinding?.contains(tamper.finding) == true,
                "\(tamper.name): first finding \(result.firstFinding ?? "none")")
        }
    }

    @Test func legitimateWorkAfterTheCheckpointVerifiesClean() async throws {
        try await TestDatabase.with { db in
            let checkpoint = try await Self.history(db)
            // Jobs, certify, revoke, prune, and a later checkpoint.
            try await db.submit(items: (1...5).map { .set("E\($0)", "family_name", "Family \($0)-c") } + [.set("E9", "email", "n@example.org")])
            try await db.runWorker()
            try await db.submit(items: [.set("E3", "birth_date", "1999-09-09")])
            try await db.runWorker()
            let held = try await db.entryID("birth_date", key: "E3")
            _ = try await db.stewardship.certify(held, as: "bob")
            _ = try await db.stewardship.revoke(held, as: "alice")
            _ = try await db.rows("SELECT * FROM integration.prune_jobs(interval '0 seconds')")
            let mid = try await Verification.run(on: db.client, checkpoint: checkpoint, logger: db.logger)
            #expect(mid.isClean, "\(mid.firstFinding ?? "")")
            let later = try await Self.checkpoint(db, after: checkpoint.treeSize)
            #expect(later.treeSize > checkpoint.treeSize)
            let after = try await Verification.run(on: db.client, checkpoint: checkpoint, logger: db.logger)
            #expect(after.isClean, "\(after.firstFinding ?? "")")
            let againstLater = try await Verification.run(on: db.client, checkpoint: later, logger: db.logger)
            #expect(againstLater.isClean, "\(againstLater.firstFinding ?? "")")
        }
    }

    @Test func anInclusionProofVerifiesOfflineAndFailsAgainstAnythingElse() async throws {
        try await TestDatabase.with { db in
            let checkpoint = try await Self.history(db)
            let proofs = LedgerProofs(client: db.client, logger: db.logger)
            // A steward's certification with notes in its event, and values with
            // spaces, commas and quotes in the entry: the row literal quotes them.
            let id = try await db.entryID("family_name", key: "E2")
            let document = try await proofs.prove(id, in: checkpoint)
            try document.verify(against: checkpoint)

            // Through JSON and back, as an auditor receives it.
            let decoded = try ProofJSON.decode(ProofDocument.self, from: try ProofJSON.encode(document))
            try decoded.verify(against: checkpoint)

            // Another checkpoint: refused.
            try await db.submit(items: [.set("E1", "family_name", "Other, \"quoted\" (name)")])
            try await db.runWorker()
            let later = try await Self.checkpoint(db, after: checkpoint.treeSize)
            #expect(later.treeSize > checkpoint.treeSize)
            #expect(throws: (any Error).self) { try document.verify(against: later) }
            // The later one proves the new entry, whose value needs quoting.
            try await proofs.prove(try await db.entryID("family_name", key: "E1"), in: later).verify(against: later)

            // One hash changed: refused.
            var tamperedPath = document
            if !tamperedPath.inclusion.path.isEmpty {
                tamperedPath.inclusion.path[0] = Digest(bytes: [UInt8](repeating: 7, count: 32))!
                #expect(throws: (any Error).self) { try tamperedPath.verify(against: checkpoint) }
            }
            var tamperedEntry = document
            tamperedEntry.entry.entry.value = "Forged"
            #expect(throws: (any Error).self) { try tamperedEntry.verify(against: checkpoint) }
            var tamperedRow = document
            tamperedRow.entry.link.elements[0].rowHash = Digest(bytes: [UInt8](repeating: 1, count: 32))!
            #expect(throws: (any Error).self) { try tamperedRow.verify(against: checkpoint) }
        }
    }

    @Test func theCommandLineTakesCheckpointsProvesAndVerifies() async throws {
        try await TestDatabase.with { db in
            _ = try await Self.history(db)
            let env = ["DATABASE_URL": CommandRun.databaseURL(db.url)]
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("proofs-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let file = directory.appendingPathComponent("checkpoint.json").path
            let taken = try await CommandRun.run(["checkpoint", "--out", file], environment: env)
            #expect(taken.status == 0, "\(taken)")
            #expect(taken.stdout.contains("\"tree_size\""))
            let id = try await db.entryID("birth_date", key: "E4")
            let proved = try await CommandRun.run(["prove", String(id), "--checkpoint", file], environment: env)
            #expect(proved.status == 0, "\(proved)")
            let proofFile = directory.appendingPathComponent("proof.json").path
            try Data(proved.stdout.utf8).write(to: URL(fileURLWithPath: proofFile))
            // No database for the offline check.
            let offline = try await CommandRun.run(["verify-proof", proofFile, "--checkpoint", file])
            #expect(offline.status == 0, "\(offline)")
            #expect(offline.stdout.hasPrefix("the proof holds: ledger entry \(id)"))
            let clean = try await CommandRun.run(["verify", "--checkpoint", file], environment: env)
            #expect(clean.status == 0, "\(clean)")

            try await db.exec(
                """
                ALTER TABLE integration.ledger DISABLE TRIGGER USER;
                UPDATE integration.ledger SET is_applied = false WHERE ledger_id = \(id);
                ALTER TABLE integration.ledger ENABLE TRIGGER USER;
                """)
            let caught = try await CommandRun.run(["verify", "--checkpoint", file], environment: env)
            #expect(caught.status == 1, "\(caught)")
            #expect(caught.stderr.contains("first finding: moved owner or clock"), "\(caught)")
        }
    }
}
