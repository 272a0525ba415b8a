import Foundation
import PostgresNIO
import SyncLedgerPostgres
import SyncLedgerTestSupport
import Testing

/// An item's job (code/20_jobs.sql, "An item's job"): what a foreign key from
/// `sync_item.job_id` said, checked once per statement. Every refusal carries
/// SQLSTATE 23503 as a foreign key's would, and changes nothing; the races a
/// foreign key's locks settle are forced both ways and then run at random.
@Suite("An item's job: checked per statement, with a foreign key's locks")
struct ItemJobReferenceTests {
    static var rounds: Int { Int(ProcessInfo.processInfo.environment["SYNCLEDGER_STRESS_ROUNDS"] ?? "") ?? 2 }

    static let orphans = "SELECT count(*) FROM integration.sync_item i WHERE NOT EXISTS (SELECT FROM integration.sync_job j WHERE j.job_id = i.job_id)"

    static func newJob(_ db: TestDatabase) async throws -> Int64 {
        Int64(try await db.int("INSERT INTO integration.sync_job (source_system_key, entity_type) VALUES ('hr', 'core.person') RETURNING job_id"))
    }

    static func insertItems(_ connection: PostgresConnection, job: Int64, count: Int, logger: Logger) async throws {
        try await connection.query(
            """
            INSERT INTO integration.sync_item (job_id, seq, external_key, field_name, new_value)
            SELECT \(job), n, 'E' || n, 'given_name', 'Ada' FROM generate_series(1, \(count)) n
            """, logger: logger)
    }

