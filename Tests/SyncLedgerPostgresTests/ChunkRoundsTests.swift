import Foundation
import SyncLedgerTestSupport
import Testing

@testable import SyncLedgerPostgres

/// Items of one aspect in one chunk are decided one after the other, each on
/// what the database says after the ones before it (SPEC §2: one record's
/// items apply in order; "unchanged" compared on the column's type).
@Suite("Chunks: items of one aspect in order, compared on the column's type")
struct ChunkRoundsTests {
    static let measurements = """
        CREATE TABLE core.measurement (
          id uuid PRIMARY KEY DEFAULT gen_random_uuid(), reading numeric, taken_at timestamptz, note text,
          is_active boolean NOT NULL DEFAULT true);
        INSERT INTO integration.target_table (target_table, active_column) VALUES ('core.measurement', 'is_active');
        INSERT INTO integration.commit_policy (target_table, field_name, commit_mode, auto_certify) VALUES
          ('core.measurement', NULL, 'OnIngest', true),
          ('core.measurement', 'reading', 'OnIngest', true),
          ('core.measurement', 'taken_at', 'OnIngest', true),
          ('core.measurement', 'note', 'OnCertify', false);
        """

    static func worker(_ db: TestDatabase) async throws {
        try await db.runWorker { $0.parallelChunks = 1 }
    }

    /// 1.0 then 1.00 of a numeric, and one instant in two time zones: the
    /// second of each pair equals the first on the column's type, in the same
    /// chunk as across chunks.
    @Test func equalValuesInOtherSpellingsAreUnchangedWithinAChunk() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await db.exec(Self.measurements)
            let job = try await db.submit(
                entity: "core.measurement",
                items: [
                    .set("M1", "reading", "1.0"), .set("M1", "reading", "1.00"),
                    .set("M1", "taken_at", "2026-01-02 10:00:00+00"), .set("M1", "taken_at", "2026-01-02 11:00:00+01"),
                    .set("M1", "reading", "1.5"), .set("M1", "reading", "1.50"),
                ])
            try await Self.worker(db)
            let results = try await db.itemResults(job)
            #expect(results.map(\.status) == ["Applied", "Skipped", "Applied", "Skipped", "Applied", "Skipped"])
            #expect(results[1].message == "skipped: unchanged; the target already holds this value")
            #expect(results[3].message == "skipped: unchanged; the target already holds this value")
            #expect(try await db.text("SELECT reading::text FROM core.measurement") == "1.5")
            #expect(try await db.int("SELECT count(*) FROM integration.ledger WHERE aspect_key = 'reading'") == 2)
            #expect(try await db.provenanceViolations().isEmpty)
            #expect(try await db.chainFindings().isEmpty)
        }
    }

    /// A value held for a steward, sent again in the same chunk, folds into
    /// the waiting entry; another value waits beside it.
    @Test func aHeldValueSentTwiceInAChunkWaitsOnce() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await db.exec(Self.measurements)
            let job = try await db.submit(
                entity: "core.measurement",
                items: [.set("M1", "note", "checked"), .set("M1", "note", "checked"), .set("M1", "note", "re-checked")])
            try await Self.worker(db)
            let results = try await db.itemResults(job)
            #expect(results.map(\.status) == ["Held", "Skipped", "Held"])
            let first = try await db.int("SELECT ledger_id FROM integration.ledger WHERE value = 'checked'")
            #expect(results[1].message?.contains("held duplicate; ledger entry \(first) from 'hr'") == true)
            #expect(try await db.int("SELECT count(*) FROM integration.ledger WHERE aspect_key = 'note' AND ledger_status = 'Pending'") == 2)
            #expect(try await db.text("SELECT note FROM core.measurement") == nil)
        }
    }

    /// Two sources' keys for one person, claimed together and processed in
    /// one chunk: payroll's value is decided after hr's, as if the jobs had
    /// run one after the other. Decided on the same facts, both would apply
    /// and the lower-ranked source would own the name.
    @Test func twoSourcesKeysOfOneRecordInOneChunkAreDecidedInOrder() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await db.submit(items: [.set("E1", "family_name", "Okafor")])
            try await Self.worker(db)
            let amara = try #require(try await db.text("SELECT target_id::text FROM integration.identifier WHERE external_key = 'E1'"))
            let link = try await db.submit(source: "payroll", items: [
                DatabaseItem(key: "P1", field: "family_name", value: "Okafor", hint: UUID(uuidString: amara))
            ])
            try await Self.worker(db)
            #expect(try await db.itemResults(link).map(\.status) == ["Skipped"])

            let hr = try await db.submit(items: [.set("E1", "given_name", "Amara")])
            let payroll = try await db.submit(source: "payroll", items: [.set("P1", "given_name", "Amy")])
            try await Self.worker(db)
            #expect(try await db.itemResults(hr).map(\.status) == ["Applied"])
            let held = try await db.itemResults(payroll)
            #expect(held.map(\.status) == ["Held"])
            #expect(held.first?.message == "held: the current value from 'hr' outranks this source and is not stale")
            #expect(try await db.person("E1", "given_name") == "Amara")
            #expect(try await db.provenanceViolations().isEmpty)
        }
    }
}

typealias DatabaseItem = TestDatabase.Item
