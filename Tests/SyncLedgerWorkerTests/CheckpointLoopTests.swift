import Foundation
import SyncLedgerTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `syncledger worker --checkpoint-every`: checkpoints of the Merkle log on a
/// schedule, each logged as JSON for a log shipper to carry outside.
@Suite("Worker: checkpoints on a schedule")
struct CheckpointLoopTests {
    @Test(.timeLimit(.minutes(3)))
    func aWorkerTakesCheckpointsOnItsScheduleAndLogsThem() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await db.submit(items: (1...20).map { .set("E\($0)", "given_name", "G\($0)") })
            let worker = try WorkerProcess(
                id: "checkpointer", url: db.url, arguments: ["--checkpoint-every", "1s", "--poll-interval-seconds", "1"])
            let deadline = ContinuousClock.now + .seconds(90)
            while ContinuousClock.now < deadline {
                let covered = try await db.int(
                    "SELECT count(*) FROM integration.merkle_checkpoint WHERE tree_size >= (SELECT count(*) FROM integration.ledger_link)")
                if covered > 0 && worker.log.contains("checkpoint taken") { break }
                try await Task.sleep(for: .milliseconds(200))
            }
            worker.signal(SIGTERM)
            #expect(await worker.waitForExit(timeout: .seconds(60)) == 0, "\(worker.log.suffix(2000))")
            let links = try await db.int("SELECT count(*) FROM integration.ledger_link")
            #expect(links > 0)
            #expect(try await db.int("SELECT max(tree_size) FROM integration.merkle_checkpoint") == links)
            #expect(worker.log.contains("checkpoint taken"), "\(worker.log.suffix(2000))")
            #expect(worker.log.contains("\\\"tree_size\\\"") || worker.log.contains("\"tree_size\""), "\(worker.log.suffix(2000))")
        }
    }
}