    @Test func itemsOfAJobThatDoesNotExistAreRefusedAndNothingIsAdded() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let job = try await Self.newJob(db)
            let missing = job + 1000
            // One statement, items of an existing job and of a missing one: all refused.
            await expectRefusal("23503", "items of job \(missing) cannot be added: job \(missing) does not exist") {
                try await db.exec(
                    """
                    INSERT INTO integration.sync_item (job_id, seq, external_key, field_name, new_value)
                    VALUES (\(job), 1, 'E1', 'given_name', 'Ada'), (\(missing), 1, 'E2', 'given_name', 'Bob')
                    """)
            }
            #expect(try await db.int("SELECT count(*) FROM integration.sync_item") == 0)
            // The same items of the existing job alone are added.
            try await db.exec("INSERT INTO integration.sync_item (job_id, seq, external_key, field_name, new_value) VALUES (\(job), 1, 'E1', 'given_name', 'Ada')")
            #expect(try await db.int("SELECT count(*) FROM integration.sync_item WHERE job_id = \(job)") == 1)
        }
    }

    @Test func anUpstreamAddingItemsToAJobThatDoesNotExistIsToldSoWithNothingOfOthers() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let theirs = try await Self.newJob(db)  // some other job exists; the upstream's statement names one that does not
            try await withLoginRole(db, "hr_loader", in: ["syncledger_upstream"], for: "hr") { client, _ in
                let job = try await client.query(
                    "INSERT INTO integration.sync_job (source_system_key, entity_type) VALUES ('hr', 'core.person') RETURNING job_id",
                    logger: db.logger
                ).collect().first?.decode(Int64.self) ?? 0
                try await client.query(
                    "INSERT INTO integration.sync_item (job_id, seq, external_key, field_name, new_value) VALUES (\(job), 1, 'E1', 'given_name', 'Ada')",
                    logger: db.logger)
                #expect(job != theirs)
            }
            #expect(try await db.int("SELECT count(*) FROM integration.sync_item") == 1)
            #expect(try await db.int(PostgresQuery(unsafeSQL: Self.orphans)) == 0)
        }
    }

    @Test func aJobWithItemsCannotBeDeletedOrTruncatedAloneAndIdsNeverChange() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let job = try await db.submit(items: [.set("E1", "given_name", "Ada"), .set("E2", "given_name", "Bob")])
            let other = try await db.submit(items: [.set("E3", "given_name", "Cy")])
            let empty = try await Self.newJob(db)

            await expectRefusal("23503", "job \(job) cannot be deleted: it still has items") {
                try await db.exec("DELETE FROM integration.sync_job WHERE job_id IN (\(empty), \(job))")
            }
            await expectRefusal("23503", "sync_job cannot be truncated without sync_item") {
                try await db.exec("TRUNCATE integration.sync_job")
            }
            await expectRefusal("23503", "an item's job never changes") {
                try await db.exec("UPDATE integration.sync_item SET job_id = \(other) WHERE job_id = \(job)")
            }
            await expectRefusal("23503", "job \(empty) keeps its job_id") {
                try await db.exec("UPDATE integration.sync_job SET job_id = \(empty + 1000) WHERE job_id = \(empty)")
            }
            // A REPEATABLE READ snapshot could not see items added meanwhile: refused there.
            await expectRefusal("23503", "jobs are deleted at READ COMMITTED, not REPEATABLE READ") {
                try await db.client.withConnection { connection in
                    try await connection.query("BEGIN ISOLATION LEVEL REPEATABLE READ", logger: db.logger)
                    do {
                        try await connection.query("DELETE FROM integration.sync_job WHERE job_id = \(empty)", logger: db.logger)
                    } catch {
                        try await connection.query("ROLLBACK", logger: db.logger)
                        throw error
                    }
                    try await connection.query("COMMIT", logger: db.logger)
                }
            }
            #expect(try await db.int("SELECT count(*) FROM integration.sync_job") == 3, "every refusal changed nothing")
            #expect(try await db.rows("SELECT job_id::text, count(*)::text FROM integration.sync_item GROUP BY 1 ORDER BY 1")
                    == [["\(job)", "2"], ["\(other)", "1"]])

            // What is allowed: an empty job, a job after its items, both tables at once.
            try await db.exec("DELETE FROM integration.sync_job WHERE job_id = \(empty)")
            try await db.exec("DELETE FROM integration.sync_item WHERE job_id = \(other); DELETE FROM integration.sync_job WHERE job_id = \(other)")
            try await db.exec("TRUNCATE integration.sync_job, integration.sync_item")
            #expect(try await db.int("SELECT count(*) FROM integration.sync_job") == 0)
        }
    }

    /// Items being added hold their job: a deletion waits for them, then
    /// fails; a deletion in flight makes the insert wait, then fail.
    @Test func aDeletionAndAnInsertOnOneJobWaitForEachOtherAndNeverLeaveOrphans() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let logger = db.logger

            // 1. The insert first: the deletion waits for its commit, then sees the items.
            let first = try await Self.newJob(db)
            let deleted: Result<Void, any Error> = try await withThrowingTaskGroup(of: Result<Void, any Error>.self) { group in
                try await db.client.withConnection { inserter in
                    try await inserter.query("BEGIN", logger: logger)
                    try await Self.insertItems(inserter, job: first, count: 50, logger: logger)
                    group.addTask {
                        do { try await db.exec("DELETE FROM integration.sync_job WHERE job_id = \(first)"); return .success(()) } catch { return .failure(error) }
                    }
                    #expect(try await StewardshipTests.aSessionWaitsForALock(db), "the deletion never waited for the insert")
                    try await inserter.query("COMMIT", logger: logger)
                }
                return try await group.next() ?? .success(())
            }
            #expect(deleted.failure.flatMap { PostgresErrors.sqlState($0) }?.code == "23503", "the deletion after the insert: \(String(describing: deleted.failure))")
            #expect(try await db.int("SELECT count(*) FROM integration.sync_item WHERE job_id = \(first)") == 50)
            #expect(try await db.int("SELECT count(*) FROM integration.sync_job WHERE job_id = \(first)") == 1)

            // 2. The deletion first: the insert waits for its commit, then finds no job.
            let second = try await Self.newJob(db)
            let inserted: Result<Void, any Error> = try await withThrowingTaskGroup(of: Result<Void, any Error>.self) { group in
                try await db.client.withConnection { deleter in
                    try await deleter.query("BEGIN", logger: logger)
                    try await deleter.query("DELETE FROM integration.sync_job WHERE job_id = \(second)", logger: logger)
                    group.addTask {
                        do {
                            try await db.client.withConnection { try await Self.insertItems($0, job: second, count: 50, logger: logger) }
                            return .success(())
                        } catch { return .failure(error) }
                    }
                    #expect(try await StewardshipTests.aSessionWaitsForALock(db), "the insert never waited for the deletion")
                    try await deleter.query("COMMIT", logger: logger)
                }
                return try await group.next() ?? .success(())
            }
            #expect(inserted.failure.flatMap { PostgresErrors.sqlState($0) }?.code == "23503", "the insert after the deletion: \(String(describing: inserted.failure))")
            #expect(try await db.int("SELECT count(*) FROM integration.sync_item WHERE job_id = \(second)") == 0)
            #expect(try await db.int(PostgresQuery(unsafeSQL: Self.orphans)) == 0)
        }
    }

    /// Inserters and deleters at once on the same jobs, several rounds: on
    /// each job exactly one of them wins, and no item is ever left without
    /// its job.
    @Test func insertsAndDeletionsAtOnceNeverLeaveAnItemWithoutItsJob() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let logger = db.logger
            for round in 1...max(Self.rounds, 2) {
                var jobs: [Int64] = []
                for _ in 0..<8 { jobs.append(try await Self.newJob(db)) }
                let outcomes = try await withThrowingTaskGroup(of: (Int64, String, Bool).self) { group in
                    for job in jobs {
                        group.addTask {
                            do {
                                try await db.client.withConnection { try await Self.insertItems($0, job: job, count: 200, logger: logger) }
                                return (job, "insert", true)
                            } catch {
                                #expect(PostgresErrors.sqlState(error)?.code == "23503", "\(String(reflecting: error))")
                                return (job, "insert", false)
                            }
                        }
                        group.addTask {
                            do {
                                try await db.exec("DELETE FROM integration.sync_job WHERE job_id = \(job)")
                                return (job, "delete", true)
                            } catch {
                                #expect(PostgresErrors.sqlState(error)?.code == "23503", "\(String(reflecting: error))")
                                return (job, "delete", false)
                            }
                        }
                    }
                    return try await group.reduce(into: [(Int64, String, Bool)]()) { $0.append($1) }
                }
                for job in jobs {
                    let won = outcomes.filter { $0.0 == job && $0.2 }.map(\.1)
                    #expect(won.count == 1, "round \(round), job \(job): \(won)")
                    let items = try await db.int("SELECT count(*) FROM integration.sync_item WHERE job_id = \(job)")
                    let exists = try await db.int("SELECT count(*) FROM integration.sync_job WHERE job_id = \(job)")
                    #expect(won == ["insert"] ? (items == 200 && exists == 1) : (items == 0 && exists == 0), "round \(round), job \(job)")
                }
                #expect(try await db.int(PostgresQuery(unsafeSQL: Self.orphans)) == 0, "round \(round)")
            }
        }
    }
}

extension Result {
    fileprivate var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
